/**
 * The canonical clean transaction: one row per accepted export line, as written to
 * `clean/transactions/source=<source>/ingest_date=YYYY-MM-DD/<content-sha256>.parquet` and read by the
 * warehouse SQL (DuckDB locally, Athena in AWS). `source` and `ingest_date` are partition columns taken
 * from the key, not stored in the file.
 *
 * | column       | Parquet type                        | SQL type        | notes                                    |
 * |--------------|-------------------------------------|-----------------|------------------------------------------|
 * | customer_id  | BYTE_ARRAY (UTF8)                   | VARCHAR         | trimmed, non-empty                       |
 * | order_id     | BYTE_ARRAY (UTF8)                   | VARCHAR         | from the export, or a stable row hash    |
 * | order_ts     | INT64 TIMESTAMP(MICROS, UTC)        | TIMESTAMP (UTC) | date-only values are midnight in the     |
 * |              |                                     |                 | source's timezone, converted to UTC      |
 * | amount       | INT64 DECIMAL(18,2)                 | DECIMAL(18,2)   | negative = refund/return                 |
 * | currency     | BYTE_ARRAY (UTF8)                   | VARCHAR         | ISO 4217                                 |
 * | channel      | BYTE_ARRAY (UTF8), optional         | VARCHAR         |                                          |
 * | quantity     | INT64, optional                     | BIGINT          |                                          |
 * | ingest_id    | BYTE_ARRAY (UTF8)                   | VARCHAR         | the ingest that wrote the row            |
 * | ingested_at  | INT64 TIMESTAMP(MICROS, UTC)        | TIMESTAMP (UTC) | later ingests win in cross-file dedupe   |
 * | line_number  | INT64                               | BIGINT          | 1-based line of the row in its export    |
 */
export interface CleanTransaction {
  customerId: string;
  orderId: string;
  /** Epoch microseconds, UTC. */
  orderTsMicros: bigint;
  /** Amount in cents (DECIMAL(18,2) unscaled). */
  amountCents: bigint;
  currency: string;
  channel: string | null;
  quantity: number | null;
  ingestId: string;
  lineNumber: number;
}
