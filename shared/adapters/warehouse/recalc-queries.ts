/** The recalculation-queries port over `queries.ts` (SQL) and the Athena UNLOAD rendering. */
import type { RecalcQueries } from '#app/ports/recalc-queries.ts';
import { athenaRecalcQueries } from './athena-warehouse.ts';
import { economicsPresenceStatement, withRunEconomics } from './economics-summaries.ts';
import { inputProfileStatement, recalcStatements, sourceProfileStatement } from './queries.ts';

export function createRecalcQueries(bucket: string): RecalcQueries {
  return {
    statements: (params) => withRunEconomics(recalcStatements(params), params),
    economicsPresence: (params) => economicsPresenceStatement(params),
    sourceProfile: (params) => sourceProfileStatement(params),
    inputProfile: (params) => inputProfileStatement({ ...params, calibrationEnd: undefined }),
    unloadTasks(params, runId) {
      return Object.fromEntries(
        Object.entries(athenaRecalcQueries(params, { bucket, runId })).map(([key, task]) => [
          key,
          { queryString: task.queryString, outputPrefix: task.outputPrefix },
        ]),
      );
    },
  };
}
