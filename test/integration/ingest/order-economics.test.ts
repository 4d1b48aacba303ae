/**
 * Order-economics columns end to end on the local stand-ins: an export with cost, margin, discount,
 * shipping and return columns becomes clean Parquet with nullable DECIMAL(18,2) and BOOLEAN columns,
 * bad values are row rejects with their reason and line, an export without such columns is written
 * exactly as before, and the warehouse reads old and new clean files together.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { createDuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { customerSummariesStatement, dataProfileStatement } from '#adapters/warehouse/queries.ts';
import type { Statement } from '#app/ports/warehouse.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { getObjectBytes, putSourceConfig, readCleanParquet, readRejects, upload } from './support.ts';

const NOW = new Date('2025-10-01T12:00:00.000Z');

const ECONOMICS_EXPORT = [
  'klantnummer;ordernummer;besteldatum;bedrag;inkoopprijs;marge %;korting;verzendkosten;retourbedrag;geretourneerd',
  'K1;B1;2025-01-05;100,00;40,00;;5,00;4,95;;nee', // line 2
  'K1;B2;2025-02-05;80,00;;25 %;;;20,00;', // 3: the rate is stored as margin 20.00
  'K2;B3;2025-03-05;50,00;;;;;;ja', // 4
  'K2;B4;2025-03-06;60,00;-1,00;;;;;', // 5: cost_invalid
  'K3;B5;2025-03-07;70,00;;35;;;;', // 6: margin_rate_invalid
  'K3;B6;2025-03-08;70,00;;;;;;', // 7
].join('\n');

/** Reads the economics columns of a clean file back as text, in line order. */
async function readEconomics(stack: LocalStack, key: string) {
  const dir = await mkdtemp(join(tmpdir(), 'cvm-economics-'));
  const path = join(dir, 'clean.parquet');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, await getObjectBytes(stack, key));
  const db = await openDuckDb({ threads: 1, memoryLimit: '64MB' });
  try {
    const reader = await db.connection.runAndReadAll(
      `SELECT line_number, cost::VARCHAR AS cost, margin_amount::VARCHAR AS margin_amount,
              discount::VARCHAR AS discount, shipping_cost::VARCHAR AS shipping_cost,
              returned_amount::VARCHAR AS returned_amount, returned
       FROM read_parquet(${sqlLiteral(path)}) ORDER BY line_number`,
    );
    return reader.getRowObjectsJson();
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('order economics through the ingest', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  const deps = () => ({ config: stack.config, clients: stack.clients, now: () => NOW });
  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-economics-cache-'));
  });
  afterAll(async () => {
    await stack.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('writes the economics columns to clean Parquet and rejects bad values with reason and line', async () => {
    // Two bad rows of six would quarantine the file under the default 20 % limit.
    await putSourceConfig(stack, 'shop', { maxRejectRatio: 0.5 });
    const ref = await upload(stack, 'incoming/shop/economics.csv', ECONOMICS_EXPORT);
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 6,
      accepted: 4,
      rejected: 2,
      rejectReasons: { cost_invalid: 1, margin_rate_invalid: 1 },
    });
    expect(report.detected?.columns).toMatchObject({
      cost: 'inkoopprijs',
      margin_rate: 'marge %',
      discount: 'korting',
      shipping_cost: 'verzendkosten',
      returned_amount: 'retourbedrag',
      returned: 'geretourneerd',
    });
    const rejects = await readRejects(stack, report.rejectedKey!);
    expect(rejects.map(({ line, reason }) => [line, reason])).toEqual([
      [5, 'cost_invalid'],
      [6, 'margin_rate_invalid'],
    ]);
    expect(rejects[0]!.message).toBe("cost: '-1,00' is negative; the cost of goods is an amount ≥ 0");
    expect(rejects[1]!.message).toMatch(/^margin_rate: '35' is above 1; a rate is a share/);

    const parquet = await readCleanParquet(stack, report.cleanKey!);
    expect(parquet.types).toMatchObject({
      amount: 'DECIMAL(18,2)',
      cost: 'DECIMAL(18,2)',
      margin_amount: 'DECIMAL(18,2)',
      discount: 'DECIMAL(18,2)',
      shipping_cost: 'DECIMAL(18,2)',
      returned_amount: 'DECIMAL(18,2)',
      returned: 'BOOLEAN',
    });
    expect(await readEconomics(stack, report.cleanKey!)).toEqual([
      {
        line_number: '2',
        cost: '40.00',
        margin_amount: null,
        discount: '5.00',
        shipping_cost: '4.95',
        returned_amount: null,
        returned: false,
      },
      {
        line_number: '3',
        cost: null,
        margin_amount: '20.00',
        discount: null,
        shipping_cost: null,
        returned_amount: '20.00',
        returned: null,
      },
      {
        line_number: '4',
        cost: null,
        margin_amount: null,
        discount: null,
        shipping_cost: null,
        returned_amount: null,
        returned: true,
      },
      {
        line_number: '7',
        cost: null,
        margin_amount: null,
        discount: null,
        shipping_cost: null,
        returned_amount: null,
        returned: null,
      },
    ]);

    // The same bytes again: nothing new (the content was ingested).
    const again = await ingestObject(
      deps(),
      await upload(stack, 'incoming/shop/economics-again.csv', ECONOMICS_EXPORT),
    );
    expect(again).toMatchObject({
      status: 'succeeded',
      accepted: 0,
      duplicates: 6,
      duplicateOfIngestId: report.ingestId,
    });
  });

  it('writes an export without economics columns exactly as before, and the warehouse reads both', async () => {
    const plain = 'customer_id,order_id,order_date,amount\nK1,B9,2025-04-01,30.00\nP1,X1,2025-04-02,15.00\n';
    const report = await ingestObject(deps(), await upload(stack, 'incoming/store/plain.csv', plain));
    expect(report).toMatchObject({ status: 'succeeded', accepted: 2 });
    const parquet = await readCleanParquet(stack, report.cleanKey!);
    expect(Object.keys(parquet.types)).toEqual([
      'customer_id',
      'order_id',
      'order_ts',
      'amount',
      'currency',
      'channel',
      'quantity',
      'ingest_id',
      'ingested_at',
      'line_number',
    ]);

    const warehouse = await createDuckDbWarehouse({
      s3: stack.clients.s3,
      bucket: stack.config.bucket,
      cacheDirectory,
      duckDb: { threads: 1 },
    });
    try {
      const params = { asOf: '2025-06-30', timeUnit: 'weeks', currency: 'EUR' } as const;
      const [profile] = await warehouse.query(dataProfileStatement(params));
      expect(profile).toMatchObject({ rowsTotal: 6, rowsUsed: 6, customersSeen: 4 });
      const summaries = await warehouse.query(customerSummariesStatement(params));
      expect(summaries.map((s) => [s.customerId, s.historicOrders, s.historicRevenue])).toEqual([
        ['K1', 3, 210],
        ['K2', 1, 50],
        ['K3', 1, 70],
        ['P1', 1, 15],
      ]);
      // Old and new files in one relation: the plain file's rows read NULL economics.
      const economicsBySource: Statement<{ source: string; rows: number; cost: string | null }> = {
        name: 'economics-by-source',
        sql: `SELECT source, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(cost) AS VARCHAR) AS cost
              FROM transactions GROUP BY source`,
        decode: (raw) => ({
          source: String(raw.source),
          rows: Number(raw.n),
          cost: raw.cost === null ? null : String(raw.cost),
        }),
        compare: (a, b) => a.source.localeCompare(b.source),
      };
      expect(await warehouse.query(economicsBySource)).toEqual([
        { source: 'shop', rows: 4, cost: '40.00' },
        { source: 'store', rows: 2, cost: null },
      ]);
    } finally {
      await warehouse.close();
    }
  });

  it('exposes the economics columns when no clean file has them yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cvm-economics-plain-'));
    const other = await startLocalStack();
    try {
      const plain = 'customer_id,order_id,order_date,amount\nA1,O1,2025-04-01,30.00\n';
      const deps2 = { config: other.config, clients: other.clients, now: () => NOW };
      await ingestObject(deps2, await upload(other, 'incoming/store/plain.csv', plain));
      const warehouse = await createDuckDbWarehouse({
        s3: other.clients.s3,
        bucket: other.config.bucket,
        cacheDirectory: dir,
        duckDb: { threads: 1 },
      });
      try {
        const statement: Statement<{ cost: unknown; returned: unknown }> = {
          name: 'economics-columns',
          sql: 'SELECT cost, returned FROM transactions',
          decode: (raw) => ({ cost: raw.cost, returned: raw.returned }),
        };
        expect(await warehouse.query(statement)).toEqual([{ cost: null, returned: null }]);
      } finally {
        await warehouse.close();
      }
    } finally {
      await other.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
