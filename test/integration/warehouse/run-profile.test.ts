/**
 * The run profile (one scan: data profile, input profile, economics presence) on clean data of the
 * local stack: its presence counts equal the economics presence statement's, and its profile columns
 * equal the data and input profiles of the same parameters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { economicsPresenceStatement } from '#adapters/warehouse/economics-summaries.ts';
import {
  dataProfileStatement,
  inputProfileStatement,
  runProfileStatement,
} from '#adapters/warehouse/queries.ts';
import { incomingAttributesKey, incomingKey } from '#domain/bucket-layout.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { upload } from '../ingest/support.ts';

const ORDERS = [
  'customer_id,order_id,order_date,amount,cost,discount,shipping_cost,returned_amount,returned,channel',
  'A,1,2025-01-05,100.00,40.00,5.00,4.95,,,web',
  'A,2,2025-02-05,80.00,,,,20.00,,web',
  'B,3,2025-01-06,100.00,70.00,,,,yes,store',
  'B,4,2025-02-06,80.00,,,,,,store',
  'B,4,2025-02-06,5.00,,,,,,store',
];
// The same order as A's first in another source (a cross-source duplicate), a refund-only customer D.
const PLAIN = [
  'customer_id,order_id,order_date,amount',
  'C,5,2025-03-01,30.00',
  'A,6,2025-03-02,10.00',
  'A,1,2025-01-05,100.00',
  'D,7,2025-03-03,-15.00',
];

describe('run profile: one statement for the profile and the economics presence', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let warehouse: DuckDbWarehouse;
  const ingest = async (key: string, body: string, at: string) =>
    ingestObject(
      { config: stack.config, clients: stack.clients, now: () => new Date(at) },
      await upload(stack, key, body),
    );

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-run-profile-'));
    warehouse = await createDuckDbWarehouse({
      s3: stack.clients.s3,
      bucket: stack.config.bucket,
      cacheDirectory,
      duckDb: { threads: 1 },
    });
  }, 60_000);
  afterAll(async () => {
    await warehouse?.close();
    await stack?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('counts what the separate statements count, from one scan', async () => {
    await ingest(incomingKey('shop', 'orders.csv'), ORDERS.join('\n'), '2025-04-02T00:00:00Z');
    await ingest(incomingKey('store', 'plain.csv'), PLAIN.join('\n'), '2025-04-03T00:00:00Z');
    await ingest(
      incomingAttributesKey('shop', 'first.csv'),
      'customer_id,acquisition_channel,acquisition_cost\nA,google,20.00\nB,referral,\n',
      '2025-04-04T00:00:00Z',
    );
    await warehouse.refresh();
    for (const sources of [['shop', 'store'], ['store'], ['shop']]) {
      for (const crossSourceDuplicates of ['keep', 'collapse'] as const) {
        const params = { asOf: '2025-02-28', currency: 'EUR', sources, crossSourceDuplicates };
        const [profile] = await warehouse.query(runProfileStatement(params));
        const [data] = await warehouse.query(dataProfileStatement(params));
        const [input] = await warehouse.query(inputProfileStatement(params));
        const [presence] = await warehouse.query(economicsPresenceStatement({ sources }));
        expect(profile, `${sources} ${crossSourceDuplicates}`).toEqual({ ...data, ...input, ...presence });
      }
    }
    // Figures of their own: orders 1 (cost, discount, shipping), 2 (returned amount), 3 (cost,
    // returned); the attributes rows belong to shop. Orders: shop 1–4, store 5, 6, 1 and 7 (a (source,
    // order id) pair each); D only refunded, so A, B and C are summarized.
    const [both] = await warehouse.query(
      runProfileStatement({ asOf: '2025-06-30', currency: 'EUR', sources: ['shop', 'store'] }),
    );
    expect(both).toMatchObject({
      orderRowsWithFigures: 3,
      attributeRows: 2,
      rowsTotal: 9,
      ordersUsed: 8,
      crossSourceDuplicateRows: 1,
      customersSummarized: 3,
    });
  });
});
