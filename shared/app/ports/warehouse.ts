/**
 * The warehouse port: runs the recalculation's SQL (rendered by `queries.ts`) over the clean
 * transactions, on Athena in AWS and on DuckDB locally. Both adapters run the *same SQL text*; they
 * only differ in how a result leaves the engine:
 * - small results (histograms, tracking series, profile) come back as rows;
 * - large results (one row per customer) are written as Parquet parts under an S3 prefix, read back
 *   part by part with `readParquetParts` (the same code in both modes).
 */

/**
 * Rows of the holdout check's statements: defined with the check (pure domain) that consumes them.
 */
export type { CohortRow, HoldoutRow, TrackingRow } from '#domain/recalc/holdout-check.ts';

import type { SummaryEconomics } from '#domain/economics/score-economics.ts';

/** One SQL statement of the common Trino/DuckDB subset, and how to turn a result row into `Row`. */
export interface Statement<Row> {
  /** Short kebab-case name, used in S3 prefixes, logs and error messages. */
  readonly name: string;
  /** A single SELECT (no trailing semicolon, no ORDER BY: UNLOAD output has no order). */
  readonly sql: string;
  /**
   * Turns one raw result row (keys = SQL column names; BIGINT as bigint or number, DOUBLE as number,
   * VARCHAR as string) into a typed row. Throws an error naming the statement and the column.
   */
  decode(raw: Record<string, unknown>): Row;
  /** Order of the decoded rows returned by `Warehouse.query` (the SQL itself has none). */
  compare?(a: Row, b: Row): number;
  /**
   * Per-customer statements only: unload the rows in this many parts by customer bucket, one folder
   * `part=<bucket>/` each (the SQL has a `customer_id` column). Absent = as the engine writes them.
   */
  readonly parts?: number;
  /** The SQL's last column is a partition column of this name (already computed): one folder per value. */
  readonly partitionedBy?: string;
}

/** Where a large result was written: every key is one Parquet part (possibly none for no rows). */
export interface ParquetParts {
  bucket: string;
  /** Ends with '/'. */
  prefix: string;
  /** Full object keys of the parts, sorted. */
  keys: string[];
}

export interface UnloadTarget {
  bucket: string;
  /** Ends with '/'; anything already under it is deleted first, so a retried step starts clean. */
  prefix: string;
}

export interface Warehouse {
  readonly engine: 'athena' | 'duckdb';
  /** Runs a statement with a small result and returns its decoded rows (sorted by `compare`). */
  query<Row>(statement: Statement<Row>): Promise<Row[]>;
  /** Runs a statement with a large result and writes it as Parquet parts under `target.prefix`. */
  unload(statement: Statement<unknown>, target: UnloadTarget): Promise<ParquetParts>;
  /** Releases engine resources (DuckDB instance); the SDK clients belong to the caller. */
  close(): Promise<void>;
}

/** Time unit of recency/T, as in `shared/domain/rfm-summary.ts`. */
export type WarehouseTimeUnit = 'days' | 'weeks';

/**
 * One customer's full-period summary (calibration end = as-of date), the input of scoring.
 * Same rules as `summarizeTransactions` in `shared/domain/rfm-summary.ts`.
 */
export interface CustomerSummaryRow {
  customerId: string;
  /** Repeat purchase days (x). */
  frequency: number;
  /** Last − first purchase day, in the time unit (t_x). */
  recency: number;
  /** As-of − first purchase day, in the time unit. */
  T: number;
  /** Mean net value of the repeat purchase days; 0 when there are none. */
  monetaryValue: number;
  /** YYYY-MM-DD (UTC). */
  firstPurchaseDate: string;
  /** YYYY-MM-DD (UTC). */
  lastPurchaseDate: string;
  /** Net value of every row up to the as-of date (refunds included, so it can be ≤ 0 per day). */
  historicRevenue: number;
  /** Distinct orders up to the as-of date (after cross-file de-duplication). */
  historicOrders: number;
  /**
   * RFM scores 1–5 over all summarized customers; ties get the same score
   * (score = 1 + floor(5 · (rank − 1) / customers)). R ranks the last purchase date (latest = 5),
   * F the purchase days, M the historic revenue.
   */
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
  /** The customer's economics, only when the run has economics (docs/economics.md). */
  economics?: SummaryEconomics;
}

/** Compressed calibration data for the purchase model fit: one row per distinct (x, t_x, T). */
export interface HistogramRow {
  frequency: number;
  recency: number;
  T: number;
  customers: number;
}

/** Gamma-Gamma input: customers with x > 0, one row per distinct (x, monetary value). */
export interface SpendRow {
  frequency: number;
  monetaryValue: number;
  customers: number;
}

/** What went into a run, for the run record and for clear messages on empty or odd data. */
export interface DataProfileRow {
  /** Rows in the clean data, before anything is dropped. */
  rowsTotal: number;
  /** Rows dropped because a later ingest brought the same (source, order_id). */
  rowsSuperseded: number;
  /** Rows (after de-duplication) in another currency than the run's. */
  rowsOtherCurrency: number;
  /** Rows (after de-duplication, run currency) dated after the as-of date. */
  rowsAfterAsOf: number;
  /** Rows used. */
  rowsUsed: number;
  /** Customers with at least one row used. */
  customersSeen: number;
  /** Customers summarized: first purchase day (net value ≥ 0) on or before the calibration end. */
  customersSummarized: number;
  /** First and last transaction date used (YYYY-MM-DD), null when no rows. */
  firstDate: string | null;
  lastDate: string | null;
}

/**
 * One source's clean data in one currency (latest ingest of each order), before a run selects it:
 * defined with the data selection (pure domain) that consumes it.
 */
export type { SourceCurrencyData as SourceProfileRow } from '#domain/recalc/data-selection.ts';

/** The run's input beyond the profile: amount, orders, one-time buyers, cross-source duplicates. */
export interface InputProfileRow {
  /** Net amount of the rows used, in the run currency. */
  amountUsed: number;
  /** Distinct (source, order id) among the rows used. */
  ordersUsed: number;
  /** Summarized customers without a repeat purchase day. */
  oneTimeBuyers: number;
  /**
   * Candidate rows (latest ingest, run currencies, up to as-of) identical in customer, order time,
   * amount and currency to a row of an earlier source (by name), and their amount in the run
   * currency; used or not depending on `crossSourceDuplicates`.
   */
  crossSourceDuplicateRows: number;
  crossSourceDuplicateAmount: number;
}

/**
 * Everything a run reads of its input before rendering the summaries, from one statement (one scan):
 * the data profile, the input profile, and whether the data has economics (order rows with figures
 * of their own, customer attributes rows).
 */
export interface RunProfileRow extends DataProfileRow, InputProfileRow {
  orderRowsWithFigures: number;
  attributeRows: number;
}
