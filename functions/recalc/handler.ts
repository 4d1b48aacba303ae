/**
 * Lambda entry points of the recalculation state machine, one per step (Step Functions wires them by
 * these export names). Each is a thin shell around `steps/`; `createRecalcHandlers(deps)` builds the
 * same handlers over explicit dependencies for tests and the local runner.
 */
import { type AwsClients, createAwsClients } from '../../shared/adapters/aws-clients.ts';
import { configFromEnv, type RuntimeConfig } from '../../shared/adapters/config.ts';
import { createRunStore } from '../../shared/adapters/dynamo/run-store.ts';
import { createEventBridgePublisher } from '../../shared/adapters/events/eventbridge-publisher.ts';
import { createAthenaWarehouse } from '../../shared/adapters/warehouse/athena-warehouse.ts';
import type { Warehouse } from '../../shared/app/ports/warehouse.ts';
import { acquireLockStep } from './steps/acquire-lock.ts';
import { finalizeStep } from './steps/finalize.ts';
import { fitModelsStep } from './steps/fit-models.ts';
import { prepareStep } from './steps/prepare.ts';
import { releaseLockStep } from './steps/release-lock.ts';
import { scorePartStep } from './steps/score-part.ts';
import type {
  FittedRun,
  LockedRun,
  PreparedRun,
  RecalcDeps,
  RecalcRequest,
  ReleaseLockInput,
} from './steps/types.ts';

/**
 * A Distributed Map item: `{ run, partKey }`, or `{ run, Key }` when the state machine passes the
 * S3 listing entry's key through unchanged.
 */
export type ScorePartEvent = { run: FittedRun } & ({ partKey: string } | { Key: string });

export function createRecalcHandlers(deps: RecalcDeps) {
  return {
    acquireLock: (event: RecalcRequest | null) => acquireLockStep(deps, event ?? {}),
    prepare: (event: LockedRun) => prepareStep(deps, event),
    fitModels: (event: PreparedRun) => fitModelsStep(deps, event),
    scorePart: (event: ScorePartEvent) =>
      scorePartStep(deps, { run: event.run, partKey: 'partKey' in event ? event.partKey : event.Key }),
    finalize: (event: FittedRun) => finalizeStep(deps, event),
    releaseLock: (event: ReleaseLockInput) => releaseLockStep(deps, event),
  };
}

/** The AWS dependencies: Athena warehouse, EventBridge publisher, clients from the environment. */
export function awsRecalcDeps(config: RuntimeConfig, clients: AwsClients): RecalcDeps {
  let warehouse: Warehouse | undefined;
  return {
    config,
    s3: clients.s3,
    runStore: createRunStore({ dynamo: clients.dynamo, table: config.table }),
    async warehouse() {
      if (!config.athenaWorkgroup || !config.glueDatabase) {
        throw new Error(
          'CVM_ATHENA_WORKGROUP and CVM_GLUE_DATABASE must be set for the recalculation in AWS',
        );
      }
      warehouse ??= createAthenaWarehouse({
        athena: clients.athena,
        s3: clients.s3,
        bucket: config.bucket,
        workgroup: config.athenaWorkgroup,
        database: config.glueDatabase,
      });
      return warehouse;
    },
    // The state machine's Athena task unloads the customer summaries after prepare.
    unloadSummariesInPrepare: false,
    publisher: {
      publishRun(runId, events) {
        if (!config.eventBusName) throw new Error('CVM_EVENT_BUS must be set to publish change events');
        return createEventBridgePublisher(clients.eventBridge, config.eventBusName).publishRun(runId, events);
      },
    },
    now: () => new Date(),
  };
}

// Built on first invocation and reused by warm containers.
let handlers: ReturnType<typeof createRecalcHandlers> | undefined;
const lambda = () => {
  if (!handlers) {
    const config = configFromEnv();
    handlers = createRecalcHandlers(awsRecalcDeps(config, createAwsClients(config)));
  }
  return handlers;
};

export const acquireLock = (event: RecalcRequest | null) => lambda().acquireLock(event);
export const prepare = (event: LockedRun) => lambda().prepare(event);
export const fitModels = (event: PreparedRun) => lambda().fitModels(event);
export const scorePart = (event: ScorePartEvent) => lambda().scorePart(event);
export const finalize = (event: FittedRun) => lambda().finalize(event);
export const releaseLock = (event: ReleaseLockInput) => lambda().releaseLock(event);
