/**
 * The local warehouse: DuckDB over a mirror of the clean Parquet files. Runs the statements of
 * `queries.ts` unchanged against a view named `transactions`; large results are written with COPY
 * and uploaded as parts under the same S3 prefix Athena's UNLOAD would write to.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ParquetParts, Statement, UnloadTarget, Warehouse } from '#app/ports/warehouse.ts';
import { CLEAN_CUSTOMER_ATTRIBUTES_PREFIX, CLEAN_SUBSCRIPTIONS_PREFIX } from '#domain/bucket-layout.ts';
import { type DuckDbOptions, openDuckDb, sqlLiteral } from '../duckdb.ts';
import { CLEAN_ATTRIBUTE_COLUMNS } from '../ingest/attributes-ingest.ts';
import { CLEAN_SUBSCRIPTION_COLUMNS } from '../ingest/subscriptions-ingest.ts';
import { deletePrefix } from '../s3/objects.ts';
import { type CleanCacheSyncReport, createCleanCache } from './clean-cache.ts';
import {
  CUSTOMER_ATTRIBUTES_RELATION,
  SUBSCRIPTIONS_RELATION,
  TRANSACTIONS_RELATION,
  unloadSelect,
} from './queries.ts';

/** The clean transaction columns (shared/domain/transaction.ts) plus the partition columns. */
const EMPTY_TRANSACTIONS = `SELECT
  CAST(NULL AS VARCHAR) AS customer_id,
  CAST(NULL AS VARCHAR) AS order_id,
  CAST(NULL AS TIMESTAMPTZ) AS order_ts,
  CAST(NULL AS DECIMAL(18,2)) AS amount,
  CAST(NULL AS VARCHAR) AS currency,
  CAST(NULL AS VARCHAR) AS channel,
  CAST(NULL AS BIGINT) AS quantity,
  CAST(NULL AS VARCHAR) AS ingest_id,
  CAST(NULL AS TIMESTAMPTZ) AS ingested_at,
  CAST(NULL AS BIGINT) AS line_number,
  CAST(NULL AS DECIMAL(18,2)) AS cost,
  CAST(NULL AS DECIMAL(18,2)) AS margin_amount,
  CAST(NULL AS DECIMAL(18,2)) AS discount,
  CAST(NULL AS DECIMAL(18,2)) AS shipping_cost,
  CAST(NULL AS DECIMAL(18,2)) AS returned_amount,
  CAST(NULL AS BOOLEAN) AS returned,
  CAST(NULL AS VARCHAR) AS source,
  CAST(NULL AS DATE) AS ingest_date
WHERE false`;

/** The order-economics columns of clean data (`shared/domain/transaction.ts`), added by the ingest later. */
const ECONOMICS_COLUMN_TYPES = {
  cost: 'DECIMAL(18,2)',
  margin_amount: 'DECIMAL(18,2)',
  discount: 'DECIMAL(18,2)',
  shipping_cost: 'DECIMAL(18,2)',
  returned_amount: 'DECIMAL(18,2)',
  returned: 'BOOLEAN',
} as const;

/** The customer attributes view before any attributes export was ingested. */
/** An empty relation with the columns of a clean data set and its partition columns. */
const emptyRelation = (columns: Record<string, string>) =>
  `SELECT ${Object.entries(columns)
    .map(([name, type]) => `CAST(NULL AS ${type}) AS ${name}`)
    .join(', ')}, CAST(NULL AS VARCHAR) AS source, CAST(NULL AS DATE) AS ingest_date WHERE false`;

const EMPTY_ATTRIBUTES = emptyRelation(CLEAN_ATTRIBUTE_COLUMNS);
const EMPTY_SUBSCRIPTIONS = emptyRelation(CLEAN_SUBSCRIPTION_COLUMNS);

export interface DuckDbWarehouseOptions {
  s3: S3Client;
  bucket: string;
  /** Directory of the mirrored clean files (e.g. `CVM_HOME/warehouse`); kept between runs. */
  cacheDirectory: string;
  /** Where COPY writes parts before upload. @default the OS temp directory */
  workDirectory?: string;
  /** Rows per Parquet row group of unloaded parts (one read batch). @default 100_000 */
  rowGroupSize?: number;
  /**
   * Row groups per file of an unload the pipeline does not split itself (a statement without `parts`).
   * @default 10
   */
  rowGroupsPerPart?: number;
  duckDb?: DuckDbOptions;
  /** Called with the exact text of every statement executed (logging; tests compare it with Athena's). */
  onStatement?: (name: string, sql: string) => void;
}

export interface DuckDbWarehouse extends Warehouse {
  readonly engine: 'duckdb';
  /** Mirrors new/changed clean files and re-creates the view; called lazily before the first statement. */
  refresh(): Promise<CleanCacheSyncReport>;
}

