/**
 * A warehouse step run through the warehouse port: the local runner's stand-in for the state
 * machine's Athena tasks. It executes exactly the UNLOAD texts the previous Lambda step put into the
 * state (`$.queries.<key>`), taken apart by the queries adapter since DuckDB has no UNLOAD, so the
 * Parquet lands where Athena would write it and the next step reads it the same way in both modes.
 */
import type { Statement } from '../ports/warehouse.ts';
import { nameUnreadableCleanObject } from './clean-objects.ts';
import { loggedStep } from './step-log.ts';
import type { RecalcDeps } from './types.ts';

/** What an Athena task state leaves in the state (its ResultSelector), per query. */
export interface WarehouseTaskResult {
  queryExecutionId: string;
  outputLocation: string;
}

/** A warehouse step as the pipeline defines it (see `WarehouseStep` in pipeline.ts). */
export interface WarehouseQueries {
  name: string;
  queries: readonly string[];
  /** Queries a run may not render: skipped when absent from the state, as the state machine's Choice does. */
  optionalQueries?: readonly string[];
}

/** Runs a warehouse step's UNLOAD texts from the state; returns their results by query key. */
export function runWarehouseQueriesStep(
  deps: RecalcDeps,
  state: { runId: string; queries: Record<string, string> },
  step: WarehouseQueries,
): Promise<Record<string, WarehouseTaskResult>> {
  return loggedStep(
    deps.logger,
    step.name,
    state.runId,
    async () => {
      const warehouse = await deps.warehouse();
      const results: Record<string, WarehouseTaskResult> = {};
      for (const key of step.queries) {
        const queryString = state.queries[key];
        if (queryString === undefined) {
          if (step.optionalQueries?.includes(key)) continue;
          throw new Error(`Run ${state.runId}: no rendered query '${key}' in the state for ${step.name}`);
        }
        const { sql, outputPrefix, partitionedBy } = deps.queries.parseUnload(queryString);
        const name = outputPrefix.slice(0, -1).slice(outputPrefix.slice(0, -1).lastIndexOf('/') + 1);
        const statement: Statement<unknown> = {
          name,
          sql,
          ...(partitionedBy ? { partitionedBy } : {}),
          decode: (raw) => raw,
        };
        // The first statement over the clean data also mirrors it locally: a damaged object is named
        // with the ingest that wrote it.
        await warehouse
          .unload(statement, { bucket: deps.settings.bucket, prefix: outputPrefix })
          .catch(async (error: unknown) => {
            throw await nameUnreadableCleanObject(deps, error, state.runId);
          });
        results[key] = {
          queryExecutionId: `${warehouse.engine}:${state.runId}:${name}`,
          outputLocation: deps.files.location(outputPrefix),
        };
      }
      return results;
    },
    (results) => ({ statements: Object.keys(results).length }),
  );
}
