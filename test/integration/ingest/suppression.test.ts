/**
 * Erasure holds at ingest: rows of a customer on the suppression list never reach clean data, and the
 * report counts them as `suppressed` (not silently dropped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { readCleanParquet, upload } from './support.ts';

describe('ingest of an erased customer', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("drops the erased customer's rows before clean data and counts them", async () => {
    const suppression = createSuppressionRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    });
    await suppression.eraseCustomer('gone@example.com', new Date());
    const text = [
      'customer_id,order_id,order_date,amount,currency',
      'keep-1,o1,2025-01-02,10.00,EUR',
      'gone@example.com,o2,2025-01-03,20.00,EUR',
      'keep-2,o3,2025-01-04,30.00,EUR',
      'gone@example.com,o4,2025-01-05,40.00,EUR',
      '',
    ].join('\n');
    const ref = await upload(stack, 'incoming/shop/orders.csv', text);
    const report = await ingestObject({ config: stack.config, clients: stack.clients }, ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 4,
      accepted: 2,
      rejected: 0,
      duplicates: 0,
      suppressed: 2,
      amountTotals: { EUR: '40.00' },
    });
    const clean = await readCleanParquet(stack, report.cleanKey!);
    expect(clean.rows.map((row) => row.customer_id)).toEqual(['keep-1', 'keep-2']);
  });
});
