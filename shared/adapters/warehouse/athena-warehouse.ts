/**
 * The cloud warehouse: Athena over the Glue table `transactions`. Every statement of `queries.ts`
 * is submitted unchanged inside `UNLOAD (...) TO 's3://...' WITH (format = 'PARQUET', ...)`; small
 * results are read back from that Parquet too (not GetQueryResults pages: one typed path for all
 * results, and no 1000-row paging).
 */
import { randomUUID } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import type { EconomicsSqlSettings } from '#app/ports/recalc-queries.ts';
import type { ParquetParts, Statement, UnloadTarget, Warehouse } from '#app/ports/warehouse.ts';
import { QUERY_RESULTS_PREFIX, runOutputPrefix } from '#domain/bucket-layout.ts';
import { deletePrefix } from '../s3/objects.ts';
import { withRunEconomics } from './economics-summaries.ts';
import { listParquetParts, readParquetParts } from './parquet-parts.ts';
import { recalcStatements, unloadSelect, type WarehouseParamsInput } from './queries.ts';

export interface AthenaPollingOptions {
  /** First wait between GetQueryExecution calls. @default 500 */
  initialDelayMs?: number;
  /** Longest wait between polls (the delay doubles up to it). @default 10_000 */
  maxDelayMs?: number;
  /** Give up (and stop the query) after this long. @default 15 minutes */
  timeoutMs?: number;
  /** Throttled Start/GetQueryExecution calls retried before failing. @default 8 */
  maxThrottleRetries?: number;
}

export interface AthenaWarehouseOptions {
  athena: AthenaClient;
  s3: S3Client;
  /** Bucket of unload outputs (the pipeline bucket). */
  bucket: string;
  workgroup: string;
  /** Glue database holding the `transactions` table. */
  database: string;
  /** Prefix for small results, one sub-folder per query. @default 'runs/query-results/' */
  resultsPrefix?: string;
  polling?: AthenaPollingOptions;
  /** Injected in tests so that backoff takes no wall time. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  onStatement?: (name: string, sql: string) => void;
}

export interface AthenaWarehouse extends Warehouse {
  readonly engine: 'athena';
  /** Submits a query and waits for it; returns the finished execution. Exposed for ad-hoc statements. */
  execute(queryString: string, name: string): Promise<QueryExecution>;
}

/**
 * The text Athena runs for a statement. SNAPPY is asked for explicitly: Athena's Parquet default is
 * GZIP, and SNAPPY is what DuckDB writes and hyparquet decodes natively.
 */
export function athenaUnloadSql(
  statement: string | Pick<Statement<unknown>, 'sql' | 'parts' | 'partitionedBy'>,
  location: string,
): string {
  if (!/^s3:\/\/[a-z0-9.-]+\/.+\/$/.test(location) || location.includes("'")) {
    throw new Error(`Unload location '${location}' must be an s3://bucket/prefix/ URL without quotes`);
  }
  const { sql, partitionedBy } = unloadSelect(typeof statement === 'string' ? { sql: statement } : statement);
  // partitioned_by: one folder per part (`part=<n>/`), at most MAX_SUMMARY_PARTS of them.
  const partitioned = partitionedBy ? `, partitioned_by = ARRAY['${partitionedBy}']` : '';
  return `UNLOAD (${sql}) TO '${location}' WITH (format = 'PARQUET', compression = 'SNAPPY'${partitioned})`;
}

/** What an UNLOAD text holds: the SELECT it runs and where its Parquet output goes. */
export interface ParsedUnload {
  sql: string;
  bucket: string;
  /** Ends with '/'. */
  prefix: string;
  /** The column the output is partitioned by (`partitioned_by`), one folder per value. */
  partitionedBy?: string;
}

/**
 * The inverse of {@link athenaUnloadSql}: the local runner executes the same UNLOAD texts the state
 * machine's Athena tasks run, on DuckDB (which has no UNLOAD), by taking them apart again.
 */
export function parseAthenaUnload(queryString: string): ParsedUnload {
  const match =
    /^UNLOAD \(([\s\S]*)\) TO 's3:\/\/([a-z0-9.-]+)\/([^']+\/)' WITH \(format = 'PARQUET', compression = 'SNAPPY'(?:, partitioned_by = ARRAY\['([a-z_]+)'\])?\)$/.exec(
      queryString,
    );
  if (!match) {
    throw new Error(
      `Not an UNLOAD text of this pipeline (UNLOAD (<select>) TO 's3://bucket/prefix/' WITH (...)): ${queryString.slice(0, 120)}`,
    );
  }
  return {
    sql: match[1]!,
    bucket: match[2]!,
    prefix: match[3]!,
    ...(match[4] ? { partitionedBy: match[4] } : {}),
  };
}

/** One Athena task of the recalculation state machine: the query to start and where its output lands. */
export interface AthenaTaskQuery {
  statement: string;
  queryString: string;
  outputBucket: string;
  /** `runs/<runId>/<statement>/`: read it back with `readParquetParts` and the statement's decoder. */
  outputPrefix: string;
}

/**
 * The rendered UNLOAD texts of every recalculation statement for one run, for Step Functions Athena
 * tasks (the `prepare` step returns them). The output prefixes must be empty when a task starts.
 */
