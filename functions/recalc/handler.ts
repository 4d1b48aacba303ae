/**
 * Lambda entry points of the recalculation state machine, one per step (Step Functions wires them by
 * these export names, see `shared/app/recalc/pipeline.ts`). Thin wiring: dependencies built once per
 * container, each export the step's application service wrapped with middy and the observability
 * middlewares. `createRecalcHandlers(deps)` builds the same handlers over other dependencies (the
 * local runner, tests).
 */

import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { type AwsClients, createAwsClients } from '#adapters/aws-clients.ts';
import { configFromEnv, type RuntimeConfig } from '#adapters/config.ts';
import type { RecalcLockOptions } from '#adapters/dynamo/recalc-lock.ts';
import { createRecalcRepositories, type RetryOptions } from '#adapters/dynamo/recalc-repositories.ts';
import { createEventBridgePublisher } from '#adapters/events/eventbridge-publisher.ts';
import { observability } from '#adapters/observability.ts';
import { renderRunReport } from '#adapters/report/render-report.ts';
import { createS3RunFiles } from '#adapters/s3/run-files.ts';
import { createRecalcQueries } from '#adapters/warehouse/recalc-queries.ts';
import type { ChangeEventPublisher } from '#app/ports/change-events.ts';
import type { AppLogger } from '#app/ports/logger.ts';
import type { Warehouse } from '#app/ports/warehouse.ts';
import { acquireLockStep } from '#app/recalc/acquire-lock.ts';
import { withCheckpoints } from '#app/recalc/checkpoints.ts';
import { executionEndedStep } from '#app/recalc/execution-ended.ts';
import { finalizeStep } from '#app/recalc/finalize.ts';
import { fitModelsStep } from '#app/recalc/fit-models.ts';
import { type RecalcHandlerName, UNFINISHED_EXECUTION_STATUSES } from '#app/recalc/pipeline.ts';
import { planRunStep, prepareStep, selectDataStep } from '#app/recalc/prepare.ts';
import { releaseLockStep } from '#app/recalc/release-lock.ts';
import { scorePartStep } from '#app/recalc/score-part.ts';
import { sendChangeEventsStep } from '#app/recalc/send-change-events.ts';
import type {
  FittedRun,
  LockedRun,
  PreparedRun,
  RecalcDeps,
  RecalcRequest,
  ReleaseLockInput,
  SelectedRun,
  SourcesRun,
} from '#app/recalc/types.ts';

/**
 * A Distributed Map item: `{ run, partKey }`, or `{ run, Key }` when the state machine passes the
 * S3 listing entry's key through unchanged.
 */
export type ScorePartEvent = { run: FittedRun } & ({ partKey: string } | { Key: string });

/**
 * The EventBridge event Step Functions sends when an execution's status changes (only the fields
 * used). The rule delivers only the unfinished statuses; anything else is a wiring mistake.
 */
const executionStatusChangeSchema = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string().min(1),
    status: z.enum(UNFINISHED_EXECUTION_STATUSES),
  }),
});
export type ExecutionStatusChangeEvent = z.input<typeof executionStatusChangeSchema>;

/** The adapters behind the ports, given the runtime configuration and clients. */
export function createRecalcDeps(parts: {
  config: RuntimeConfig;
  clients: Pick<AwsClients, 's3' | 'dynamo'>;
  warehouse: () => Promise<Warehouse>;
  publisher: ChangeEventPublisher;
  logger: AppLogger;
  now?: () => Date;
  retry?: RetryOptions;
  /** Who holds the run lock and how to tell it is gone (the local stack's processes). */
  lock?: RecalcLockOptions;
}): RecalcDeps {
  const { config, clients } = parts;
  return {
    settings: {
      bucket: config.bucket,
      defaultCurrency: config.defaultCurrency,
      retentionWeeks: config.retentionWeeks,
      ...(config.scoreMaxConcurrency !== undefined
        ? { scoreMaxConcurrency: config.scoreMaxConcurrency }
        : {}),
    },
    files: createS3RunFiles(clients.s3, config.bucket),
    ...createRecalcRepositories(
      {
        dynamo: clients.dynamo,
        table: config.table,
        ...(parts.retry ? { retry: parts.retry } : {}),
      },
      parts.lock,
    ),
    queries: createRecalcQueries(config.bucket),
    warehouse: parts.warehouse,
    publisher: parts.publisher,
    renderReport: renderRunReport,
    logger: parts.logger,
    now: parts.now ?? (() => new Date()),
  };
}

