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
 * | cost            | INT64 DECIMAL(18,2), optional   | DECIMAL(18,2)   | order economics (docs/economics.md)  |
 * | margin_amount   | INT64 DECIMAL(18,2), optional   | DECIMAL(18,2)   | a margin rate is stored resolved     |
 * | discount        | INT64 DECIMAL(18,2), optional   | DECIMAL(18,2)   | ≥ 0 (a written -5.00 is 5.00 off)    |
 * | shipping_cost   | INT64 DECIMAL(18,2), optional   | DECIMAL(18,2)   | ≥ 0                                  |
 * | returned_amount | INT64 DECIMAL(18,2), optional   | DECIMAL(18,2)   | 0 ≤ … ≤ amount                       |
 * | returned        | BOOLEAN, optional               | BOOLEAN         | the whole order was returned         |
 *
 * The order-economics columns are written only for an export that has at least one of them (NULL where
 * a row leaves one empty); every other clean file has exactly the first ten columns, as before. Both
 * engines read columns by name, so files with and without them are read together (missing = NULL). A
 * row's margin rate is stored as margin_amount = amount × rate in whole cents
 * (`storedOrderEconomics`), so clean data holds money only.
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