export async function createDuckDbWarehouse(options: DuckDbWarehouseOptions): Promise<DuckDbWarehouse> {
  const cache = createCleanCache(options.s3, options.bucket, options.cacheDirectory);
  const attributesCache = createCleanCache(
    options.s3,
    options.bucket,
    options.cacheDirectory,
    CLEAN_CUSTOMER_ATTRIBUTES_PREFIX,
  );
  const subscriptionsCache = createCleanCache(
    options.s3,
    options.bucket,
    options.cacheDirectory,
    CLEAN_SUBSCRIPTIONS_PREFIX,
  );
  const db = await openDuckDb(options.duckDb);
  const rowGroupSize = options.rowGroupSize ?? 100_000;
  const rowGroupsPerPart = options.rowGroupsPerPart ?? 10;
  let synced: Promise<CleanCacheSyncReport> | undefined;
  let closed = false;

  async function refresh(): Promise<CleanCacheSyncReport> {
    const report = await cache.sync();
    // An empty warehouse (nothing ingested yet) must answer with empty results: read_parquet fails on
    // a glob without matches, so the view is then an empty relation with the same columns.
    const source =
      report.objects > 0
        ? await withEconomicsColumns(
            `SELECT * FROM read_parquet(${sqlLiteral(cache.parquetGlob)}, hive_partitioning = true, union_by_name = true)`,
          )
        : EMPTY_TRANSACTIONS;
    await db.connection.run(`CREATE OR REPLACE VIEW ${TRANSACTIONS_RELATION} AS ${source}`);
    const attributes = await attributesCache.sync();
    await db.connection.run(
      `CREATE OR REPLACE VIEW ${CUSTOMER_ATTRIBUTES_RELATION} AS ${
        attributes.objects > 0
          ? `SELECT * FROM read_parquet(${sqlLiteral(attributesCache.parquetGlob)}, hive_partitioning = true, union_by_name = true)`
          : EMPTY_ATTRIBUTES
      }`,
    );
    const subscriptions = await subscriptionsCache.sync();
    await db.connection.run(
      `CREATE OR REPLACE VIEW ${SUBSCRIPTIONS_RELATION} AS ${
        subscriptions.objects > 0
          ? `SELECT * FROM read_parquet(${sqlLiteral(subscriptionsCache.parquetGlob)}, hive_partitioning = true, union_by_name = true)`
          : EMPTY_SUBSCRIPTIONS
      }`,
    );
    return report;
  }

  /**
   * The clean files' relation with every order-economics column: union_by_name gives NULL for files
   * without a column, but when no file has it the column would be missing, and a statement naming it
   * would fail. (Athena gets them from the Glue table's columns.)
   */
  async function withEconomicsColumns(select: string): Promise<string> {
    const described = (await db.connection.runAndReadAll(`DESCRIBE ${select}`)).getRowObjectsJS();
    const present = new Set(described.map((row) => String(row.column_name)));
    const missing = Object.entries(ECONOMICS_COLUMN_TYPES).filter(([name]) => !present.has(name));
    if (missing.length === 0) return select;
    const added = missing.map(([name, type]) => `CAST(NULL AS ${type}) AS ${name}`).join(', ');
    return `SELECT *, ${added} FROM (${select})`;
  }

  async function ready(): Promise<void> {
    if (closed) throw new Error('The DuckDB warehouse is closed');
    synced ??= refresh();
    try {
      await synced;
    } catch (error) {
      synced = undefined; // let the next call try again
      throw error;
    }
  }

  async function run<T>(statement: Statement<unknown>, action: () => Promise<T>): Promise<T> {
    options.onStatement?.(statement.name, statement.sql);
    try {
      return await action();
    } catch (error) {
      throw new Error(
        `Warehouse statement '${statement.name}' failed on DuckDB: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  return {
    engine: 'duckdb',
    refresh() {
      synced = refresh();
      return synced;
    },

    async query<Row>(statement: Statement<Row>): Promise<Row[]> {
      await ready();
      const raw = await run(statement, async () =>
        (await db.connection.runAndReadAll(statement.sql)).getRowObjectsJS(),
      );
      const rows = raw.map((row) => statement.decode(row as Record<string, unknown>));
      return statement.compare ? rows.sort(statement.compare) : rows;
    },

    async unload(statement: Statement<unknown>, target: UnloadTarget): Promise<ParquetParts> {
      await ready();
      if (!target.prefix.endsWith('/')) throw new Error(`Unload prefix '${target.prefix}' must end with '/'`);
      const localDir = join(options.workDirectory ?? tmpdir(), `cvm-unload-${randomUUID()}`);
      const { sql, partitionedBy } = unloadSelect(statement);
      try {
        // Partitioned: one folder `<column>=<value>/` per value, as Athena's UNLOAD partitioned_by
        // writes it (and the partition column leaves the files, as there); the pipeline bounds the
        // parts, so no file rotation (DuckDB cannot combine it with PARTITION_BY anyway).
        const layout = partitionedBy
          ? `PARTITION_BY (${partitionedBy}), FILENAME_PATTERN 'part-{i}', ROW_GROUP_SIZE ${rowGroupSize}`
          : `PER_THREAD_OUTPUT true, ROW_GROUP_SIZE ${rowGroupSize}, ROW_GROUPS_PER_FILE ${rowGroupsPerPart}`;
        await run(statement, () =>
          db.connection.run(`COPY (${sql}) TO ${sqlLiteral(localDir)} (FORMAT parquet, ${layout})`),
        );
        const files = (await readdir(localDir, { recursive: true }))
          .filter((f) => f.endsWith('.parquet'))
          .sort();
        await deletePrefix(options.s3, target.bucket, target.prefix);
        const keys: string[] = [];
        for (const [index, file] of files.entries()) {
          // Unpartitioned: part-00000.parquet …; partitioned: part=<n>/part-<i>.parquet as written.
          const key = partitionedBy
            ? `${target.prefix}${file.split(sep).join('/')}`
            : `${target.prefix}part-${String(index).padStart(5, '0')}.parquet`;
          await options.s3.send(
            new PutObjectCommand({
              Bucket: target.bucket,
              Key: key,
              Body: await readFile(join(localDir, file)),
            }),
          );
          keys.push(key);
        }
        return { bucket: target.bucket, prefix: target.prefix, keys };
      } finally {
        await rm(localDir, { recursive: true, force: true });
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await synced?.catch(() => undefined);
      db.close();
    },
  };
}
