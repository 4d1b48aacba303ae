/**
 * The weekly recalculation on the local stack: executes the pipeline definition
 * (`shared/app/recalc/pipeline.ts`) as Step Functions would — the real Lambda handlers called with
 * the same JSON payloads (state JSON round-tripped between steps), the warehouse task on DuckDB, the
 * Map over the S3 listing of summary parts, retries and the catch → release-lock-as-failed path.
 */

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '#adapters/aws-clients.ts';
import type { RuntimeConfig } from '#adapters/config.ts';
import type { RetryOptions } from '#adapters/dynamo/recalc-repositories.ts';
import { createJsonlPublisher, localEventDirectory } from '#adapters/events/jsonl-publisher.ts';
import { listKeys } from '#adapters/s3/objects.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import type { ChangeEventPublisher } from '#app/ports/change-events.ts';
import { type AppLogger, silentLogger } from '#app/ports/logger.ts';
import { RecalcLockedError } from '#app/ports/recalc-lock.ts';
import {
  applyResultPath,
  type PipelineStep,
  RECALC_PIPELINE,
  type RecalcHandlerName,
  type RecalcPipeline,
  type RetryRule,
  retries,
  type WarehouseStep,
} from '#app/recalc/pipeline.ts';
import type { SendChangeEventsResult } from '#app/recalc/send-change-events.ts';
import type {
  FinalizeResult,
  FittedRun,
  PartResult,
  PreparedRun,
  RecalcDeps,
  RecalcRequest,
  SelectedRun,
  SourcesRun,
} from '#app/recalc/types.ts';
import { runWarehouseQueriesStep } from '#app/recalc/unload-summaries.ts';
import type { RunRecord } from '#domain/run.ts';
import { createRecalcDeps, createRecalcHandlers, type RecalcHandlers } from '#functions/recalc/handler.ts';
import { isDeadLocalProcess, localProcessId } from './process-lock.ts';

/** Steps of the pipeline definition, by name (`pipelineStepNames()`). */
export type RecalcStepName =
  | 'acquireLock'
  | 'prepare'
  | 'profileSources'
  | 'selectData'
  | 'profileRun'
  | 'planRun'
  | 'unloadSummaries'
  | 'fitModels'
  | 'scoreParts'
  | 'finalize'
  | 'sendChangeEvents'
  | 'releaseLock';

export interface RecalcProgress {
  step: RecalcStepName;
  /** `skipped`: a resumed run kept the step's earlier output. */
  status: 'started' | 'finished' | 'skipped';
  /** Milliseconds, on `finished`. */
  ms?: number;
  /** One line for people, on `finished`. */
  detail?: string;
}

export interface LocalRecalcOptions extends RecalcRequest {
  onProgress?: (progress: RecalcProgress) => void;
  /** Clock of the run (lock lease, run id, TTL). @default real time */
  now?: () => Date;
  /** Mirror of the clean Parquet files for DuckDB. @default `<home>/warehouse` */
  warehouseDirectory?: string;
  /** @default JSON Lines files under `<home>/events/` */
  publisher?: ChangeEventPublisher;
  /** Backoff of DynamoDB batch writes (tests inject a no-wait sleep). */
  retry?: RetryOptions;
  /** DuckDB memory cap. @default '512MB' */
  duckDbMemory?: string;
  /** Where the steps' log lines go. @default nowhere (the CLI prints progress lines instead) */
  logger?: AppLogger;
  /** Summary parts scored at once (the Map's MaxConcurrency in AWS). @default 1 */
  scoreMaxConcurrency?: number;
  /** Rows per unloaded summary part (tests use small parts to get several). @default the warehouse's */
  summaryRowsPerPart?: number;
}

export interface LocalRecalcResult {
  record: RunRecord;
  /** The fitted state (models, thresholds, messages) the scores were computed with. */
  fitted: FittedRun;
  parts: PartResult[];
  events: number;
  /** Where the change events were written, one JSON Lines file per batch (local publisher only). */
  eventsDirectory: string | null;
  /** Milliseconds per step. */
  timings: Partial<Record<RecalcStepName, number>>;
}

