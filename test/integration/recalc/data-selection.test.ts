/**
 * The data selection of a recalculation on the local stack, as a new user meets it: the bundled
 * sample plus one's own export (issue: own data ignored), the default as-of date (issue: a run as of
 * yesterday on data ending in 2010), a second currency, and the same export under two sources
 * (issue: revenue doubled silently).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { runRecordSchema } from '#domain/run.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { retailerExport } from '#test-support/export-generator.ts';
import { ingestText } from './own-data.ts';
import { ingestSample } from './sample.ts';

const RETAILER = retailerExport();
const US_SHOP = retailerExport({ customers: 40, orders: 90, currency: 'USD', idPrefix: 'US', seed: 7 });

describe('data selection of a run (sample, own data, currencies, as-of, duplicates)', {
  timeout: 240_000,
}, () => {
  let stack: LocalStack;
  const now = () => new Date('2026-12-06T06:00:00Z');

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack, 'incoming/sample/orders.csv');
    const report = await ingestText(stack, 'retailer', 'export.csv', RETAILER.csv, RETAILER.mapping);
    expect(report.accepted).toBe(RETAILER.orders);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('own data: the run has exactly the export’s customers, its last day as as-of, its currency, and says the sample was left out', async () => {
    const { record } = await runLocalRecalculation(stack, { now });
    expect(runRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      customers: RETAILER.customers,
      asOf: RETAILER.lastDate,
      currency: 'EUR',
      sampleExcluded: true,
    });
    expect(record.dataRange).toMatchObject({
      firstDate: RETAILER.firstDate,
      lastDate: RETAILER.lastDate,
      sources: ['retailer'],
      rows: RETAILER.orders,
      orders: RETAILER.orders,
      customers: RETAILER.customers,
      currencyChoice: 'most rows',
    });
    expect(record.exclusions?.rows).toEqual([
      { reason: 'sample', source: 'sample', currency: 'USD', rows: 6919, amount: expect.any(Number) },
    ]);
    expect(record.dataWarnings).toEqual([]);
  });

  it('a run without --as-of is as of the data’s last day, not yesterday; a stale as-of warns', async () => {
    const defaulted = await runLocalRecalculation(stack, { now });
    expect(defaulted.record.asOf).toBe(RETAILER.lastDate);
    const stale = await runLocalRecalculation(stack, { now, asOf: '2026-12-05' });
    expect(stale.record.asOf).toBe('2026-12-05');
    expect(stale.record.dataWarnings?.[0]).toMatch(
      new RegExp(`as-of date 2026-12-05 is \\d+ days after the last transaction \\(${RETAILER.lastDate}\\)`),
    );
  });

  it('a second currency is left out and reported, or converted with a fixed rate', async () => {
    await ingestText(stack, 'us-shop', 'us.csv', US_SHOP.csv, US_SHOP.mapping);
    const { record } = await runLocalRecalculation(stack, { now });
    expect(record.currency).toBe('EUR');
    expect(record.customers).toBe(RETAILER.customers);
    expect(record.exclusions?.rows).toContainEqual({
      reason: 'currency',
      source: 'us-shop',
      currency: 'USD',
      rows: US_SHOP.orders,
      amount: Number(US_SHOP.amountCents) / 100,
    });
    expect(record.dataWarnings?.join('\n')).toContain(`Left out ${US_SHOP.orders} rows in USD`);

    const converted = await runLocalRecalculation(stack, { now, config: { fxRates: { USD: 0.5 } } });
    expect(converted.record.customers).toBe(RETAILER.customers + US_SHOP.customers);
    expect(converted.record.dataRange?.currencies).toEqual([
      { currency: 'EUR', rate: 1, rows: RETAILER.orders },
      { currency: 'USD', rate: 0.5, rows: US_SHOP.orders },
    ]);
    expect(converted.record.exclusions?.rows.filter((r) => r.reason === 'currency')).toEqual([]);
    const usCustomer = 'US10000';
    const score = await createScoreReadModel(stack.clients, stack.config.table).getScore(
      usCustomer,
      converted.record.runId,
    );
    const original = US_SHOP.csv
      .trim()
      .split('\n')
      .slice(1)
      .filter((line) => line.split(',')[1] === usCustomer)
      .reduce((sum, line) => sum + Number(line.split(',')[3]), 0);
    expect(score?.historicRevenue).toBeCloseTo(original * 0.5, 2);
  });

  it('the same export under two sources is detected and reported; collapse counts it once', async () => {
    const before = await runLocalRecalculation(stack, { now });
    const customer = '10000';
    const reader = createScoreReadModel(stack.clients, stack.config.table);
    const single = await reader.getScore(customer, before.record.runId);
    // The same rows; one more blank line so the bytes differ (identical bytes are refused as a re-upload).
    await ingestText(stack, 'retailer-copy', 'export.csv', `${RETAILER.csv}\n`, RETAILER.mapping);

    const kept = await runLocalRecalculation(stack, { now });
    expect(kept.record.exclusions?.crossSourceDuplicates).toEqual({
      rows: RETAILER.orders,
      amount: Number(RETAILER.amountCents) / 100,
      handling: 'keep',
    });
    expect(kept.record.dataWarnings?.join('\n')).toContain(`${RETAILER.orders} rows`);
    expect(kept.record.customers).toBe(before.record.customers);

    const collapsed = await runLocalRecalculation(stack, {
      now,
      config: { crossSourceDuplicates: 'collapse' },
    });
    expect(collapsed.record.exclusions?.crossSourceDuplicates.handling).toBe('collapse');
    const twice = await reader.getScore(customer, kept.record.runId);
    expect(twice?.historicRevenue).toBeCloseTo(2 * single!.historicRevenue, 2);
    const once = await reader.getScore(customer, collapsed.record.runId);
    expect(once?.historicRevenue).toBeCloseTo(single!.historicRevenue, 2);
    expect(once?.historicOrders).toBe(single!.historicOrders);
    expect(once?.clv).toBeCloseTo(single!.clv, 6);
  });
});
