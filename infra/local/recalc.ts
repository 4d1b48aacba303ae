/**
 * The weekly recalculation on the local stack: the same steps the AWS state machine runs, called in
 * order in-process, with DuckDB as the warehouse and a JSON Lines file for change events.
 */
import { join } from 'node:path';
import { acquireLockStep } from '../../functions/recalc/steps/acquire-lock.ts';
import { finalizeStep } from '../../functions/recalc/steps/finalize.ts';
import { fitModelsStep } from '../../functions/recalc/steps/fit-models.ts';
import { prepareStep } from '../../functions/recalc/steps/prepare.ts';
import { releaseLockStep } from '../../functions/recalc/steps/release-lock.ts';
import { scorePartStep } from '../../functions/recalc/steps/score-part.ts';
import type { FittedRun, PartResult, RecalcDeps, RecalcRequest } from '../../functions/recalc/steps/types.ts';
import type { AwsClients } from '../../shared/adapters/aws-clients.ts';
import type { RuntimeConfig } from '../../shared/adapters/config.ts';
import {
  createRunStore,
  RecalcLockedError,
  type RetryOptions,
} from '../../shared/adapters/dynamo/run-store.ts';
import { createJsonlPublisher, localEventFile } from '../../shared/adapters/events/jsonl-publisher.ts';
import {
  createDuckDbWarehouse,
  type DuckDbWarehouse,
} from '../../shared/adapters/warehouse/duckdb-warehouse.ts';
import type { ChangeEventPublisher } from '../../shared/app/ports/change-events.ts';
import type { RunRecord } from '../../shared/domain/run.ts';

export type RecalcStepName =
  | 'acquireLock'
  | 'prepare'
  | 'fitModels'
  | 'scoreParts'
  | 'finalize'
  | 'releaseLock';

export interface RecalcProgress {
  step: RecalcStepName;
  status: 'started' | 'finished';
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
}

export interface LocalRecalcResult {
  record: RunRecord;
  /** The fitted state (models, thresholds, messages) the scores were computed with. */
  fitted: FittedRun;
  parts: PartResult[];
  events: number;
  /** Where the change events were written (local publisher only). */
  eventsFile: string | null;
  /** Milliseconds per step. */
  timings: Partial<Record<RecalcStepName, number>>;
}

/** The dependencies the steps use locally; `close()` shuts DuckDB. */
export function localRecalcDeps(
  stack: { config: RuntimeConfig; clients: AwsClients },
  options: Pick<
    LocalRecalcOptions,
    'now' | 'warehouseDirectory' | 'publisher' | 'retry' | 'duckDbMemory'
  > = {},
): RecalcDeps & { close(): Promise<void> } {
  const home = requireHome(stack.config);
  let warehouse: Promise<DuckDbWarehouse> | undefined;
  return {
    config: stack.config,
    s3: stack.clients.s3,
    runStore: createRunStore({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
      ...(options.retry ? { retry: options.retry } : {}),
    }),
    warehouse() {
      warehouse ??= createDuckDbWarehouse({
        s3: stack.clients.s3,
        bucket: stack.config.bucket,
        cacheDirectory: options.warehouseDirectory ?? join(home, 'warehouse'),
        duckDb: { memoryLimit: options.duckDbMemory ?? '512MB' },
      });
      return warehouse;
    },
    unloadSummariesInPrepare: true,
    publisher: options.publisher ?? createJsonlPublisher(home),
    now: options.now ?? (() => new Date()),
    async close() {
      if (warehouse) await (await warehouse).close();
    },
  };
}

function requireHome(config: RuntimeConfig): string {
  if (!config.home) throw new Error('the local recalculation needs a stack with a home directory (CVM_HOME)');
  return config.home;
}

/**
 * Runs acquireLock → prepare → fitModels → scorePart (each part) → finalize → releaseLock. On a
 * failure after the lock was taken, records the run as failed and releases the lock, then rethrows.
 */
export async function runLocalRecalculation(
  stack: { config: RuntimeConfig; clients: AwsClients },
  options: LocalRecalcOptions = {},
): Promise<LocalRecalcResult> {
  const deps = localRecalcDeps(stack, options);
  const timings: LocalRecalcResult['timings'] = {};
  const progress = options.onProgress ?? (() => {});
  async function step<T>(
    name: RecalcStepName,
    run: () => Promise<T>,
    describe: (value: T) => string,
  ): Promise<T> {
    progress({ step: name, status: 'started' });
    const started = performance.now();
    const value = await run();
    const ms = performance.now() - started;
    timings[name] = ms;
    progress({ step: name, status: 'finished', ms, detail: describe(value) });
    return value;
  }

  const request: RecalcRequest = {
    ...(options.asOf ? { asOf: options.asOf } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.leaseMinutes ? { leaseMinutes: options.leaseMinutes } : {}),
  };
  try {
    const locked = await step(
      'acquireLock',
      () => acquireLockStep(deps, request),
      (l) => `run ${l.runId}`,
    );
    let fitted: FittedRun | undefined;
    try {
      const prepared = await step(
        'prepare',
        () => prepareStep(deps, locked),
        (p) =>
          `${p.profile.customersSummarized} customers, ${p.profile.rowsUsed} transactions as of ${p.asOf} (${p.config.currency}), ${p.summaryPartKeys.length} summary parts`,
      );
      fitted = await step(
        'fitModels',
        () => fitModelsStep(deps, prepared),
        (f) =>
          `${f.model.name} LL ${f.model.logLikelihood.toFixed(2)}` +
          (f.holdout ? `, holdout MAE ${f.holdout.meanAbsoluteError.toFixed(3)}` : ', no holdout check'),
      );
      const run = fitted;
      const parts = await step(
        'scoreParts',
        async () => {
          const results: PartResult[] = [];
          for (const partKey of run.summaryPartKeys)
            results.push(await scorePartStep(deps, { run, partKey }));
          return results;
        },
        (results) =>
          `${results.reduce((n, r) => n + r.customers, 0)} customers scored in ${results.length} parts`,
      );
      const finalized = await step(
        'finalize',
        () => finalizeStep(deps, run),
        (f) => `published run ${f.record.runId}, ${f.events} change events`,
      );
      await step(
        'releaseLock',
        () => releaseLockStep(deps, { runId: locked.runId }),
        () => 'lock released',
      );
      return {
        record: finalized.record,
        fitted: run,
        parts,
        events: finalized.events,
        eventsFile: options.publisher ? null : localEventFile(requireHome(stack.config), locked.runId),
        timings,
      };
    } catch (error) {
      await releaseLockStep(deps, {
        runId: locked.runId,
        startedAt: locked.startedAt,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        ...(fitted ? { run: fitted } : {}),
      });
      throw error;
    }
  } finally {
    await deps.close();
  }
}

export { RecalcLockedError };