/** The dependencies the steps use locally; `close()` shuts DuckDB. */
export function localRecalcDeps(
  stack: { config: RuntimeConfig; clients: AwsClients },
  options: Pick<
    LocalRecalcOptions,
    'now' | 'warehouseDirectory' | 'publisher' | 'retry' | 'duckDbMemory' | 'logger' | 'summaryRowsPerPart'
  > = {},
): RecalcDeps & { close(): Promise<void> } {
  const home = requireHome(stack.config);
  let warehouse: Promise<DuckDbWarehouse> | undefined;
  const deps = createRecalcDeps({
    config: stack.config,
    clients: stack.clients,
    // The lock names this process, so a later run can tell when a killed process still holds it.
    lock: { holder: localProcessId(), isHolderGone: isDeadLocalProcess },
    warehouse() {
      warehouse ??= createDuckDbWarehouse({
        s3: stack.clients.s3,
        bucket: stack.config.bucket,
        cacheDirectory: options.warehouseDirectory ?? join(home, 'warehouse'),
        duckDb: { memoryLimit: options.duckDbMemory ?? '512MB' },
        ...(options.summaryRowsPerPart
          ? { rowGroupSize: options.summaryRowsPerPart, rowGroupsPerPart: 1 }
          : {}),
      });
      return warehouse;
    },
    publisher: options.publisher ?? createJsonlPublisher(home),
    logger: options.logger ?? silentLogger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return {
    ...deps,
    async close() {
      if (warehouse) await (await warehouse).close();
    },
  };
}

function requireHome(config: RuntimeConfig): string {
  if (!config.home) throw new Error('the local recalculation needs a stack with a home directory (CVM_HOME)');
  return config.home;
}

// --- Executing the pipeline definition ------------------------------------------------------------

/** A Lambda handler as the runner calls it: a JSON payload and a Lambda context. */
export type InvokableHandler = (event: never, context: Context) => Promise<unknown>;

/** What executing the definition needs: the handlers, the warehouse tasks, the Map's item reader. */
export interface PipelineExecutor {
  handlers: Record<RecalcHandlerName, InvokableHandler>;
  /** Runs a warehouse step's queries (Athena tasks in AWS); returns the results by query key. */
  runWarehouseTask(step: WarehouseStep, state: unknown): Promise<unknown>;
  /** The S3 ItemReader: every object key under a prefix. */
  listItems(prefix: string): Promise<string[]>;
  /** Backoff between retries. @default real time */
  sleep?(ms: number): Promise<void>;
}

export interface PipelineExecution {
  /** Final state. */
  output: unknown;
  /** Output of each step by step name (a Map step: the list of its item results). */
  outputs: Record<string, unknown>;
}

/** What JSON keeps of a value: the payload Step Functions would pass. */
const json = <T>(value: T): T => (value === undefined ? (null as T) : JSON.parse(JSON.stringify(value)));

/** The Catch output of an error, as Step Functions builds it from a Lambda error. */
export function catchOutput(error: unknown): { Error: string; Cause: string } {
  const errorType = error instanceof Error ? error.name : 'Error';
  const errorMessage = error instanceof Error ? error.message : String(error);
  return { Error: errorType, Cause: JSON.stringify({ errorType, errorMessage }) };
}

function lambdaContext(handler: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `cvm-recalc-${handler}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:cvm-recalc-${handler}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/cvm-recalc-${handler}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 15 * 60_000,
    done() {},
    fail() {},
    succeed() {},
  };
}

/**
 * Executes the pipeline definition for one execution input. A failure of the lock step is rethrown
 * (nothing to release); a failure inside the body calls the failure handler with the body's input
 * plus the Catch output, then is rethrown.
 */
export async function executePipeline(
  executor: PipelineExecutor,
  input: unknown,
  options: PipelineRunOptions = {},
): Promise<PipelineExecution> {
  const pipeline = options.pipeline ?? RECALC_PIPELINE;
  const outputs: Record<string, unknown> = {};
  const { run, invoke } = stepRunner(executor, outputs, options);

  let state = await run(pipeline.acquire, json(input));
  const bodyInput = state;
  // As the body's first state (a Choice): a resumed run starts at the step its state names; the
  // steps before it finished in an earlier attempt.
  const resumeAt = (state as { resumeAt?: string }).resumeAt;
  try {
    const start =
      resumeAt === undefined ? 0 : pipeline.body.steps.findIndex((step) => step.name === resumeAt);
    if (start < 0) throw new Error(`${pipeline.body.resumeChoiceStateName}: no step '${resumeAt}'`);
    for (const [index, step] of pipeline.body.steps.entries()) {
      if (index < start) options.onStepSkipped?.(step);
      else state = await run(step, state);
    }
  } catch (error) {
    const failure = applyResultPath(bodyInput, catchOutput(error), pipeline.onFailure.errorPath);
    await invoke(pipeline.onFailure, failure);
    throw error;
  }
  state = await run(pipeline.release, state);
  return { output: state, outputs };
}

/**
 * Runs the body's steps from the first up to (not including) the step named `until`, on the state
 * the lock step returned: for tests and tools that drive the later steps themselves. No failure path.
 */
export async function executeBodyUntil(
  executor: PipelineExecutor,
  locked: unknown,
  until: string,
  options: PipelineRunOptions = {},
): Promise<unknown> {
  const pipeline = options.pipeline ?? RECALC_PIPELINE;
  const stop = pipeline.body.steps.findIndex((step) => step.name === until);
  if (stop < 0) throw new Error(`No step '${until}' in the pipeline body`);
  const { run } = stepRunner(executor, {}, options);
  let state = json(locked);
  for (const step of pipeline.body.steps.slice(0, stop)) state = await run(step, state);
  return state;
}

interface PipelineRunOptions {
  pipeline?: RecalcPipeline;
  onStepStarted?: (step: PipelineStep) => void;
  onStepFinished?: (step: PipelineStep, output: unknown, ms: number) => void;
  /** A resumed run skipped the step: an earlier attempt finished it. */
  onStepSkipped?: (step: PipelineStep) => void;
  /** Map items in flight at once (the state machine's MaxConcurrency). @default 1 */
  mapConcurrency?: number;
}

/** Runs one step as Step Functions would: retries, repeat-until-done, the Map, the result path. */
function stepRunner(
  executor: PipelineExecutor,
  outputs: Record<string, unknown>,
  options: PipelineRunOptions,
) {
  const sleep = executor.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function withRetry<T>(rule: RetryRule, attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const name = (error as { name?: string })?.name ?? 'Error';
        if (n >= rule.maxAttempts || !retries(rule, name)) throw error;
        await sleep(Math.random() * rule.intervalSeconds * 1000 * rule.backoffRate ** (n - 1));
      }
    }
  }
  const invoke = (step: { handler: RecalcHandlerName; retry: RetryRule }, payload: unknown) =>
    withRetry(step.retry, async () =>
      json(await executor.handlers[step.handler](json(payload) as never, lambdaContext(step.handler))),
    );

  async function run(step: PipelineStep, state: unknown): Promise<unknown> {
    options.onStepStarted?.(step);
    const started = performance.now();
    let result: unknown;
    if (step.kind === 'lambda') {
      result = await invoke(step, state);
      // As the state machine's Choice: invoke again while the step says it is not done.
      while (step.repeatUntilDone && (result as { done?: boolean } | null)?.done === false) {
        result = await invoke(step, applyResultPath(state, result, step.resultPath));
      }
    } else if (step.kind === 'warehouse') {
      result = json(await withRetry(step.retry, () => executor.runWarehouseTask(step, json(state))));
    } else {
      const prefix = (state as Record<string, unknown>)[step.itemsPrefixField];
      if (typeof prefix !== 'string') throw new Error(`${step.stateName}: no $.${step.itemsPrefixField}`);
      const keys = await executor.listItems(prefix);
      const items: unknown[] = new Array(keys.length);
      const failures: unknown[] = [];
      let next = 0;
      // As the Distributed Map: up to `mapConcurrency` items at once; a failed item (after its
      // retries) does not stop the others.
      const worker = async () => {
        while (next < keys.length) {
          const index = next++;
          try {
            items[index] = await withRetry(step.itemRetry, () =>
              invoke(step, { run: state, partKey: keys[index] }),
            );
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const workers = Math.max(1, Math.min(options.mapConcurrency ?? 1, keys.length));
      await Promise.all(Array.from({ length: workers }, worker));
      if (failures.length * 100 > step.toleratedFailurePercentage * keys.length) {
        const first = failures[0] as Error;
        throw Object.assign(
          new Error(
            `${failures.length} of ${keys.length} items failed, first: ${first?.name}: ${first?.message}`,
          ),
          { name: 'States.ExceedToleratedFailureThreshold' },
        );
      }
      result = items.filter((item) => item !== undefined);
    }
    outputs[step.name] = result;
    options.onStepFinished?.(step, result, performance.now() - started);
    return applyResultPath(state, result, step.resultPath);
  }
  return { run, invoke };
}

/** The executor of the local stack: the handlers over local deps, DuckDB for warehouse tasks. */
export function localExecutor(
  stack: { config: RuntimeConfig; clients: AwsClients },
  deps: RecalcDeps,
  handlers: RecalcHandlers = createRecalcHandlers(deps, []),
): PipelineExecutor {
  return {
    handlers: handlers as unknown as Record<RecalcHandlerName, InvokableHandler>,
    runWarehouseTask: (step, state) =>
      runWarehouseQueriesStep(deps, state as { runId: string; queries: Record<string, string> }, step),
    listItems: (prefix) => listKeys(stack.clients.s3, stack.config.bucket, prefix),
  };
}

const DESCRIBE: Record<RecalcStepName, (output: unknown) => string> = {
  acquireLock: (o) => `run ${(o as { runId: string }).runId}`,
  prepare: (o) => `${(o as SourcesRun).allSources.length} source(s) with clean data`,
  profileSources: () => 'source profile',
  selectData: (o) => {
    const s = o as SelectedRun;
    return `${s.sources.join(', ')} as of ${s.asOf} (${s.config.currency})`;
  },
  profileRun: () => 'run profile',
  planRun: (o) => {
    const p = o as PreparedRun;
    return `${p.profile.customersSummarized} customers, ${p.profile.rowsUsed} transactions as of ${p.asOf} (${p.config.currency})`;
  },
  unloadSummaries: (o) => `${Object.keys(o as object).length} summary statement(s) unloaded`,
  fitModels: (o) => {
    const f = o as FittedRun;
    return (
      `${f.model.name} LL ${f.model.logLikelihood.toFixed(2)}, ${f.summaryPartKeys.length} summary parts` +
      (f.holdout ? `, holdout MAE ${f.holdout.meanAbsoluteError.toFixed(3)}` : ', no holdout check')
    );
  },
  scoreParts: (o) => {
    const results = o as PartResult[];
    return `${results.reduce((n, r) => n + r.customers, 0)} customers scored in ${results.length} parts`;
  },
  finalize: (o) => {
    const f = o as FinalizeResult;
    return `published run ${f.record.runId}`;
  },
  sendChangeEvents: (o) => `${(o as SendChangeEventsResult).events} change events sent`,
  releaseLock: () => 'lock released',
};

/**
 * Runs the pipeline on the local stack: acquireLock → prepare → profileSources → selectData →
 * profileRun → planRun → unloadSummaries → fitModels →
 * scorePart (each part) → finalize → sendChangeEvents → releaseLock. On a failure after the lock was taken, the run is
 * recorded as failed and the lock released, then the error is rethrown.
 */
export async function runLocalRecalculation(
  stack: { config: RuntimeConfig; clients: AwsClients },
  options: LocalRecalcOptions = {},
): Promise<LocalRecalcResult> {
  const deps = localRecalcDeps(stack, options);
  const timings: LocalRecalcResult['timings'] = {};
  const progress = options.onProgress ?? (() => {});
  const request: RecalcRequest = {
    ...(options.asOf ? { asOf: options.asOf } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.family ? { family: options.family } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.leaseMinutes ? { leaseMinutes: options.leaseMinutes } : {}),
    ...(options.resume ? { resume: options.resume } : {}),
  };
  try {
    const { outputs } = await executePipeline(localExecutor(stack, deps), request, {
      onStepStarted: (step) => progress({ step: step.name as RecalcStepName, status: 'started' }),
      onStepFinished: (step, output, ms) => {
        const name = step.name as RecalcStepName;
        timings[name] = ms;
        progress({ step: name, status: 'finished', ms, detail: DESCRIBE[name]?.(output) ?? '' });
      },
      onStepSkipped: (step) =>
        progress({
          step: step.name as RecalcStepName,
          status: 'skipped',
          detail: 'done by an earlier attempt',
        }),
      mapConcurrency: options.scoreMaxConcurrency ?? 1,
    });
    const finalized = outputs.finalize as FinalizeResult;
    const runId = finalized.record.runId;
    return {
      record: finalized.record,
      // A run resumed at the Map starts with the fitted state (the lock step's output).
      fitted: (outputs.fitModels ?? outputs.acquireLock) as FittedRun,
      parts: outputs.scoreParts as PartResult[],
      events: (outputs.sendChangeEvents as SendChangeEventsResult).events,
      eventsDirectory: options.publisher ? null : localEventDirectory(requireHome(stack.config), runId),
      timings,
    };
  } finally {
    await deps.close();
  }
}

export { RecalcLockedError };
