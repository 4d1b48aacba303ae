/**
 * The one definition of the recalculation pipeline: the ordered steps, what each takes and returns
 * (where its result goes in the state), which are warehouse (Athena) tasks, the Distributed Map over
 * the summary parts, retries and the failure path. The CDK construct builds its state machine from
 * it and the local runner executes it with the same handlers and JSON payloads.
 */
/** Lambda handlers, exported under these names by `functions/recalc/handler.ts`. */
export const RECALC_HANDLERS = [
  'acquireLock',
  'prepare',
  'selectData',
  'planRun',
  'fitModels',
  'scorePart',
  'finalize',
  'sendChangeEvents',
  'releaseLock',
  'executionEnded',
] as const;
export type RecalcHandlerName = (typeof RECALC_HANDLERS)[number];

/** Execution statuses that end a run without its release step having run for sure. */
export const UNFINISHED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type UnfinishedExecutionStatus = (typeof UNFINISHED_EXECUTION_STATUSES)[number];

/** A Step Functions retry rule (the local runner applies the same rules to the same error names). */
export interface RetryRule {
  errors: readonly string[];
  intervalSeconds: number;
  maxAttempts: number;
  backoffRate: number;
  jitter: 'FULL';
}

/** Transient Lambda service errors: every Lambda step retries them. */
export const LAMBDA_RETRY: RetryRule = {
  errors: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  intervalSeconds: 2,
  maxAttempts: 6,
  backoffRate: 2,
  jitter: 'FULL',
};

/** Athena throttling and internal errors: every warehouse task retries them. */
export const WAREHOUSE_RETRY: RetryRule = {
  errors: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'],
  intervalSeconds: 5,
  maxAttempts: 4,
  backoffRate: 2,
  jitter: 'FULL',
};

/**
 * A score part that timed out or stayed throttled by DynamoDB: ScorePart rewrites the same items and
 * the same part result when run again, so the part is retried on its own (later, when the table has
 * caught up) instead of failing the run after millions of writes.
 */
export const PART_RETRY: RetryRule = {
  errors: [
    'Sandbox.Timedout',
    'States.Timeout',
    'DynamoThrottledError',
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'RequestLimitExceeded',
  ],
  intervalSeconds: 30,
  maxAttempts: 3,
  backoffRate: 2,
  jitter: 'FULL',
};

/**
 * Where a step's result goes: `'$'` replaces the state, `'$.<field>'` adds it under a field, `null`
 * discards it (the state passes on unchanged) — Step Functions' ResultPath.
 */
export type ResultPath = '$' | `$.${string}` | null;

/** A Lambda task: the whole state is the payload, the handler's result goes to `resultPath`. */
export interface LambdaStep {
  kind: 'lambda';
  /**
   * Invoke again while the result's `done` is false (a step that stops before its time runs out
   * and resumes from its own checkpoint); `choiceStateName` names the state that decides.
   */
  repeatUntilDone?: { choiceStateName: string; doneStateName: string };
  name: string;
  stateName: string;
  handler: RecalcHandlerName;
  resultPath: ResultPath;
  comment: string;
  retry: RetryRule;
}

/**
 * Warehouse statements the previous Lambda step rendered (`$.queries.<key>`, UNLOAD texts), run side
 * by side as Athena StartQueryExecution (.sync) tasks in AWS and through the warehouse port (DuckDB)
 * locally; their Parquet output lands under `runs/<runId>/<statement name>/`, where the next step
 * reads it, and their execution results go to `resultPath` by query key. No Lambda waits for a query.
 */
export interface WarehouseStep {
  kind: 'warehouse';
  name: string;
  stateName: string;
  queries: readonly string[];
  /**
   * Queries a run may not render (the holdout statements of a run without calibration data): each
   * runs only when `$.queries.<key>` is present (a Choice in AWS), and is skipped otherwise.
   */
  optionalQueries: readonly string[];
  /** State name of the task of one query. */
  queryStateName(query: string): string;
  resultPath: ResultPath;
  comment: string;
  retry: RetryRule;
}

/**
 * A Distributed Map: one item per object under the prefix `$.<itemsPrefixField>` (the S3 listing),
 * each item `{ run: <the state>, partKey: <object key> }` given to `handler`; results discarded.
 */
export interface MapStep {
  kind: 'map';
  name: string;
  stateName: string;
  itemsPrefixField: string;
  itemStateName: string;
  handler: RecalcHandlerName;
  maxConcurrency: number;
  /**
   * Share of items that may fail (after their retries) without failing the Map. 100: every part runs
   * to its end, and the part check in Finalize (part-check.ts) decides with the run's configured
   * tolerance, naming the failed parts — a Map that fails on its own names none and abandons the rest.
   */
  toleratedFailurePercentage: number;
  resultPath: null;
  comment: string;
  itemComment: string;
  retry: RetryRule;
  /** Applied to each item after `retry` (timeouts, throttling: see {@link PART_RETRY}). */
  itemRetry: RetryRule;
}

