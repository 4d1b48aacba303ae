/**
 * The customer summaries are unloaded in parts the pipeline chooses: B = ceil(customers /
 * partCustomers) hash buckets of the customer id, one folder `part=<bucket>/` each, by DuckDB's COPY
 * and by Athena's UNLOAD (the Athena adapter over DuckDB: same text, partitioned_by). Each part holds
 * exactly its bucket's customers, the Map's listing and readParquetParts see every row once, and the
 * scores are those of the unsplit statement.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { listParquetParts, readParquetPart, readParquetParts } from '#adapters/warehouse/parquet-parts.ts';
import { customerBucketSql, recalcStatements } from '#adapters/warehouse/queries.ts';
import type { CustomerSummaryRow, Statement } from '#app/ports/warehouse.ts';
import { runOutputPrefix } from '#domain/bucket-layout.ts';
import { summaryPartCount } from '#domain/recalc/summary-parts.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { type AthenaOverDuckDb, athenaOverDuckDb } from './athena-over-duckdb.ts';
import { cdnowCleanRows, putCleanFile } from './clean-files.ts';

/**
 * The bucket as Trino defines it for `customerBucketSql`: sha256 of the UTF-8 bytes, `to_hex` (upper
 * case), the first 15 hex digits read by `from_base(…, 16)`, modulo the part count.
 */
function trinoBucket(customerId: string, parts: number): number {
  const hex = createHash('sha256').update(customerId, 'utf8').digest('hex').toUpperCase();
  return Number(BigInt(`0x${hex.slice(0, 15)}`) % BigInt(parts));
}

const PARAMS = { asOf: '1998-06-30', timeUnit: 'weeks' as const, currency: 'USD', sources: ['cdnow'] };

describe('customer bucket', () => {
  it('is the same number in DuckDB as Trino computes from its definition, for any id', async () => {
    const db = await openDuckDb({ threads: 1 });
    try {
      const ids = [
        '',
        '1',
        '00042',
        'cust-7',
        "o'brien",
        'Ünïcødé-客户-😀',
        'a'.repeat(300),
        ...Array.from({ length: 200 }, (_, i) => `C${(i * 7919) % 100_003}`),
      ];
      for (const parts of [1, 2, 7, 100]) {
        const rows = (
          await db.connection.runAndReadAll(
            `SELECT id, ${customerBucketSql('id', parts)} AS bucket FROM (VALUES ${ids
              .map((id) => `(${sqlLiteral(id)})`)
              .join(', ')}) AS t(id)`,
          )
        ).getRowObjectsJS();
        expect(rows).toHaveLength(ids.length);
        for (const row of rows) {
          expect(Number(row.bucket), `${row.id} of ${parts}`).toBe(trinoBucket(String(row.id), parts));
        }
      }
    } finally {
      db.close();
    }
  });

  it('spreads customers evenly enough to bound a part', async () => {
    const counts = new Array<number>(20).fill(0);
    for (let i = 0; i < 100_000; i++) counts[trinoBucket(`customer-${i}`, 20)]! += 1;
    // 5,000 expected per bucket; a binomial standard deviation is ≈ 69.
    expect(Math.max(...counts)).toBeLessThan(5_400);
    expect(Math.min(...counts)).toBeGreaterThan(4_600);
  });
});

describe('customer summaries in bucket parts (DuckDB COPY and Athena UNLOAD)', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let duck: DuckDbWarehouse;
  let athena: AthenaOverDuckDb;
  let unsplitRows: CustomerSummaryRow[];

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-summary-parts-'));
    const text = await readFile(new URL('../../fixtures/cdnow/CDNOW_sample.txt', import.meta.url), 'utf8');
    await putCleanFile(stack.clients.s3, stack.config.bucket, {
      source: 'cdnow',
      ingestDate: '2024-01-01',
      rows: cdnowCleanRows(text, 'ingest-a', '2024-01-01T00:00:00Z'),
    });
    duck = await createDuckDbWarehouse({ s3: stack.clients.s3, bucket: stack.config.bucket, cacheDirectory });
    athena = athenaOverDuckDb(stack, duck);
    unsplitRows = await duck.query(recalcStatements(PARAMS).customerSummaries);
  });
  afterAll(async () => {
    athena?.restore();
    await duck?.close();
    await stack?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  async function rowsByPart(prefix: string, statement: Statement<CustomerSummaryRow>) {
    const byPart = new Map<number, CustomerSummaryRow[]>();
    for (const part of await listParquetParts(stack.clients.s3, stack.config.bucket, prefix)) {
      const bucket = /\/part=(\d+)\/[^/]+\.parquet$/.exec(part.key);
      expect(bucket, part.key).not.toBeNull();
      const rows = byPart.get(Number(bucket![1])) ?? [];
      for await (const batch of readParquetPart(stack.clients.s3, stack.config.bucket, part.key, part.size)) {
        rows.push(...batch.map(statement.decode));
      }
      byPart.set(Number(bucket![1]), rows);
    }
    return byPart;
  }

  for (const engine of ['duckdb', 'athena'] as const) {
    it(`${engine}: B = ceil(customers / partCustomers) parts, each one bucket, every customer once, same scores`, async () => {
      const customers = unsplitRows.length;
      expect(customers).toBe(2357);
      const partCustomers = 500;
      const parts = summaryPartCount(customers, partCustomers);
      expect(parts).toBe(5);
      const statement = recalcStatements({ ...PARAMS, customers, partCustomers }).customerSummaries;
      expect(statement.parts).toBe(parts);
      const prefix = runOutputPrefix(`parts-${engine}`, statement.name);
      const warehouse = engine === 'duckdb' ? duck : athena.warehouse;
      athena.submitted.length = 0;
      await warehouse.unload(statement, { bucket: stack.config.bucket, prefix });
      if (engine === 'athena') {
        // The text Athena ran encloses the statement's own SQL, with the bucket as last column.
        expect(athena.submitted).toHaveLength(1);
        expect(athena.submitted[0]).toContain(statement.sql);
        expect(athena.submitted[0]).toContain(`${customerBucketSql('unloaded.customer_id', parts)} AS part`);
      }

      const byPart = await rowsByPart(prefix, statement);
      expect([...byPart.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
      const seen = new Set<string>();
      for (const [bucket, rows] of byPart) {
        // Bounded: the hash spreads 2357 customers over 5 buckets (≈ 471 each).
        expect(rows.length).toBeGreaterThan(350);
        expect(rows.length).toBeLessThan(600);
        for (const row of rows) {
          expect(trinoBucket(row.customerId, parts), row.customerId).toBe(bucket);
          expect(seen.has(row.customerId), row.customerId).toBe(false);
          seen.add(row.customerId);
        }
      }
      // What the scoring reads (readParquetParts over the prefix, as the Map lists it): the unsplit rows.
      const read: CustomerSummaryRow[] = [];
      for await (const batch of readParquetParts(
        stack.clients.s3,
        stack.config.bucket,
        prefix,
        statement.decode,
      )) {
        read.push(...batch);
      }
      expect(read.sort(statement.compare)).toEqual(unsplitRows);
    });
  }
});