export function athenaRecalcQueries(
  params: WarehouseParamsInput & { economics?: EconomicsSqlSettings | undefined },
  run: { bucket: string; runId: string },
): Record<string, AthenaTaskQuery> {
  const queries: Record<string, AthenaTaskQuery> = {};
  for (const [key, statement] of Object.entries(withRunEconomics(recalcStatements(params), params))) {
    const outputPrefix = runOutputPrefix(run.runId, statement.name);
    queries[key] = {
      statement: statement.name,
      queryString: athenaUnloadSql(statement, `s3://${run.bucket}/${outputPrefix}`),
      outputBucket: run.bucket,
      outputPrefix,
    };
  }
  return queries;
}

const THROTTLING_ERRORS = new Set(['TooManyRequestsException', 'ThrottlingException', 'ThrottledException']);

function isThrottling(error: unknown): boolean {
  const e = error as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  return (
    THROTTLING_ERRORS.has(e?.name ?? '') ||
    e?.$retryable?.throttling === true ||
    e?.$metadata?.httpStatusCode === 429
  );
}

export function createAthenaWarehouse(options: AthenaWarehouseOptions): AthenaWarehouse {
  const initialDelayMs = options.polling?.initialDelayMs ?? 500;
  const maxDelayMs = options.polling?.maxDelayMs ?? 10_000;
  const timeoutMs = options.polling?.timeoutMs ?? 15 * 60_000;
  const maxThrottleRetries = options.polling?.maxThrottleRetries ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const resultsPrefix = options.resultsPrefix ?? QUERY_RESULTS_PREFIX;
  if (!resultsPrefix.endsWith('/')) throw new Error(`resultsPrefix '${resultsPrefix}' must end with '/'`);

  /** Exponential backoff with "equal jitter": half the delay fixed, half random. */
  const backoff = (attempt: number) => {
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt);
    return ceiling / 2 + random() * (ceiling / 2);
  };

  /** Sends an Athena call, retrying throttling errors with backoff; other errors go straight up. */
  async function withThrottleRetry<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!isThrottling(error) || attempt >= maxThrottleRetries) {
          const suffix = isThrottling(error) ? ` (still throttled after ${attempt + 1} attempts)` : '';
          throw new Error(`Athena ${what} failed${suffix}: ${(error as Error).message}`, { cause: error });
        }
        await sleep(backoff(attempt));
      }
    }
  }

  async function execute(queryString: string, name: string): Promise<QueryExecution> {
    const started = await withThrottleRetry(`StartQueryExecution of '${name}'`, () =>
      options.athena.send(
        new StartQueryExecutionCommand({
          QueryString: queryString,
          WorkGroup: options.workgroup,
          QueryExecutionContext: { Database: options.database },
          // Same id on SDK retries of this call, so a lost response does not start the query twice.
          ClientRequestToken: randomUUID(),
        }),
      ),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error(`Athena StartQueryExecution of '${name}' returned no QueryExecutionId`);

    let waited = 0;
    for (let poll = 0; ; poll++) {
      const { QueryExecution: execution } = await withThrottleRetry(
        `GetQueryExecution of '${name}' (${id})`,
        () => options.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const state = execution?.Status?.State;
      switch (state) {
        case 'SUCCEEDED':
          return execution!;
        case 'FAILED':
        case 'CANCELLED': {
          const reason =
            execution?.Status?.AthenaError?.ErrorMessage ??
            execution?.Status?.StateChangeReason ??
            'no reason given';
          const category = execution?.Status?.AthenaError?.ErrorType;
          throw new Error(
            `Athena query '${name}' (${id}) ${state}: ${reason}${category ? ` [${category}]` : ''}`,
          );
        }
        case 'QUEUED':
        case 'RUNNING':
        case undefined:
          break;
        default:
          throw new Error(`Athena query '${name}' (${id}) is in an unknown state '${state}'`);
      }
      if (waited >= timeoutMs) {
        await options.athena
          .send(new StopQueryExecutionCommand({ QueryExecutionId: id }))
          .catch(() => undefined);
        throw new Error(
          `Athena query '${name}' (${id}) did not finish within ${Math.round(timeoutMs / 1000)} s (last state ${state}); it was stopped`,
        );
      }
      const delay = backoff(poll);
      waited += delay;
      await sleep(delay);
    }
  }

  async function unloadTo(statement: Statement<unknown>, target: UnloadTarget): Promise<ParquetParts> {
    if (!target.prefix.endsWith('/')) throw new Error(`Unload prefix '${target.prefix}' must end with '/'`);
    // UNLOAD refuses a non-empty location; a retried step must start from an empty prefix.
    await deletePrefix(options.s3, target.bucket, target.prefix);
    options.onStatement?.(statement.name, statement.sql);
    await execute(athenaUnloadSql(statement, `s3://${target.bucket}/${target.prefix}`), statement.name);
    const parts = await listParquetParts(options.s3, target.bucket, target.prefix);
    return { bucket: target.bucket, prefix: target.prefix, keys: parts.map((p) => p.key) };
  }

  return {
    engine: 'athena',
    execute,
    unload: unloadTo,
    async query<Row>(statement: Statement<Row>): Promise<Row[]> {
      const prefix = `${resultsPrefix}${statement.name}/${randomUUID()}/`;
      await unloadTo(statement, { bucket: options.bucket, prefix });
      const rows: Row[] = [];
      for await (const batch of readParquetParts(options.s3, options.bucket, prefix, statement.decode)) {
        for (const row of batch) rows.push(row);
      }
      return statement.compare ? rows.sort(statement.compare) : rows;
    },
    async close() {
      // Nothing to release: the SDK clients belong to the caller.
    },
  };
}
