/** The recalculation-queries port over `queries.ts` (SQL) and the Athena UNLOAD rendering. */
import type { RecalcQueries } from '#app/ports/recalc-queries.ts';
import { runOutputPrefix } from '#domain/bucket-layout.ts';
import { athenaRecalcQueries, athenaUnloadSql, parseAthenaUnload } from './athena-warehouse.ts';
import { economicsPresenceStatement, withRunEconomics } from './economics-summaries.ts';
import {
  inputProfileStatement,
  recalcStatements,
  runProfileStatement,
  sourceProfileStatement,
} from './queries.ts';

export function createRecalcQueries(bucket: string): RecalcQueries {
  return {
    statements: (params) => withRunEconomics(recalcStatements(params), params),
    economicsPresence: (params) => economicsPresenceStatement(params),
    sourceProfile: (params) => sourceProfileStatement(params),
    inputProfile: (params) => inputProfileStatement({ ...params, calibrationEnd: undefined }),
    runProfile: (params) => runProfileStatement({ ...params, calibrationEnd: undefined }),
    unloadTasks(params, runId) {
      return Object.fromEntries(
        Object.entries(athenaRecalcQueries(params, { bucket, runId })).map(([key, task]) => [
          key,
          { queryString: task.queryString, outputPrefix: task.outputPrefix },
        ]),
      );
    },
    unloadTask(statement, runId) {
      const outputPrefix = runOutputPrefix(runId, statement.name);
      return { queryString: athenaUnloadSql(statement, `s3://${bucket}/${outputPrefix}`), outputPrefix };
    },
    parseUnload(queryString) {
      const parsed = parseAthenaUnload(queryString);
      if (parsed.bucket !== bucket) {
        throw new Error(`UNLOAD target s3://${parsed.bucket}/ is not the pipeline bucket ${bucket}`);
      }
      return {
        sql: parsed.sql,
        outputPrefix: parsed.prefix,
        ...(parsed.partitionedBy ? { partitionedBy: parsed.partitionedBy } : {}),
      };
    },
  };
}
