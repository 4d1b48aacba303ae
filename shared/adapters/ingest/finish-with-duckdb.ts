/**
 * Second stage of an ingest: DuckDB reads the staged rows back, applies the cross-row rules (exact
 * duplicates, line items) and writes the typed clean Parquet file.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FinishedUpload } from '#app/ports/ingest-pipeline.ts';
import { namesEconomicsColumn } from '#domain/ingest/column-mapping.ts';
import { openDuckDb, sqlLiteral } from '../duckdb.ts';
import {
  duplicateCandidatesPath,
  rowHashesPath,
  STAGED_COLUMNS,
  STAGED_ECONOMICS_COLUMNS,
} from './staging.ts';

/**
 * DuckDB's CSV reader buffer. Its default (about 32 MB, several in flight) alone exhausts a 128 MB
 * memory limit once an aggregate needs room too; staged rows are short (ids, numbers), so 8 MB is ample.
 */
const CSV_BUFFER_BYTES = 8 * 1024 * 1024;
const DEFAULT_MEMORY_LIMIT = '96MB';

export interface FinishStagedInput {
  acceptedPath: string;
  /** Rows in the staged file. */
  stagedRows: number;
  /** Staged rows with an empty amount; when 0 the line-item rule has nothing to do. */
  emptyAmountRows: number;
  dedupeExactRows: boolean;
  ingestId: string;
  ingestedAt: Date;
  workDir: string;
  /**
   * Canonical field → header in the export (the parser's `summary.columns`), so late rejects show
   * their values under the file's own column names like the parser's rejects do. Naming an
   * order-economics field means the staged rows carry `STAGED_ECONOMICS_COLUMNS`.
   */
  columns?: Record<string, string>;
  /**
   * @default '96MB' — DuckDB spills to `workDir` beyond it. Measured on 1M staged rows with duplicate
   * detection: 96MB gave a peak RSS of 208 MB and less CPU than 128MB (274 MB).
   */
  memoryLimit?: string;
  /** @default 1 */
  threads?: number;
  /** SHA-256 hex of erased customers' ids: their rows are dropped and counted as `suppressed`. */
  suppressedHashes?: readonly string[];
}

/** What the DuckDB finish produces: the ingest pipeline port's result. */
export type FinishedExport = FinishedUpload;

/**
 * Second stage of an ingest, in DuckDB: reads the staged rows with explicit types, applies the
 * cross-row rules and writes the clean Parquet file with the column types of
 * `shared/domain/transaction.ts`.
 *
 * - Exact duplicates (same row hash, i.e. the same raw values) collapse into their first line; only
 *   the staging's duplicate candidates are checked (see `duplicateCandidatesPath`).
 * - A line item with an empty amount counts as 0 when another line of its `order_id` has an amount;
 *   when no line of the order has one, its lines are rejected with `amount_missing`.
 *
 * Rows never pass through JavaScript here, so memory stays at DuckDB's limit whatever the file size.
 */
