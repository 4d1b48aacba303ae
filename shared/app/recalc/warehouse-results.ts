/**
 * How the recalculation steps hand statements to the warehouse tasks and read their results back.
 * A Lambda step renders each statement as an UNLOAD (the text goes into the state, `$.queries.<key>`),
 * the next warehouse step runs it (an Athena `.sync` task in AWS, DuckDB locally) writing Parquet
 * under `runs/<runId>/<statement name>/`, and the step after reads those parts. No Lambda waits for
 * a query: the same code path in AWS and locally.
 */
import { runOutputPrefix } from '#domain/bucket-layout.ts';
import type { Statement } from '../ports/warehouse.ts';
import type { RecalcDeps } from './types.ts';

/**
 * The UNLOAD texts of `statements` by key, for the state's `queries`. UNLOAD refuses a non-empty
 * target, so what an earlier attempt of this run left under each output prefix is deleted first.
 */
export async function renderUnloads(
  deps: Pick<RecalcDeps, 'queries' | 'files'>,
  runId: string,
  statements: Record<string, Statement<unknown> | undefined>,
): Promise<Record<string, string>> {
  const queries: Record<string, string> = {};
  for (const [key, statement] of Object.entries(statements)) {
    if (!statement) continue;
    const task = deps.queries.unloadTask(statement, runId);
    await deps.files.deletePrefix(task.outputPrefix);
    queries[key] = task.queryString;
  }
  return queries;
}

/** Every row a warehouse task wrote for `statement` in this run, in the statement's order. */
export async function readQueryRows<Row>(
  deps: Pick<RecalcDeps, 'files'>,
  runId: string,
  statement: Statement<Row>,
): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of deps.files.readParts(runOutputPrefix(runId, statement.name), statement.decode)) {
    for (const row of batch) rows.push(row);
  }
  return statement.compare ? rows.sort(statement.compare) : rows;
}

/**
 * The one row of a statement that always yields one (a profile). Its absence means the warehouse
 * task did not run: the message names where the result should be and which step runs it.
 */
export async function readSingleRow<Row>(
  deps: Pick<RecalcDeps, 'files'>,
  runId: string,
  statement: Statement<Row>,
  queryKey: string,
): Promise<Row> {
  const [row] = await readQueryRows(deps, runId, statement);
  if (row === undefined) {
    throw new Error(
      `Run ${runId}: no result of the ${queryKey} query under ${deps.files.location(runOutputPrefix(runId, statement.name))}; the warehouse step that runs queries.${queryKey} must run before this step`,
    );
  }
  return row;
}

/** Statements whose results hold one row per customer: kept with the run (erasure rewrites them). */
const PER_CUSTOMER_QUERIES = new Set(['customerSummaries', 'backtestSummaries']);

/**
 * Deletes a published run's aggregate statement results (histograms, spend, holdout series, the
 * profiles): the fit has read them, a published run is never resumed, and an aggregate over a few
 * customers (a spend row with `customers = 1`) would keep a forgotten customer's amount that erasure,
 * which removes rows by customer id, cannot see.
 */
export async function deleteAggregateResults(
  deps: Pick<RecalcDeps, 'queries' | 'files'>,
  run: { runId: string; queries: Record<string, string> },
  profileNames: readonly string[],
): Promise<void> {
  for (const [key, queryString] of Object.entries(run.queries)) {
    if (PER_CUSTOMER_QUERIES.has(key)) continue;
    await deps.files.deletePrefix(deps.queries.parseUnload(queryString).outputPrefix);
  }
  for (const name of profileNames) await deps.files.deletePrefix(runOutputPrefix(run.runId, name));
}