/** The AWS dependencies: EventBridge publisher, clients from the environment (no warehouse: see below). */
export function awsRecalcDeps(config: RuntimeConfig, clients: AwsClients): RecalcDeps {
  return createRecalcDeps({
    config,
    clients,
    // In AWS every statement runs as a Step Functions Athena task between two Lambda steps (a Lambda
    // that waited for Athena would be killed at its timeout while the query runs on), and the
    // functions hold no Athena permissions: a step that asks for the warehouse is a wiring mistake.
    async warehouse() {
      throw new Error(
        'No warehouse in the recalculation Lambdas: statements run as the state machine’s Athena tasks (see shared/app/recalc/pipeline.ts)',
      );
    },
    publisher: {
      publishBatch(runId, batchId, events) {
        if (!config.eventBusName) throw new Error('CVM_EVENT_BUS must be set to publish change events');
        return createEventBridgePublisher(clients.eventBridge, config.eventBusName).publishBatch(
          runId,
          batchId,
          events,
        );
      },
    },
    logger: observability('cvm-recalc').appLogger,
  });
}

/** A Lambda handler as middy builds it: event and context in, the step's result out. */
export type RecalcHandler<Event, Result> = (event: Event, context: Context) => Promise<Result>;

function wrap<Event, Result>(
  run: (event: Event) => Promise<Result>,
  middlewares: MiddlewareObj[],
): RecalcHandler<Event, Result> {
  return middy<Event, Result>(async (event: Event) => run(event)).use(middlewares) as RecalcHandler<
    Event,
    Result
  >;
}

function wrapWithContext<Event, Result>(
  run: (event: Event, context: Context) => Promise<Result>,
  middlewares: MiddlewareObj[],
): RecalcHandler<Event, Result> {
  return middy<Event, Result>(async (event: Event, context: Context) => run(event, context)).use(
    middlewares,
  ) as RecalcHandler<Event, Result>;
}

/**
 * The step handlers over `deps`. `middlewares` default to the service's observability middlewares
 * (Lambda context on log lines, metrics flushed per invocation).
 */
export function createRecalcHandlers(
  deps: RecalcDeps | (() => RecalcDeps),
  middlewares: MiddlewareObj[] = observability('cvm-recalc').middlewares(),
) {
  const get = typeof deps === 'function' ? deps : () => deps;
  return {
    acquireLock: wrap((event: RecalcRequest | null) => acquireLockStep(get(), event ?? {}), middlewares),
    // Resumable steps save the state they start with (checkpoints.ts), so a failed run can resume.
    prepare: wrap(
      withCheckpoints(get, 'prepare', (event: LockedRun) => prepareStep(get(), event)),
      middlewares,
    ),
    selectData: wrap(
      withCheckpoints(get, 'selectData', (event: SourcesRun) => selectDataStep(get(), event)),
      middlewares,
    ),
    planRun: wrap(
      withCheckpoints(get, 'planRun', (event: SelectedRun) => planRunStep(get(), event)),
      middlewares,
    ),
    fitModels: wrap(
      withCheckpoints(get, 'fitModels', (event: PreparedRun) => fitModelsStep(get(), event)),
      middlewares,
    ),
    scorePart: wrap(
      (event: ScorePartEvent) =>
        scorePartStep(get(), { run: event.run, partKey: 'partKey' in event ? event.partKey : event.Key }),
      middlewares,
    ),
    finalize: wrap((event: FittedRun) => finalizeStep(get(), event), middlewares),
    // The Lambda's remaining time tells the step when to stop and let the state machine resume it.
    sendChangeEvents: wrapWithContext(
      (event: FittedRun, context: Context) =>
        sendChangeEventsStep(
          get(),
          event,
          () => context.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY,
        ),
      middlewares,
    ),
    releaseLock: wrap((event: ReleaseLockInput) => releaseLockStep(get(), event), middlewares),
    executionEnded: wrap((event: ExecutionStatusChangeEvent) => {
      const { detail } = executionStatusChangeSchema.parse(event);
      return executionEndedStep(get(), { executionArn: detail.executionArn, status: detail.status });
    }, middlewares),
  } satisfies Record<RecalcHandlerName, RecalcHandler<never, unknown>>;
}

export type RecalcHandlers = ReturnType<typeof createRecalcHandlers>;

// Built on first invocation and reused by warm containers.
let awsDeps: RecalcDeps | undefined;
const handlers = createRecalcHandlers(() => {
  if (!awsDeps) {
    const config = configFromEnv();
    awsDeps = awsRecalcDeps(config, createAwsClients(config));
  }
  return awsDeps;
});

export const {
  acquireLock,
  prepare,
  selectData,
  planRun,
  fitModels,
  scorePart,
  finalize,
  sendChangeEvents,
  releaseLock,
  executionEnded,
} = handlers;