export type PipelineStep = LambdaStep | WarehouseStep | MapStep;

export interface RecalcPipeline {
  /** First step; its failure (e.g. the lock is held) ends the run with `lockFailedStateName`, nothing to release. */
  acquire: LambdaStep & { lockFailedStateName: string };
  /**
   * The steps after the lock, run in order inside one error handler. `resumeChoiceStateName` names the
   * Choice the body starts with: a resumed run's state says (`$.resumeAt`) which step to start at.
   */
  body: {
    stateName: string;
    comment: string;
    resumeChoiceStateName: string;
    steps: readonly PipelineStep[];
  };
  /** Any error of the body: the state becomes the body's input plus `error` ({Error, Cause}). */
  onFailure: LambdaStep & { errors: readonly string[]; errorPath: `$.${string}`; failStateName: string };
  /** After the body succeeded (the body's output is the state). */
  release: LambdaStep;
  succeedStateName: string;
  /**
   * Outside the state machine: run when an execution ends in one of `statuses` (Step Functions
   * reports it as an event), for the ends the Catch cannot see — timeout, stop, uncatchable errors.
   * The execution ARN is the lock holder (`lockHolderPath` in the acquire payload).
   */
  onExecutionEnded: {
    handler: RecalcHandlerName;
    statuses: readonly UnfinishedExecutionStatus[];
    comment: string;
  };
  /** Context path whose value the acquire step records as the lock holder. */
  lockHolderPath: string;
}

const lambda = (
  name: string,
  stateName: string,
  handler: RecalcHandlerName,
  resultPath: ResultPath,
  comment: string,
): LambdaStep => ({ kind: 'lambda', name, stateName, handler, resultPath, comment, retry: LAMBDA_RETRY });

const warehouse = (
  name: string,
  stateName: string,
  queries: readonly string[],
  optionalQueries: readonly string[],
  comment: string,
): WarehouseStep => ({
  kind: 'warehouse',
  name,
  stateName,
  queries,
  optionalQueries,
  queryStateName: (query) => `Run${query.charAt(0).toUpperCase()}${query.slice(1)}Query`,
  resultPath: '$.athena',
  comment: `${comment}; execution ids and output locations go to $.athena`,
  retry: WAREHOUSE_RETRY,
});

/**
 * The summary step's queries (keys of `fitStatementsOf` in run-statements.ts): the per-customer
 * summaries the Map scores, and the compressed inputs of the fits; the holdout statements and the
 * playbook backtest's calibration-end summaries only when the run has a calibration period.
 */
export const SUMMARY_STEP_OPTIONAL_QUERIES = [
  'calibrationHistogram',
  'holdout',
  'tracking',
  'cohorts',
  'backtestSummaries',
] as const;
export const SUMMARY_STEP_QUERIES = [
  'customerSummaries',
  'histogram',
  'spend',
  ...SUMMARY_STEP_OPTIONAL_QUERIES,
] as const;

/**
 * State flow: request → LockedRun → SourcesRun → SelectedRun → PreparedRun (+ athena) → FittedRun →
 * (+ finalized, + changeEvents) → released.
 */
