/**
 * The economics statements on the local stack: orders with cost, discount, shipping and return columns
 * (and an older file without them) summed per customer in SQL, folded by the domain, equal the sum of
 * `orderNetContribution` over the same rows computed here independently; attributes from two files
 * resolve to the latest value per field.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import {
  customerAttributesStatement,
  customerEconomicsStatement,
} from '#adapters/warehouse/economics-queries.ts';
import {
  economicsPresenceStatement,
  summariesWithEconomics,
} from '#adapters/warehouse/economics-summaries.ts';
import { customerSummariesStatement } from '#adapters/warehouse/queries.ts';
import { incomingAttributesKey, incomingKey } from '#domain/bucket-layout.ts';
import { configuredMarginRate, parseEconomicsConfig } from '#domain/economics/economics-config.ts';
import { observedEconomicsFromSums } from '#domain/economics/observed-from-sums.ts';
import { orderNetContribution, validateOrderEconomics } from '#domain/economics/order-economics.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { upload } from '../ingest/support.ts';

const ORDERS = [
  'customer_id,order_id,order_date,amount,cost,discount,shipping_cost,returned_amount,returned,channel',
  'A,1,2025-01-05,100.00,40.00,5.00,4.95,,,web',
  'A,2,2025-02-05,80.00,,,,20.00,,web',
  'B,3,2025-01-06,100.00,70.00,,,,yes,store',
  'B,4,2025-02-06,80.00,,,,,,store',
];
const PLAIN = ['customer_id,order_id,order_date,amount', 'C,5,2025-03-01,30.00', 'A,6,2025-03-02,10.00'];

const CONFIG = parseEconomicsConfig({ marginRate: { default: 0.5, byChannel: { web: 0.4 } } });

/** The net contribution of every row by the domain's per-order formula, summed per customer. */
function expectedHistoricNet(): Map<string, { own: number; historic: number; ownOrders: number }> {
  const result = new Map<string, { own: number; historic: number; ownOrders: number }>();
  const add = (source: string, header: string, line: string) => {
    const names = header.split(',');
    const values = Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v]));
    const amount = Math.round(Number(values.amount) * 100);
    const checked = validateOrderEconomics(values, amount, '.');
    if (!checked.ok) throw new Error(checked.message);
    const rate = configuredMarginRate(CONFIG, source, values.channel || null, 1);
    const net = orderNetContribution(amount, checked.value, { configuredRate: rate });
    const entry = result.get(values.customer_id!) ?? { own: 0, historic: 0, ownOrders: 0 };
    entry.historic += net.netCents;
    if (net.ownFigures) {
      entry.own += net.netCents;
      entry.ownOrders += 1;
    }
    result.set(values.customer_id!, entry);
  };
  for (const line of ORDERS.slice(1)) add('shop', ORDERS[0]!, line);
  for (const line of PLAIN.slice(1)) add('store', PLAIN[0]!, line);
  return result;
}

