/**
 * A small, plausible export whose fit runs to a boundary (300 customers buying evenly through 2024
 * plus one two-order customer) must still publish: every number written to DynamoDB stays storable.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { scoresOfRun } from './sample.ts';

const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.parse('2024-01-01T12:00:00Z') + offset * DAY_MS).toISOString();

/** 300 customers with purchases spread evenly across 2024, and one customer with two orders. */
function evenPurchasesExport(ordersPerCustomer: number): string {
  const lines = ['order_id,customer_id,order_date,amount,currency,quantity'];
  let order = 0;
  for (let c = 0; c < 300; c++) {
    for (let k = 0; k < ordersPerCustomer; k++) {
      const offset = Math.floor(((k + c / 300) * 366) / ordersPerCustomer);
      lines.push(
        `O${++order},C${String(c).padStart(3, '0')},${day(offset)},${(20 + (c % 7)).toFixed(2)},USD,1`,
      );
    }
  }
  lines.push(`O${++order},TWO,${day(60)},30.00,USD,1`, `O${++order},TWO,${day(150)},40.00,USD,1`);
  return `${lines.join('\n')}\n`;
}

async function ingestExport(stack: LocalStack, body: string): Promise<void> {
  const key = 'incoming/shop/orders.csv';
  const put = await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: body }),
  );
  const report = await ingestObject(
    { config: stack.config, clients: stack.clients },
    { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
  );
  expect(report.status, report.message).toBe('succeeded');
}

const storable = (value: unknown) =>
  typeof value !== 'number' || (Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER);

function allNumbers(value: unknown): unknown[] {
  if (value === null || typeof value !== 'object') return [value];
  return Object.values(value).flatMap(allNumbers);
}

describe.each([2, 12])(
  '300 customers buying evenly through 2024 (%i orders each) + one two-order customer',
  { timeout: 180_000 },
  (orders) => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await startLocalStack();
      await ingestExport(stack, evenPurchasesExport(orders));
    }, 120_000);
    afterAll(async () => {
      await stack?.stop();
    });

    it('publishes: the fit runs to a boundary, yet every stored number is in range', async () => {
      const result = await runLocalRecalculation(stack, { asOf: '2024-12-31', config: { currency: 'USD' } });
      expect(result.record.status).toBe('published');
      expect(result.record.customers).toBe(301);
      expect(allNumbers(result.record).every(storable)).toBe(true);
      const holdout = result.record.holdout!;
      if (holdout.aggregateErrorPct === null) expect(holdout.notPossibleReason).toBeTruthy();
      else expect(Number.isFinite(holdout.aggregateErrorPct)).toBe(true);
      const items = await scoresOfRun(
        stack,
        result.record.runId,
        result.record.segments.map((s) => s.segment),
      );
      expect(items).toHaveLength(301);
      for (const item of items) {
        expect(allNumbers(item).every(storable)).toBe(true);
        expect(item['timeUnit']).toBe('weeks');
      }
    });
  },
);

describe('300 one-time buyers through 2024 + one two-order customer', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestExport(stack, evenPurchasesExport(1));
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('publishes with a penalized fit, says so, and every stored number is in range', async () => {
    const result = await runLocalRecalculation(stack, { asOf: '2024-12-31', config: { currency: 'USD' } });
    expect(result.record.status).toBe('published');
    expect(result.record.customers).toBe(301);
    expect(allNumbers(result.record).every(storable)).toBe(true);
    expect(result.fitted.messages.join('\n')).toMatch(
      /only 1 of 301 customers made a repeat purchase.*penalizer 0\.1 instead/s,
    );
    const items = await scoresOfRun(
      stack,
      result.record.runId,
      result.record.segments.map((s) => s.segment),
    );
    expect(items).toHaveLength(301);
    for (const item of items) expect(allNumbers(item).every(storable)).toBe(true);
  });
});
