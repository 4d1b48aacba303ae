/**
 * The data-selection statements and parameters on both engines: the source profile, the input profile
 * and every recalculation statement rendered with fixed fx rates and collapsed cross-source duplicates
 * are submitted to Athena as exactly the text DuckDB runs, and give the same rows (same technique as
 * same-sql.test.ts: a mocked Athena client that performs the UNLOAD on DuckDB).
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AthenaWarehouse } from '#adapters/warehouse/athena-warehouse.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import {
  inputProfileStatement,
  recalcStatements,
  sourceProfileStatement,
} from '#adapters/warehouse/queries.ts';
import type { Statement } from '#app/ports/warehouse.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { type AthenaOverDuckDb, athenaOverDuckDb } from './athena-over-duckdb.ts';
import { type CleanRow, cdnowCleanRows, putCleanFile } from './clean-files.ts';

const SOURCES = ['cdnow', 'copy', 'eu'];
const BASE = {
  asOf: '1998-06-30',
  calibrationEnd: '1998-03-31',
  timeUnit: 'weeks',
  currency: 'USD',
  sources: SOURCES,
} as const;

describe('data selection SQL: the same text and rows on Athena and DuckDB', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let duck: DuckDbWarehouse;
  let athenaWarehouse: AthenaWarehouse;
  let cdnow: CleanRow[];
  const copied = 300;
  let submittedToAthena: string[] = [];
  let athenaStandIn: AthenaOverDuckDb;

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-same-sql-selection-'));
    const text = await readFile(new URL('../../fixtures/cdnow/CDNOW_sample.txt', import.meta.url), 'utf8');
    cdnow = cdnowCleanRows(text, 'ingest-a', '2024-01-01T00:00:00Z');
    const put = (source: string, rows: CleanRow[]) =>
      putCleanFile(stack.clients.s3, stack.config.bucket, { source, ingestDate: '2024-01-01', rows });
    await put('cdnow', cdnow);
    // The same orders exported again under another source (other order ids, as a second system would).
    await put(
      'copy',
      cdnow.slice(0, copied).map((row, i) => ({ ...row, orderId: `copy-${i}`, ingestId: 'ingest-b' })),
    );
    // Euro orders of some of the same customers, and a few after the as-of date.
    await put(
      'eu',
      cdnow.slice(1000, 1400).map((row, i) => ({
        ...row,
        orderId: `eu-${i}`,
        currency: 'EUR',
        orderTs: i < 10 ? '1998-07-15T12:00:00Z' : row.orderTs,
        ingestId: 'ingest-c',
      })),
    );
    duck = await createDuckDbWarehouse({ s3: stack.clients.s3, bucket: stack.config.bucket, cacheDirectory });
    athenaStandIn = athenaOverDuckDb(stack, duck);
    submittedToAthena = athenaStandIn.submitted;
    athenaWarehouse = athenaStandIn.warehouse;
  });
  afterAll(async () => {
    athenaStandIn?.restore();
    await duck?.close();
    await stack?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  async function bothEngines<Row>(statement: Statement<Row>): Promise<Row[]> {
    submittedToAthena.length = 0;
    const fromDuckDb = await duck.query(statement);
    const fromAthena = await athenaWarehouse.query(statement);
    expect(submittedToAthena, statement.name).toEqual([statement.sql]);
    expect(fromAthena, statement.name).toEqual(fromDuckDb);
    return fromDuckDb;
  }

  it('source profile: rows, amounts and dates per source and currency', async () => {
    const rows = await bothEngines(sourceProfileStatement({ asOf: BASE.asOf, sources: SOURCES }));
    expect(rows.map((r) => [r.source, r.currency, r.rows, r.rowsAfterAsOf])).toEqual([
      ['cdnow', 'USD', cdnow.length, 0],
      ['copy', 'USD', copied, 0],
      ['eu', 'EUR', 400, 10],
    ]);
    expect(rows[2]!.lastDate! <= BASE.asOf).toBe(true);
  });

  it('every statement with fixed rates and collapsed duplicates', async () => {
    const params = { ...BASE, fxRates: { EUR: 1.1 }, crossSourceDuplicates: 'collapse' as const };
    for (const statement of Object.values(recalcStatements(params))) {
      expect((await bothEngines(statement as Statement<unknown>)).length, statement.name).toBeGreaterThan(0);
    }
    const [input] = await bothEngines(inputProfileStatement(params));
    expect(input!.crossSourceDuplicateRows).toBe(copied);
    const [kept] = await bothEngines(inputProfileStatement({ ...params, crossSourceDuplicates: 'keep' }));
    expect(kept!.crossSourceDuplicateRows).toBe(copied);
    expect(kept!.ordersUsed - input!.ordersUsed).toBe(copied);
  });

  it('converts at the fixed rate exactly and collapses to the single-source figures', async () => {
    const single = { ...BASE, sources: ['cdnow'] };
    const collapsed = { ...BASE, crossSourceDuplicates: 'collapse' as const };
    const [profileSingle] = await duck.query(recalcStatements(single).dataProfile);
    const [profileCollapsed] = await duck.query(recalcStatements(collapsed).dataProfile);
    expect(profileCollapsed!.rowsUsed).toBe(profileSingle!.rowsUsed);
    const usd = await duck.query(inputProfileStatement(single));
    const withEuro = await duck.query(inputProfileStatement({ ...collapsed, fxRates: { EUR: 1.1 } }));
    const euroUsed = cdnow
      .slice(1010, 1400)
      .reduce((sum, row) => sum + Math.round(Number(row.amount) * 100), 0);
    expect(withEuro[0]!.amountUsed - usd[0]!.amountUsed).toBeCloseTo((euroUsed / 100) * 1.1, 6);
  });
});
