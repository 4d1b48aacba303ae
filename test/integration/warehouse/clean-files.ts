/**
 * Test helper: writes clean transaction Parquet files exactly as `shared/domain/transaction.ts`
 * specifies (column names and types, hive layout and content-hash file name) and puts them into the
 * local S3 stand-in, the way the ingest writes them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { cleanTransactionKey } from '#domain/bucket-layout.ts';

export interface CleanRow {
  customerId: string;
  orderId: string;
  /** ISO 8601 instant, e.g. '1997-01-01T23:30:00Z'. */
  orderTs: string;
  /** Decimal text with at most 2 decimals, e.g. '-12.30'. */
  amount: string;
  currency: string;
  channel?: string | null;
  quantity?: number | null;
  ingestId: string;
  /** ISO 8601 instant. */
  ingestedAt: string;
  lineNumber: number;
}

const nullable = (value: string | number | null | undefined, render: (v: string | number) => string) =>
  value === null || value === undefined ? 'NULL' : render(value);

/** Builds the Parquet bytes of one clean file. */
export async function cleanParquetBytes(rows: readonly CleanRow[]): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'cvm-clean-'));
  const db = await openDuckDb({ threads: 1 });
  try {
    await db.connection.run(`CREATE TABLE clean (
      customer_id VARCHAR NOT NULL,
      order_id VARCHAR NOT NULL,
      order_ts TIMESTAMPTZ NOT NULL,
      amount DECIMAL(18,2) NOT NULL,
      currency VARCHAR NOT NULL,
      channel VARCHAR,
      quantity BIGINT,
      ingest_id VARCHAR NOT NULL,
      ingested_at TIMESTAMPTZ NOT NULL,
      line_number BIGINT NOT NULL
    )`);
    for (let i = 0; i < rows.length; i += 1000) {
      const values = rows
        .slice(i, i + 1000)
        .map(
          (r) =>
            `(${sqlLiteral(r.customerId)}, ${sqlLiteral(r.orderId)}, CAST(${sqlLiteral(r.orderTs)} AS TIMESTAMPTZ), ` +
            `CAST(${sqlLiteral(r.amount)} AS DECIMAL(18,2)), ${sqlLiteral(r.currency)}, ` +
            `${nullable(r.channel, (v) => sqlLiteral(String(v)))}, ${nullable(r.quantity, (v) => String(Math.trunc(Number(v))))}, ` +
            `${sqlLiteral(r.ingestId)}, CAST(${sqlLiteral(r.ingestedAt)} AS TIMESTAMPTZ), ${Math.trunc(r.lineNumber)})`,
        );
      await db.connection.run(`INSERT INTO clean VALUES ${values.join(',\n')}`);
    }
    const file = join(dir, 'clean.parquet');
    await db.connection.run(`COPY clean TO ${sqlLiteral(file)} (FORMAT parquet)`);
    return new Uint8Array(await readFile(file));
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes one clean file to `clean/transactions/source=<s>/ingest_date=<d>/<sha256>.parquet`; returns its key. */
export async function putCleanFile(
  s3: S3Client,
  bucket: string,
  file: { source: string; ingestDate: string; rows: readonly CleanRow[] },
): Promise<string> {
  const bytes = await cleanParquetBytes(file.rows);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const key = cleanTransactionKey(file.source, file.ingestDate, sha);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  return key;
}

/** CDNOW_sample.txt lines → clean rows (USD, one order per line, noon UTC so the date is unambiguous). */
export function cdnowCleanRows(text: string, ingestId: string, ingestedAt: string): CleanRow[] {
  const rows: CleanRow[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 5) continue;
    const [, customer, date, quantity, amount] = fields as [string, string, string, string, string];
    rows.push({
      customerId: customer,
      orderId: `cdnow-${index + 1}`,
      orderTs: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T12:00:00Z`,
      amount,
      currency: 'USD',
      channel: null,
      quantity: Number(quantity),
      ingestId,
      ingestedAt,
      lineNumber: index + 1,
    });
  }
  return rows;
}
