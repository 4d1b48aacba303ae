/**
 * The unload step: the per-customer summaries written as Parquet parts under the run's summary
 * prefix. In AWS the state machine runs Prepare's rendered UNLOAD as an Athena task (no Lambda);
 * locally the runner calls this, which has the warehouse port (DuckDB) unload the same statement.
 */
import { runOutputPrefix } from '#domain/bucket-layout.ts';
import type { Statement } from '../ports/warehouse.ts';
import { selectionQueryParams } from './query-params.ts';
import { loggedStep } from './step-log.ts';
import type { PreparedRun, RecalcDeps } from './types.ts';

/** What an Athena task state leaves in the state (its ResultSelector), per query. */
export interface WarehouseTaskResult {
  queryExecutionId: string;
  outputLocation: string;
}

/** Runs the named statements of the run as unloads; returns their results by statement key. */
export function unloadStatementsStep(
  deps: RecalcDeps,
  run: PreparedRun,
  queryKeys: readonly string[],
): Promise<Record<string, WarehouseTaskResult>> {
  return loggedStep(
    deps.logger,
    'unloadSummaries',
    run.runId,
    async () => {
      const statements: Record<string, Statement<unknown> | undefined> = deps.queries.statements({
        asOf: run.asOf,
        timeUnit: run.config.timeUnit,
        currency: run.config.currency,
        sources: run.sources,
        family: run.config.family,
        period: run.config.period,
        ...(run.calibrationEnd ? { calibrationEnd: run.calibrationEnd } : {}),
        ...selectionQueryParams(run),
      }) as unknown as Record<string, Statement<unknown>>;
      const warehouse = await deps.warehouse();
      const results: Record<string, WarehouseTaskResult> = {};
      for (const key of queryKeys) {
        const statement = statements[key];
        if (!statement) throw new Error(`Run ${run.runId}: no statement '${key}' to unload`);
        const prefix = runOutputPrefix(run.runId, statement.name);
        await warehouse.unload(statement, { bucket: deps.settings.bucket, prefix });
        results[key] = {
          queryExecutionId: `${warehouse.engine}:${run.runId}:${statement.name}`,
          outputLocation: deps.files.location(prefix),
        };
      }
      return results;
    },
    (results) => ({ statements: Object.keys(results).length }),
  );
}