export async function finishWithDuckDb(input: FinishStagedInput): Promise<FinishedExport> {
  const started = performance.now();
  if (input.stagedRows === 0) {
    return {
      accepted: 0,
      duplicates: 0,
      lateRejected: 0,
      suppressed: 0,
      amountTotals: {},
      parquetPath: null,
      lateRejectsPath: null,
      finishMs: performance.now() - started,
    };
  }
  const db = await openDuckDb({
    memoryLimit: input.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    threads: input.threads ?? 1,
    tempDirectory: join(input.workDir, 'duckdb-spill'),
  });
  const sql = (text: string) => db.connection.run(text);
  const scalar = async (text: string) => {
    const reader = await db.connection.runAndReadAll(text);
    return reader.getRowsJson()[0]?.[0];
  };
  try {
    // An export with order-economics columns has them staged and written to its clean file; any other
    // export's clean file is exactly what it was before those columns existed.
    const economics = namesEconomicsColumn(input.columns ?? {});
    const columns = Object.entries({ ...STAGED_COLUMNS, ...(economics ? STAGED_ECONOMICS_COLUMNS : {}) })
      .map(([name, type]) => `${sqlLiteral(name)}: ${sqlLiteral(type)}`)
      .join(', ');
    const staged =
      `read_csv(${sqlLiteral(input.acceptedPath)}, delim = '\\t', quote = '"', escape = '"', ` +
      `header = false, auto_detect = false, new_line = '\\n', buffer_size = ${CSV_BUFFER_BYTES}, ` +
      `columns = {${columns}})`;

    // The staged file is streamed once per step; only the small sets the rules need (duplicated
    // rows, orders with an empty amount) are kept, so memory does not grow with the file.
    await sql(`CREATE VIEW staged AS SELECT * FROM ${staged}`);
    let kept = 'staged';
    let duplicates = 0;
    const candidates = duplicateCandidates(input.acceptedPath);
    if (input.dedupeExactRows && candidates !== 'none') {
      // Only hashes the staging's duplicate filter flagged can have copies: the hashes file gives their
      // lines, and only lines whose hash repeats are looked up in the staged file. An export without
      // repeated lines has no candidate and skips all of this.
      await sql(
        `CREATE VIEW row_hashes AS SELECT * FROM read_csv(${sqlLiteral(rowHashesPath(input.acceptedPath))},
           delim = '\\t', header = false, auto_detect = false, new_line = '\\n',
           columns = {'line': 'BIGINT', 'row_hash': 'VARCHAR'})`,
      );
      const candidateHashes =
        candidates === 'unknown'
          ? 'SELECT row_hash FROM row_hashes GROUP BY row_hash HAVING count(*) > 1'
          : `SELECT row_hash FROM read_csv(${sqlLiteral(candidates)}, header = false, auto_detect = false,
               new_line = '\\n', columns = {'row_hash': 'VARCHAR'})`;
      // A false candidate's hash occurs on one line only: it drops out here, and when every candidate
      // is false (the filter's only errors) the staged rows are never read for this rule.
      await sql(
        `CREATE TEMP TABLE candidate_lines AS
         SELECT line, row_hash FROM row_hashes WHERE row_hash IN (${candidateHashes})`,
      );
      await sql(
        `CREATE TEMP TABLE repeated_lines AS
         SELECT line, row_hash FROM candidate_lines
         WHERE row_hash IN (SELECT row_hash FROM candidate_lines GROUP BY row_hash HAVING count(*) > 1)`,
      );
      if (Number(await scalar('SELECT count(*) FROM repeated_lines')) > 0) {
        // Same raw values mean the same row hash and the same parsed values. Copies are keyed by the
        // parser's 64-bit row hash together with DuckDB's 64-bit hash of the parsed key fields: two
        // different rows would have to collide in both at once to be merged. Every copy after the
        // first line of its key is dropped.
        await sql(
          `CREATE TEMP TABLE dropped_lines AS
           SELECT line FROM (
             SELECT s.line, row_number() OVER (
                      PARTITION BY r.row_hash, hash(s.customer_id, s.order_id, s.order_ts_us, s.amount_cents)
                      ORDER BY s.line) AS copy
             FROM staged s JOIN repeated_lines r ON r.line = s.line)
           WHERE copy > 1`,
        );
        duplicates = Number(await scalar('SELECT count(*) FROM dropped_lines'));
      }
      if (duplicates > 0) {
        await sql(
          `CREATE VIEW deduplicated AS SELECT s.* FROM staged s
           WHERE NOT EXISTS (SELECT 1 FROM dropped_lines d WHERE d.line = s.line)`,
        );
        kept = 'deduplicated';
      }
    }
    let lateRejected = 0;
    let lateRejectsPath: string | null = null;
    if (input.emptyAmountRows > 0) {
      // Orders with an empty amount on some line and an amount on none.
      await sql(
        `CREATE TEMP TABLE amountless_orders AS
         SELECT DISTINCT order_id FROM ${kept} WHERE amount_cents IS NULL
         EXCEPT
         SELECT DISTINCT order_id FROM ${kept}
         WHERE amount_cents IS NOT NULL
           AND order_id IN (SELECT order_id FROM ${kept} WHERE amount_cents IS NULL)`,
      );
      await sql(
        `CREATE VIEW orphan_lines AS SELECT * FROM ${kept}
         WHERE amount_cents IS NULL AND order_id IN (SELECT order_id FROM amountless_orders)`,
      );
      lateRejected = Number(await scalar('SELECT count(*) FROM orphan_lines'));
      if (lateRejected > 0) {
        lateRejectsPath = join(input.workDir, 'late-rejects.jsonl');
        await sql(
          `COPY (SELECT line, 'amount_missing' AS reason,
                   'amount: empty on every line of order ''' || order_id || ''' (no line of the order has an amount)' AS message,
                   ${lateRejectRaw(input.columns ?? {})} AS raw
                 FROM orphan_lines ORDER BY line)
           TO ${sqlLiteral(lateRejectsPath)} (FORMAT json)`,
        );
        await sql(
          `CREATE VIEW with_amounts AS SELECT * FROM ${kept}
           WHERE NOT (amount_cents IS NULL AND order_id IN (SELECT order_id FROM amountless_orders))`,
        );
        kept = 'with_amounts';
      }
    }

    const unsuppressed = await withoutSuppressedCustomers(db.connection, input, kept);
    const suppressed = unsuppressed.suppressed;
    kept = unsuppressed.relation;

    // make_timestamptz(epoch µs) is the instant itself, whatever the session time zone; it costs
    // ~0.2 s CPU per million rows less than make_timestamp(µs)::TIMESTAMPTZ (measured), which goes
    // through a time-zone conversion. zstd stays: snappy saved ~7 % CPU but wrote a 3× larger file.
    // DICTIONARY_SIZE_LIMIT: a column with more distinct values per row group than this is written
    // plain (then zstd) rather than dictionary-encoded. DuckDB's default (a fifth of the row group)
    // spends ~0.2 s CPU per million rows building dictionaries it then drops for the many-valued
    // columns (order ids, timestamps, amounts, lines); 4096 measured the same file size for 2,000 and
    // 250,000 customers and 1 % larger for 20,000, at about a quarter less CPU for the COPY.
    const parquetPath = join(input.workDir, 'clean.parquet');
    const ingestedAt = input.ingestedAt.toISOString();
    await sql(
      `COPY (SELECT customer_id, order_id,
                    make_timestamptz(order_ts_us) AS order_ts,
                    (coalesce(amount_cents, 0)::DECIMAL(18, 0) * 0.01::DECIMAL(3, 2))::DECIMAL(18, 2) AS amount,
                    currency, channel, quantity,
                    ${sqlLiteral(input.ingestId)} AS ingest_id,
                    ${sqlLiteral(ingestedAt)}::TIMESTAMPTZ AS ingested_at,
                    line AS line_number${economics ? `, ${ECONOMICS_COLUMNS_SQL}` : ''}
             FROM ${kept})
       TO ${sqlLiteral(parquetPath)} (FORMAT parquet, COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 4096)`,
    );
    const totals = await db.connection.runAndReadAll(
      `SELECT currency, count(*) AS n, sum(amount)::VARCHAR AS total
       FROM read_parquet(${sqlLiteral(parquetPath)}) GROUP BY currency ORDER BY currency`,
    );
    let accepted = 0;
    const amountTotals: Record<string, string> = {};
    for (const [currency, n, total] of totals.getRowsJson()) {
      accepted += Number(n);
      amountTotals[String(currency)] = String(total);
    }
    return {
      accepted,
      duplicates,
      lateRejected,
      suppressed,
      amountTotals,
      parquetPath: accepted > 0 ? parquetPath : null,
      lateRejectsPath,
      finishMs: performance.now() - started,
    };
  } finally {
    db.close();
  }
}