describe('economics statements over clean data on the local stack', () => {
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
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-economics-sql-'));
    warehouse = await createDuckDbWarehouse({
      s3: stack.clients.s3,
      bucket: stack.config.bucket,
      cacheDirectory,
      duckDb: { threads: 1 },
    });
  });
  afterAll(async () => {
    await warehouse.close();
    await stack.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('reads no economics and no attributes from clean data without them', async () => {
    await ingest(incomingKey('store', 'plain.csv'), PLAIN.join('\n'), '2025-04-01T00:00:00Z');
    await warehouse.refresh();
    const rows = await warehouse.query(customerEconomicsStatement({ asOf: '2025-06-30', currency: 'EUR' }));
    expect(rows.map((r) => [r.customerId, r.ownOrders, r.ownRevenueCents, r.plainRevenueCents])).toEqual([
      ['A', 0, 0, 1000],
      ['C', 0, 0, 3000],
    ]);
    // Without economics the historic net is revenue × the configured rate; with rate 1, the revenue.
    const observed = observedEconomicsFromSums(rows, parseEconomicsConfig({}), 1);
    expect(observed.get('C')).toEqual({
      ownOrders: 0,
      ownRevenueCents: 0,
      ownNetCents: 0,
      historicNetCents: 3000,
    });
    expect(await warehouse.query(customerAttributesStatement({}))).toEqual([]);
  });

  it('sums the parts of net contribution per customer exactly as the per-order formula', async () => {
    const report = await ingest(incomingKey('shop', 'orders.csv'), ORDERS.join('\n'), '2025-04-02T00:00:00Z');
    expect(report).toMatchObject({ status: 'succeeded', accepted: 4, rejected: 0 });
    await warehouse.refresh();
    const params = { asOf: '2025-06-30', currency: 'EUR' } as const;
    const rows = await warehouse.query(customerEconomicsStatement(params));
    expect(rows.find((r) => r.customerId === 'A' && r.source === 'shop')).toEqual({
      customerId: 'A',
      source: 'shop',
      channel: 'web',
      ownOrders: 2,
      ownRevenueCents: 18_000,
      ownKnownMarginCents: 6000,
      ownRatedRevenueCents: 8000,
      discountCents: 500,
      shippingCostCents: 495,
      returnedCents: 2000,
      plainRevenueCents: 0,
    });
    const observed = observedEconomicsFromSums(rows, CONFIG, 1);
    const expected = expectedHistoricNet();
    for (const [customerId, e] of expected) {
      expect(observed.get(customerId), customerId).toMatchObject({
        ownOrders: e.ownOrders,
        ownNetCents: e.own,
        historicNetCents: e.historic,
      });
    }
    // A: 100 − 40 − 5 − 4.95 = 50.05; 80 × 0.4 − 20 = 12.00; 10 × 0.5 = 5.00.
    expect(observed.get('A')!.historicNetCents).toBe(5005 + 1200 + 500);
    // B: a returned order nets −cost: 100 − 70 − 100 = −70; 80 × 0.5 = 40.
    expect(observed.get('B')!.historicNetCents).toBe(-7000 + 4000);

    // The same rules as every statement: cross-source collapse and fixed rates change nothing here
    // (no copies, no other currency), and the statement runs with both.
    const ruled = await warehouse.query(
      customerEconomicsStatement({ ...params, crossSourceDuplicates: 'collapse', fxRates: { USD: 0.9 } }),
    );
    expect(ruled).toEqual(rows);

    // The revenue statements read the same rows as before.
    const summaries = await warehouse.query(customerSummariesStatement(params));
    expect(summaries.map((s) => [s.customerId, s.historicRevenue])).toEqual([
      ['A', 190],
      ['B', 180],
      ['C', 30],
    ]);
  });

  it('resolves attributes from several files to the latest value per field', async () => {
    await ingest(
      incomingAttributesKey('crm', 'first.csv'),
      'customer_id,acquisition_channel,acquisition_cost,nps,csat\nA,google,20.00,3,\nB,referral,,,4\n',
      '2025-04-03T00:00:00Z',
    );
    await ingest(
      incomingAttributesKey('crm', 'second.csv'),
      // A: a newer score, no channel (an empty cell keeps google). B: rows dated before the first
      // file's ingest are older than its values, so only B's new acquisition cost counts.
      'customer_id,updated_at,acquisition_cost,nps,csat\nA,,,9,\nB,2020-01-01,50.00,,2\n',
      '2025-04-04T00:00:00Z',
    );
    await warehouse.refresh();
    expect(await warehouse.query(customerAttributesStatement({ sources: ['crm'] }))).toEqual([
      {
        customerId: 'A',
        acquiredAt: null,
        acquisitionChannel: 'google',
        acquisitionCostCents: 2000,
        serviceContacts: null,
        serviceCostCents: null,
        satisfactionScale: 'nps',
        satisfactionScore: 9,
        marketingConsent: null,
      },
      {
        customerId: 'B',
        acquiredAt: null,
        acquisitionChannel: 'referral',
        acquisitionCostCents: 5000,
        serviceContacts: null,
        serviceCostCents: null,
        satisfactionScale: 'csat',
        satisfactionScore: 4,
        marketingConsent: null,
      },
    ]);
  });

  it('joins the economics of each customer into the summaries as the domain folds the sums', async () => {
    const params = { asOf: '2025-06-30', currency: 'EUR' } as const;
    const config = parseEconomicsConfig({
      marginRate: { default: 0.5, byChannel: { web: 0.4 }, bySource: { store: 0.35 } },
      discountIncludedInAmount: true,
    });
    const settings = { ...config, clvMargin: 1 };
    const plain = customerSummariesStatement(params);
    const joined = summariesWithEconomics(plain, params, settings);
    const rows = await warehouse.query(joined);
    // Same customers and summary columns as the plain statement; the economics on top.
    expect(rows.map(({ economics: _, ...summary }) => summary)).toEqual(await warehouse.query(plain));
    const observed = observedEconomicsFromSums(
      await warehouse.query(customerEconomicsStatement(params)),
      config,
      1,
    );
    const attributes = new Map(
      (await warehouse.query(customerAttributesStatement({}))).map((a) => [a.customerId, a]),
    );
    for (const row of rows) {
      expect(row.economics!.observed, row.customerId).toEqual(observed.get(row.customerId) ?? null);
      const a = attributes.get(row.customerId);
      expect(row.economics!.attributes, row.customerId).toEqual(
        a
          ? {
              acquiredAtMicros: null,
              acquisitionChannel: a.acquisitionChannel,
              acquisitionCostCents: a.acquisitionCostCents,
              serviceContacts: a.serviceContacts,
              serviceCostCents: a.serviceCostCents,
              satisfaction: a.satisfactionScale
                ? { scale: a.satisfactionScale, score: a.satisfactionScore }
                : null,
              marketingConsent: a.marketingConsent,
            }
          : null,
      );
    }
    // A bought 180.00 in shop and 10.00 in store: shop is the primary source; C only bought in store.
    expect(rows.find((r) => r.customerId === 'A')!.economics!.primarySource).toBe('shop');
    expect(rows.find((r) => r.customerId === 'C')!.economics!.primarySource).toBe('store');
    // C: 30.00 at the store's 35 % = 10.50; the discount is inside the amount here, so A's 5.00 is not subtracted.
    expect(rows.find((r) => r.customerId === 'C')!.economics!.observed!.historicNetCents).toBe(1050);
    expect(rows.find((r) => r.customerId === 'A')!.economics!.observed!.historicNetCents).toBe(
      5005 + 500 + 1200 + Math.round(1000 * 0.35),
    );
    // Order 4 of B has a channel but no figure of its own.
    expect(await warehouse.query(economicsPresenceStatement({ sources: ['shop', 'store', 'crm'] }))).toEqual([
      { orderRowsWithFigures: 3, attributeRows: 4 },
    ]);
    expect(await warehouse.query(economicsPresenceStatement({ sources: ['store'] }))).toEqual([
      { orderRowsWithFigures: 0, attributeRows: 0 },
    ]);
  });
});
