import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCleanSources } from '#adapters/warehouse/clean-sources.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { readParquetParts } from '#adapters/warehouse/parquet-parts.ts';
import {
  customerSummariesStatement,
  dataProfileStatement,
  histogramStatement,
  holdoutStatement,
  recalcStatements,
  trackingStatement,
} from '#adapters/warehouse/queries.ts';
import type { Statement } from '#app/ports/warehouse.ts';
import { runOutputPrefix } from '#domain/bucket-layout.ts';
import { summarizeTransactions } from '#domain/rfm-summary.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { type CleanRow, cdnowCleanRows, putCleanFile } from './clean-files.ts';

const fixture = (name: string) => new URL(`../../fixtures/cdnow/${name}`, import.meta.url);

/** CDNOW's calibration setup (Fader, Hardie & Lee 2005): weeks, calibration end 1997-09-30. */
const CDNOW = {
  asOf: '1998-06-30',
  calibrationEnd: '1997-09-30',
  timeUnit: 'weeks',
  currency: 'USD',
} as const;

describe('DuckDB warehouse over the local S3 stand-in', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let warehouse: DuckDbWarehouse;
  let cdnowRows: CleanRow[];

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-warehouse-cache-'));
    cdnowRows = cdnowCleanRows(
      await readFile(fixture('CDNOW_sample.txt'), 'utf8'),
      'ingest-a',
      '2024-01-01T00:00:00Z',
    );
    warehouse = await open();
  });
  afterAll(async () => {
    await warehouse?.close();
    await stack.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  const open = () =>
    createDuckDbWarehouse({
      s3: stack.clients.s3,
      bucket: stack.config.bucket,
      cacheDirectory,
      duckDb: { threads: 2 },
      rowGroupSize: 1000,
      rowGroupsPerPart: 1,
    });

  it('answers an empty warehouse with empty results, not an error', async () => {
    expect(await warehouse.query(histogramStatement(CDNOW))).toEqual([]);
    expect(await warehouse.query(trackingStatement(CDNOW))).toEqual([]);
    expect(await warehouse.query(dataProfileStatement(CDNOW))).toEqual([
      {
        rowsTotal: 0,
        rowsSuperseded: 0,
        rowsOtherCurrency: 0,
        rowsAfterAsOf: 0,
        rowsUsed: 0,
        customersSeen: 0,
        customersSummarized: 0,
        firstDate: null,
        lastDate: null,
      },
    ]);
    const parts = await warehouse.unload(customerSummariesStatement(CDNOW), {
      bucket: stack.config.bucket,
      prefix: runOutputPrefix('empty-run', 'customer-summaries'),
    });
    const rows: unknown[] = [];
    for await (const batch of readParquetParts(stack.clients.s3, parts.bucket, parts.prefix))
      rows.push(...batch);
    expect(rows).toEqual([]);
  });

  it('reads CDNOW from clean Parquet files and reproduces the published calibration summary', async () => {
    // The first export holds the whole log; an overlapping re-export of the last half year brings the
    // same orders again (later ingest, other partition): they must be counted once.
    await putCleanFile(stack.clients.s3, stack.config.bucket, {
      source: 'cdnow',
      ingestDate: '2024-01-01',
      rows: cdnowRows,
    });
    const overlap = cdnowRows
      .filter((r) => r.orderTs >= '1998-01-01')
      .map((r) => ({ ...r, ingestId: 'ingest-b', ingestedAt: '2024-01-08T00:00:00Z' }));
    await putCleanFile(stack.clients.s3, stack.config.bucket, {
      source: 'cdnow',
      ingestDate: '2024-01-08',
      rows: overlap,
    });
    expect((await warehouse.refresh()).downloaded).toBe(2);

    const [profile] = await warehouse.query(dataProfileStatement(CDNOW));
    expect(profile).toEqual({
      rowsTotal: 6919 + overlap.length,
      rowsSuperseded: overlap.length,
      rowsOtherCurrency: 0,
      rowsAfterAsOf: 0,
      rowsUsed: 6919,
      customersSeen: 2357,
      customersSummarized: 2357,
      firstDate: '1997-01-01',
      lastDate: '1998-06-30',
    });

    // Published values (lifetimes' cdnow_customers_summary_with_transactions.csv, rounded to 2 decimals).
    const published = new Map(
      (await readFile(fixture('cdnow_customers_summary_with_transactions.csv'), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => {
          const [id, x, tx, T, zbar] = line.split(',').map(Number) as [
            number,
            number,
            number,
            number,
            number,
          ];
          return [String(id).padStart(4, '0'), { x, tx, T, zbar }] as const;
        }),
    );
    const calibration = await warehouse.query(customerSummariesStatement(CDNOW));
    // Every customer, including the eight whose first order is worth $0.00 (it still starts the relationship).
    expect(calibration.map((r) => r.customerId).sort()).toEqual([...published.keys()].sort());
    for (const row of calibration) {
      const expected = published.get(row.customerId)!;
      expect(row.frequency, row.customerId).toBe(expected.x);
      // The published values are rounded to 2 decimals.
      expect(Math.abs(row.recency - expected.tx)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs(row.T - expected.T)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs(row.monetaryValue - expected.zbar)).toBeLessThanOrEqual(0.005 + 1e-9);
    }
    expect(calibration.reduce((sum, r) => sum + r.frequency, 0)).toBe(2457);

    // The compressed histogram is what the fit reads: far fewer rows, same customers.
    const histogram = await warehouse.query(histogramStatement(CDNOW));
    expect(histogram.reduce((sum, h) => sum + h.customers, 0)).toBe(calibration.length);
    expect(histogram.length).toBeLessThan(calibration.length / 2);

    // Holdout: the engine's holdout counts, aggregated.
    const engine = summarizeTransactions(
      cdnowRows.map((r) => ({
        customerId: r.customerId,
        date: r.orderTs.slice(0, 10),
        amount: Number(r.amount),
      })),
      { observationEnd: CDNOW.asOf, calibrationEnd: CDNOW.calibrationEnd, unit: 'weeks' },
    );
    const holdout = await warehouse.query(holdoutStatement(CDNOW));
    const engineHoldout = engine.holdout!.frequency.reduce((sum, x) => sum + x, 0);
    expect(holdout.reduce((sum, h) => sum + h.holdoutFrequency * h.customers, 0)).toBe(engineHoldout);
    const tracking = await warehouse.query(trackingStatement(CDNOW));
    expect(tracking.filter((t) => t.period === 'holdout').reduce((s, t) => s + t.repeatPurchases, 0)).toBe(
      engineHoldout,
    );
    expect(
      tracking.filter((t) => t.period === 'calibration').reduce((s, t) => s + t.repeatPurchases, 0),
    ).toBe(2457);
    expect(tracking.at(-1)).toMatchObject({ week: 39, weekStart: '1998-06-24', period: 'holdout' });
  });

  it('unloads per-customer summaries as Parquet parts that readParquetParts reads back unchanged', async () => {
    const statement = customerSummariesStatement({ ...CDNOW, calibrationEnd: undefined });
    const target = { bucket: stack.config.bucket, prefix: runOutputPrefix('run-1', statement.name) };
    const parts = await warehouse.unload(statement, target);
    // Two writer threads and one row group per part: several parts, read one after the other.
    expect(parts.keys.length).toBeGreaterThanOrEqual(2);
    expect(parts.keys.every((k) => k.startsWith('runs/run-1/customer-summaries/part-'))).toBe(true);

    const fromParts = [];
    let batches = 0;
    for await (const batch of readParquetParts(
      stack.clients.s3,
      parts.bucket,
      parts.prefix,
      statement.decode,
    )) {
      batches++;
      fromParts.push(...batch);
    }
    expect(batches).toBeGreaterThanOrEqual(parts.keys.length);
    const direct = await warehouse.query(statement);
    expect(fromParts.sort(statement.compare)).toEqual(direct);
    expect(direct).toHaveLength(2357);
    expect(direct.find((r) => r.customerId === '0001')).toEqual({
      customerId: '0001',
      frequency: 3,
      recency: expect.closeTo(345 / 7, 12),
      T: expect.closeTo(545 / 7, 12),
      monetaryValue: expect.closeTo((29.73 + 14.96 + 26.48) / 3, 10),
      firstPurchaseDate: '1997-01-01',
      lastPurchaseDate: '1997-12-12',
      historicRevenue: 100.5,
      historicOrders: 4,
      recencyScore: expect.any(Number),
      frequencyScore: expect.any(Number),
      monetaryScore: expect.any(Number),
    });

    // A retried unload replaces the parts instead of adding to them.
    const again = await warehouse.unload(statement, target);
    const listed = await stack.clients.s3.send(
      new ListObjectsV2Command({ Bucket: target.bucket, Prefix: target.prefix }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(again.keys);
  });

  it('syncs incrementally: unchanged files stay, new files arrive, deleted files leave', async () => {
    expect(await warehouse.refresh()).toMatchObject({ objects: 2, downloaded: 0, removed: 0, unchanged: 2 });

    // The same order id from another source is another order.
    const otherSource = await putCleanFile(stack.clients.s3, stack.config.bucket, {
      source: 'shop',
      ingestDate: '2024-01-09',
      rows: [
        { ...cdnowRows[0]!, ingestId: 'ingest-c', ingestedAt: '2024-01-09T00:00:00Z', customerId: 'new-1' },
      ],
    });
    expect(await warehouse.refresh()).toMatchObject({ objects: 3, downloaded: 1, removed: 0 });
    expect(await listCleanSources(stack.clients.s3, stack.config.bucket)).toEqual(['cdnow', 'shop']);
    const [onlyShop] = await warehouse.query(dataProfileStatement({ ...CDNOW, sources: ['shop'] }));
    expect(onlyShop).toMatchObject({ rowsTotal: 1, rowsUsed: 1, customersSummarized: 1 });
    const [withShop] = await warehouse.query(dataProfileStatement(CDNOW));
    expect(withShop).toMatchObject({ rowsUsed: 6920, customersSummarized: 2358 });

    await stack.clients.s3.send(new DeleteObjectCommand({ Bucket: stack.config.bucket, Key: otherSource }));
    expect(await warehouse.refresh()).toMatchObject({ objects: 2, downloaded: 0, removed: 1 });
    const [withoutShop] = await warehouse.query(dataProfileStatement(CDNOW));
    expect(withoutShop).toMatchObject({ rowsUsed: 6919, customersSummarized: 2357 });
  });

  it('runs every recalculation statement and names the statement when one fails', async () => {
    const statements = Object.values(recalcStatements(CDNOW));
    expect(statements.map((s) => s.name).sort()).toEqual([
      'calibration-histogram',
      'cohorts',
      'customer-summaries',
      'data-profile',
      'histogram',
      'holdout',
      'spend',
      'tracking',
    ]);
    for (const statement of statements) {
      expect((await warehouse.query(statement as Statement<unknown>)).length, statement.name).toBeGreaterThan(
        0,
      );
    }
    await expect(
      warehouse.query({ name: 'broken', sql: 'SELECT no_such_column FROM transactions', decode: (r) => r }),
    ).rejects.toThrow(/Warehouse statement 'broken' failed on DuckDB: .*no_such_column/);
  });
});
