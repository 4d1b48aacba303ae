/**
 * Ingest row rules on the local stand-ins: every reject reason lands in the rejects file with its line
 * number, and quarantine, dedupe and file-level failures behave as configured.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { fixture, objectExists, putSourceConfig, readCleanParquet, readRejects, upload } from './support.ts';

const NOW = new Date('2025-10-02T08:00:00.000Z');

describe('ingest row rules on the local stand-ins', () => {
  let stack: LocalStack;
  const deps = () => ({ config: stack.config, clients: stack.clients, now: () => NOW });
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('rejects one row per reason with its line, raw values and a readable message', async () => {
    const ref = await upload(stack, 'incoming/shop/rejects.csv', fixture('rejects.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 49,
      accepted: 40,
      rejected: 9,
      duplicates: 0,
      amountTotals: { EUR: '828.20' },
      rejectedKey: `rejected/shop/${report.ingestId}.jsonl`,
    });
    expect(report.rejectReasons).toEqual({
      customer_id_missing: 1,
      order_ts_missing: 1,
      order_ts_invalid: 1,
      amount_missing: 1,
      amount_invalid: 1,
      currency_invalid: 1,
      quantity_invalid: 1,
      row_malformed: 1,
      row_too_large: 1,
    });
    const rejects = await readRejects(stack, report.rejectedKey!);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [7, 'customer_id_missing'],
      [8, 'order_ts_missing'],
      [9, 'order_ts_invalid'],
      [24, 'amount_missing'],
      [25, 'amount_invalid'],
      [26, 'currency_invalid'],
      [48, 'quantity_invalid'],
      [49, 'row_malformed'],
      [50, 'row_too_large'],
    ]);
    const invalidDate = rejects.find((r) => r.reason === 'order_ts_invalid')!;
    expect(invalidDate.message).toContain('2025-02-31');
    expect(invalidDate.message).toMatch(/order_ts/);
    expect(invalidDate.raw).toMatchObject({ customer_id: 'B-3', order_date: '2025-02-31' });
    const invalidAmount = rejects.find((r) => r.reason === 'amount_invalid')!;
    expect(invalidAmount.message).toContain('ten euros');
    const missingAmount = rejects.find((r) => r.reason === 'amount_missing')!;
    expect(missingAmount.message).toBe(
      "amount: empty on every line of order 'BO-4' (no line of the order has an amount)",
    );
    expect(missingAmount.raw).toEqual({
      customer_id: 'B-4',
      order_id: 'BO-4',
      order_date: '2025-08-10T00:00:00.000000Z',
      amount: '',
      currency: 'EUR',
      quantity: '1',
    });
    for (const reject of rejects) expect(reject.message.length).toBeGreaterThan(10);

    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows).toHaveLength(40);
    expect(rows.some((r) => r.customer_id.startsWith('B-'))).toBe(false);
  });

  it('keeps refunds and returns as negative amounts', async () => {
    const ref = await upload(stack, 'incoming/shop/refunds.csv', fixture('refunds.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 5,
      accepted: 5,
      rejected: 0,
      duplicates: 0,
      amountTotals: { EUR: '39.50' },
    });
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows.map((r) => [r.order_id, r.amount])).toEqual([
      ['RO-1', '100.00'],
      ['RO-1R', '-100.00'],
      ['RO-2', '59.99'],
      ['RO-2R', '-19.99'],
      ['RO-3', '-0.50'],
    ]);
  });

  it('collapses exact duplicate lines and adds up line items, an empty amount counting as 0', async () => {
    const ref = await upload(stack, 'incoming/shop/duplicates.csv', fixture('duplicates.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 9,
      accepted: 7,
      rejected: 0,
      duplicates: 2,
      rejectedKey: null,
      amountTotals: { EUR: '75.00' },
    });
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows.map((r) => [r.line_number, r.order_id, r.amount])).toEqual([
      ['2', 'DO-1', '10.00'],
      ['5', 'DO-2', '30.00'],
      ['6', 'DO-2', '0.00'],
      ['7', 'DO-2', '5.00'],
      ['8', 'DO-3', '7.25'],
      ['9', 'DO-3', '2.75'],
      ['10', 'DO-4', '20.00'],
    ]);
  });

  it('keeps repeated lines when the source config turns exact-row dedupe off', async () => {
    await putSourceConfig(stack, 'keep-dupes', { dedupeExactRows: false });
    const ref = await upload(stack, 'incoming/keep-dupes/duplicates.csv', fixture('duplicates.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 9,
      accepted: 9,
      rejected: 0,
      duplicates: 0,
      amountTotals: { EUR: '95.00' },
    });
  });

  it('quarantines a file whose reject ratio exceeds maxRejectRatio and writes no clean data', async () => {
    const ref = await upload(stack, 'incoming/quarantined/quarantine.csv', fixture('quarantine.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'quarantined',
      rowsRead: 10,
      accepted: 5,
      rejected: 5,
      duplicates: 0,
      rejectReasons: { order_ts_invalid: 5 },
      amountTotals: {},
      cleanKey: null,
      quarantineKey: `quarantine/quarantined/${report.ingestId}/quarantine.csv`,
      rejectedKey: `rejected/quarantined/${report.ingestId}.jsonl`,
    });
    expect(report.message).toMatch(/5 of 10 rows rejected \(50\.0 %\).*maxRejectRatio 0\.2/);
    expect(await objectExists(stack, 'incoming/quarantined/quarantine.csv')).toBe(false);
    expect(await objectExists(stack, report.quarantineKey!)).toBe(true);
    expect(await readRejects(stack, report.rejectedKey!)).toHaveLength(5);
    const clean = await stack.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: stack.config.bucket,
        Prefix: 'clean/transactions/source=quarantined/',
      }),
    );
    expect(clean.KeyCount ?? 0).toBe(0);
  });

  it('rejects a junk date row by row instead of refusing an otherwise ISO file', async () => {
    const ref = await upload(
      stack,
      'incoming/shop/iso-with-junk-date.csv',
      fixture('iso-with-junk-date.csv'),
    );
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 60,
      accepted: 59,
      rejected: 1,
      duplicates: 0,
      rejectReasons: { order_ts_invalid: 1 },
    });
    const rejects = await readRejects(stack, report.rejectedKey!);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([[38, 'order_ts_invalid']]);
    expect(rejects[0]!.message).toContain("'31/31/2031'");
  });

  it('accepts the same file when the source config raises maxRejectRatio', async () => {
    await putSourceConfig(stack, 'lenient', { maxRejectRatio: 0.5 });
    const ref = await upload(stack, 'incoming/lenient/quarantine.csv', fixture('quarantine.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      accepted: 5,
      rejected: 5,
      amountTotals: { EUR: '150.00' },
    });
  });

  it('fails an ingest whose source config is invalid, naming the file and the field', async () => {
    await putSourceConfig(stack, 'badcfg', { maxRejectRatio: 2, delimiter: ',' });
    const ref = await upload(stack, 'incoming/badcfg/clean.csv', fixture('clean.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report.status).toBe('failed');
    expect(report.message).toContain('config/sources/badcfg.json');
    expect(report.message).toContain('maxRejectRatio');
    expect(report.cleanKey).toBeNull();
  });

  it('fails an ingest whose config is not JSON', async () => {
    await putSourceConfig(stack, 'notjson', '{"delimiter": ";",');
    const ref = await upload(stack, 'incoming/notjson/clean.csv', fixture('clean.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report.status).toBe('failed');
    expect(report.message).toMatch(/config\/sources\/notjson\.json: not valid JSON/);
  });

  it('fails a file without a customer column as a file-level problem', async () => {
    const ref = await upload(stack, 'incoming/shop/no-customer.csv', 'foo,bar\n1,2\n');
    const report = await ingestObject(deps(), ref);
    expect(report.status).toBe('failed');
    expect(report.message).toContain('no-customer.csv');
    expect(report.rowsRead).toBe(0);
  });

  it('fails a corrupt gzip file with a clear message', async () => {
    const ref = await upload(
      stack,
      'incoming/shop/broken.csv.gz',
      Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('not really gzip')]),
    );
    const report = await ingestObject(deps(), ref);
    expect(report.status).toBe('failed');
    expect(report.message).toMatch(/broken\.csv\.gz: not a readable gzip file/);
  });
});