const cents = (column: string) => `(${column}::DECIMAL(18, 0) * 0.01::DECIMAL(3, 2))::DECIMAL(18, 2)`;

/**
 * The order-economics columns of the clean Parquet (see `shared/domain/transaction.ts`), appended after
 * the original columns: NULL on every row of an export without them. Readers of older files without
 * these columns read them by name (`union_by_name` in DuckDB, by-name Parquet columns in Athena).
 */
const ECONOMICS_COLUMNS_SQL = [
  `${cents('cost_cents')} AS cost`,
  `${cents('margin_amount_cents')} AS margin_amount`,
  `${cents('discount_cents')} AS discount`,
  `${cents('shipping_cost_cents')} AS shipping_cost`,
  `${cents('returned_amount_cents')} AS returned_amount`,
  'returned',
].join(', ');

/**
 * The staging's duplicate candidates: 'none' when its candidates file is empty, the file's path when it
 * lists some, 'unknown' when the staged file has no candidates file (every repeated hash is then a
 * candidate).
 */
function duplicateCandidates(stagedPath: string): 'none' | 'unknown' | string {
  const path = duplicateCandidatesPath(stagedPath);
  if (!existsSync(path)) return 'unknown';
  return statSync(path).size === 0 ? 'none' : path;
}

/** Staged column → SQL giving the value as text, for the raw values of a late reject. */
const RAW_VALUE_SQL: Record<string, string> = {
  customer_id: 'customer_id',
  order_id: 'order_id',
  order_ts: "strftime(make_timestamp(order_ts_us), '%Y-%m-%dT%H:%M:%S.%fZ')",
  amount: "''",
  currency: 'currency',
  channel: 'channel',
  quantity: 'quantity::VARCHAR',
  cost: `${cents('cost_cents')}::VARCHAR`,
  margin_amount: `${cents('margin_amount_cents')}::VARCHAR`,
  discount: `${cents('discount_cents')}::VARCHAR`,
  shipping_cost: `${cents('shipping_cost_cents')}::VARCHAR`,
  returned_amount: `${cents('returned_amount_cents')}::VARCHAR`,
  returned: 'returned::VARCHAR',
};