export const RECALC_PIPELINE: RecalcPipeline = {
  acquire: {
    ...lambda('acquireLock', 'AcquireLock', 'acquireLock', '$', 'Takes the run lock; output: LockedRun'),
    lockFailedStateName: 'LockNotAcquired',
  },
  body: {
    stateName: 'Recalculate',
    comment:
      'Prepare → source profile → select data → run profile → plan → summary queries → fit → score → finalize → send change events, with one error handler',
    resumeChoiceStateName: 'ResumeAtStep',
    steps: [
      lambda(
        'prepare',
        'Prepare',
        'prepare',
        '$',
        'Reads the settings, snapshots the suppression list, renders the source profile; output: SourcesRun',
      ),
      warehouse(
        'profileSources',
        'ProfileSources',
        ['sourceProfile', 'otherFamilyProfile'],
        ['otherFamilyProfile'],
        'Source profile on Athena (and, when sources of another family hold the other export kind, theirs)',
      ),
      lambda(
        'selectData',
        'SelectData',
        'selectData',
        '$',
        'Selects sources, currency and as-of date, renders the run profile; output: SelectedRun',
      ),
      warehouse('profileRun', 'ProfileRun', ['runProfile'], [], 'Run profile on Athena (one scan)'),
      lambda(
        'planRun',
        'PlanRun',
        'planRun',
        '$',
        'Checks the data, renders the summary and fit statements, records the run; output: PreparedRun',
      ),
      warehouse(
        'unloadSummaries',
        'RunSummaryQueries',
        SUMMARY_STEP_QUERIES,
        SUMMARY_STEP_OPTIONAL_QUERIES,
        'Summary and fit queries on Athena, side by side',
      ),
      lambda('fitModels', 'FitModels', 'fitModels', '$', 'Fits the models; output: FittedRun'),
      {
        kind: 'map',
        name: 'scoreParts',
        stateName: 'ScoreParts',
        itemsPrefixField: 'summaryPrefix',
        itemStateName: 'ScorePart',
        handler: 'scorePart',
        maxConcurrency: 4,
        toleratedFailurePercentage: 100,
        resultPath: null,
        comment: 'Scores each customer-summary Parquet part; part results go to S3 for Finalize',
        itemComment: 'Scores one part; output: PartResult',
        retry: LAMBDA_RETRY,
        itemRetry: PART_RETRY,
      },
      lambda('finalize', 'Finalize', 'finalize', '$.finalized', 'Publishes the run (flips the pointer)'),
      {
        ...lambda(
          'sendChangeEvents',
          'SendChangeEvents',
          'sendChangeEvents',
          '$.changeEvents',
          'Sends the change events from the run’s change files, resuming from its checkpoint',
        ),
        repeatUntilDone: { choiceStateName: 'AllChangeEventsSent', doneStateName: 'ChangeEventsSent' },
      },
    ],
  },
  onFailure: {
    ...lambda(
      'releaseLockAfterFailure',
      'ReleaseLockAfterFailure',
      'releaseLock',
      null,
      'Releases the lock and records the error',
    ),
    errors: ['States.ALL'],
    errorPath: '$.error',
    failStateName: 'RecalculationFailed',
  },
  release: lambda('releaseLock', 'ReleaseLock', 'releaseLock', null, 'Releases the lock'),
  succeedStateName: 'Published',
  onExecutionEnded: {
    handler: 'executionEnded',
    statuses: UNFINISHED_EXECUTION_STATUSES,
    comment: 'Releases the lock of an execution that timed out, was stopped or failed uncaught',
  },
  lockHolderPath: '$$.Execution.Id',
};

/** Step names in the order a successful run executes them. */
export function pipelineStepNames(pipeline: RecalcPipeline = RECALC_PIPELINE): string[] {
  return [pipeline.acquire.name, ...pipeline.body.steps.map((step) => step.name), pipeline.release.name];
}

/**
 * The steps a resumed run can start at: those up to and including the first Map. Each has a checkpoint
 * (`runs/<runId>/checkpoints/<step name>.json`, the state it starts with) once a run reached it; the
 * steps after the Map always run again (the Map's items keep the parts already scored).
 */
export function resumableSteps(pipeline: RecalcPipeline = RECALC_PIPELINE): PipelineStep[] {
  const map = pipeline.body.steps.findIndex((step) => step.kind === 'map');
  return pipeline.body.steps.slice(0, map < 0 ? pipeline.body.steps.length : map + 1);
}

/** Top-level state names in order (success path), and the body's state names in order. */
export function pipelineStateNames(pipeline: RecalcPipeline = RECALC_PIPELINE) {
  return {
    top: [
      pipeline.acquire.stateName,
      pipeline.body.stateName,
      pipeline.release.stateName,
      pipeline.succeedStateName,
    ],
    body: [pipeline.body.resumeChoiceStateName].concat(
      pipeline.body.steps.flatMap((step) =>
        step.kind === 'lambda' && step.repeatUntilDone
          ? [step.stateName, step.repeatUntilDone.choiceStateName]
          : [step.stateName],
      ),
    ),
  };
}

/** The warehouse statements the pipeline runs as tasks (the `queries` keys its Lambda steps render). */
export function warehouseQueries(pipeline: RecalcPipeline = RECALC_PIPELINE): string[] {
  return pipeline.body.steps.flatMap((step) => (step.kind === 'warehouse' ? [...step.queries] : []));
}

/** Step Functions' ResultPath applied to JSON state. */
export function applyResultPath(state: unknown, result: unknown, path: ResultPath): unknown {
  if (path === null) return state;
  if (path === '$') return result;
  const field = path.slice(2);
  if (field.includes('.')) throw new Error(`result path ${path}: only one level is supported`);
  return { ...(state as Record<string, unknown>), [field]: result };
}

/** Whether a retry rule covers an error name (`States.ALL` covers all). */
export const retries = (rule: RetryRule, errorName: string) =>
  rule.errors.includes(errorName) || rule.errors.includes('States.ALL');