/**
 * The raw values of a line rejected by a cross-row rule, keyed by the export's own headers where the
 * column was mapped. They are rebuilt from the parsed values (the staged file keeps no raw text), so a
 * date shows in UTC ISO form rather than as typed in the export.
 */
function lateRejectRaw(columns: Record<string, string>): string {
  const entries = Object.entries(RAW_VALUE_SQL)
    .filter(
      ([field]) => field === 'customer_id' || field === 'order_ts' || field === 'amount' || columns[field],
    )
    .map(([field, value]) => `${sqlLiteral(columns[field] ?? field)}: ${value}`);
  return `{${entries.join(', ')}}`;
}

/**
 * Erased customers (the suppression list holds hashes, never ids): `relation` without their rows, as
 * a view, and how many rows that leaves out; their rows never reach clean data. Hashing every row
 * costs only while the list is not empty.
 */
export async function withoutSuppressedCustomers(
  connection: DuckDBConnection,
  input: Pick<FinishStagedInput, 'workDir' | 'suppressedHashes'>,
  relation: string,
): Promise<{ relation: string; suppressed: number }> {
  if ((input.suppressedHashes?.length ?? 0) === 0) return { relation, suppressed: 0 };
  const count = async (of: string) =>
    Number((await connection.runAndReadAll(`SELECT count(*) FROM ${of}`)).getRowsJson()[0]?.[0]);
  const hashesPath = join(input.workDir, 'suppressed-hashes.csv');
  writeFileSync(hashesPath, `${input.suppressedHashes!.join('\n')}\n`);
  await connection.run(
    `CREATE TEMP TABLE suppressed_hashes AS SELECT * FROM read_csv(${sqlLiteral(hashesPath)},
       header = false, auto_detect = false, new_line = '\\n', columns = {'hash': 'VARCHAR'})`,
  );
  await connection.run(
    `CREATE VIEW unsuppressed AS SELECT * FROM ${relation}
     WHERE sha256(customer_id) NOT IN (SELECT hash FROM suppressed_hashes)`,
  );
  const suppressed = (await count(relation)) - (await count('unsuppressed'));
  return suppressed > 0 ? { relation: 'unsuppressed', suppressed } : { relation, suppressed: 0 };
}
