/**
 * Ingest of real export formats on the local stand-ins (clean CSV, Dutch Excel, UTF-8 with BOM, gzipped
 * JSON Lines, quoted multi-line fields) into typed clean Parquet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { fixture, putSourceConfig, readCleanParquet, upload } from './support.ts';

const NOW = new Date('2025-10-01T12:00:00.000Z');

describe('ingest of export formats on the local stand-ins', () => {
  let stack: LocalStack;
  const deps = () => ({ config: stack.config, clients: stack.clients, now: () => NOW });
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('ingests a clean CSV into typed Parquet with UTC timestamps and exact decimals', async () => {
    const ref = await upload(stack, 'incoming/shop/clean.csv', fixture('clean.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      source: 'shop',
      key: 'incoming/shop/clean.csv',
      status: 'succeeded',
      rowsRead: 6,
      accepted: 6,
      rejected: 0,
      duplicates: 0,
      rejectReasons: {},
      amountTotals: { EUR: '245.45', USD: '1234.56' },
      rejectedKey: null,
      finishedAt: NOW.toISOString(),
    });
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.cleanKey).toBe(
      `clean/transactions/source=shop/ingest_date=2025-10-01/${report.sha256}.parquet`,
    );
    const parquet = await readCleanParquet(stack, report.cleanKey!);
    expect(parquet.types).toEqual({
      customer_id: 'VARCHAR',
      order_id: 'VARCHAR',
      order_ts: 'TIMESTAMP WITH TIME ZONE',
      amount: 'DECIMAL(18,2)',
      currency: 'VARCHAR',
      channel: 'VARCHAR',
      quantity: 'BIGINT',
      ingest_id: 'VARCHAR',
      ingested_at: 'TIMESTAMP WITH TIME ZONE',
      line_number: 'BIGINT',
    });
    expect(parquet.meta).toEqual([{ ingest_id: report.ingestId, ingested_at: '2025-10-01T12:00:00.000Z' }]);
    expect(parquet.rows).toEqual([
      row('C001', 'O-1001', '2025-01-05T00:00:00.000000Z', '19.99', 'EUR', 'web', '1', 2),
      row('C002', 'O-1002', '2025-01-05T14:30:00.000000Z', '120.00', 'EUR', 'store', '3', 3),
      row('C001', 'O-1003', '2025-02-10T08:15:00.000000Z', '5.50', 'EUR', 'web', '1', 4),
      row('C003', 'O-1004', '2025-03-01T23:45:00.000000Z', '1234.56', 'USD', 'app', '2', 5),
      row('C004', 'O-1005', '2025-03-15T00:00:00.000000Z', '0.01', 'EUR', null, null, 6),
      row('C002', 'O-1006', '2025-04-01T00:00:00.000000Z', '99.95', 'EUR', 'web', '4', 7),
    ]);
  });

  it('ingests a Dutch Excel export: ";", Windows-1252, 1.234,56, dd-MM-yyyy, CRLF', async () => {
    const ref = await upload(stack, 'incoming/erp/dutch-excel.csv', fixture('dutch-excel.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 5,
      accepted: 5,
      rejected: 0,
      duplicates: 0,
    });
    expect(report.detected).toMatchObject({ format: 'csv', delimiter: ';', decimal: ',', gzipped: false });
    expect(report.detected?.encoding).toBe('windows-1252');
    expect(report.amountTotals).toEqual({ EUR: '3217.05' });
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows).toEqual([
      row('K-1001', 'NL-5001', '2025-01-05T00:00:00.000000Z', '1234.56', 'EUR', null, null, 2),
      row('K-1002', 'NL-5002', '2025-01-15T00:00:00.000000Z', '19.99', 'EUR', null, null, 3),
      row('K-1003', 'NL-5003', '2025-02-28T00:00:00.000000Z', '-45.00', 'EUR', null, null, 4),
      row('K-1001', 'NL-5004', '2025-03-31T00:00:00.000000Z', '2000.00', 'EUR', null, null, 5),
      row('K-é04', 'NL-5005', '2025-06-30T00:00:00.000000Z', '7.50', 'EUR', null, null, 6),
    ]);
  });

  it('ingests the UTF-8-with-BOM variant with a source config (date format, time zone)', async () => {
    await putSourceConfig(stack, 'erp-nl', {
      columns: {
        customer_id: 'Klantnummer',
        order_id: 'Ordernummer',
        order_ts: 'Besteldatum',
        amount: 'Bedrag',
      },
      delimiter: ';',
      decimal: ',',
      dateFormat: 'dd-MM-yyyy',
      timezone: 'Europe/Amsterdam',
    });
    const ref = await upload(
      stack,
      'incoming/erp-nl/dutch-excel-utf8-bom.csv',
      fixture('dutch-excel-utf8-bom.csv'),
    );
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 5,
      accepted: 5,
      rejected: 0,
      duplicates: 0,
    });
    expect(report.detected?.encoding).toBe('utf-8');
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    // Local midnight in Amsterdam: UTC+1 in winter, UTC+2 from the last Sunday of March.
    expect(rows.map((r) => [r.customer_id, r.order_ts, r.amount])).toEqual([
      ['K-1001', '2025-01-04T23:00:00.000000Z', '1234.56'],
      ['K-1002', '2025-01-14T23:00:00.000000Z', '19.99'],
      ['K-1003', '2025-02-27T23:00:00.000000Z', '-45.00'],
      ['K-1001', '2025-03-30T22:00:00.000000Z', '2000.00'],
      ['K-é04', '2025-06-29T22:00:00.000000Z', '7.50'],
    ]);
  });

  it('ingests gzipped JSON Lines', async () => {
    const ref = await upload(stack, 'incoming/app/orders.jsonl.gz', fixture('orders.jsonl.gz'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 4,
      accepted: 4,
      rejected: 0,
      duplicates: 0,
      amountTotals: { EUR: '1000.10', GBP: '15.00' },
    });
    expect(report.detected).toMatchObject({ format: 'jsonl', gzipped: true });
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows).toEqual([
      row('J-1', 'J-9001', '2025-04-01T10:00:00.000000Z', '49.90', 'EUR', 'web', '2', 1),
      row('J-2', 'J-9002', '2025-04-02T00:00:00.000000Z', '15.00', 'GBP', null, null, 2),
      row('J-1', 'J-9003', '2025-04-03T06:30:00.000000Z', '-49.90', 'EUR', 'web', '-2', 3),
      row('J-3', 'J-9004', '2025-04-04T12:00:00.000000Z', '1000.10', 'EUR', 'app', '1', 4),
    ]);
  });

  it('keeps quoted fields with embedded delimiters, quotes and newlines, numbering rows by their first line', async () => {
    const ref = await upload(stack, 'incoming/shop/multiline.csv', fixture('multiline.csv'));
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 4,
      accepted: 4,
      rejected: 0,
      duplicates: 0,
    });
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows.map((r) => [r.line_number, r.customer_id, r.order_id, r.amount])).toEqual([
      ['2', 'M-1', 'MO-1', '1234.56'],
      ['3', 'M-2', 'MO-2', '10.00'],
      ['6', 'M-3', 'MO-3', '2000.00'],
      ['7', 'M-4', 'MO-4', '3.25'],
    ]);
  });
});

function row(
  customer_id: string,
  order_id: string,
  order_ts: string,
  amount: string,
  currency: string,
  channel: string | null,
  quantity: string | null,
  line: number,
) {
  return { customer_id, order_id, order_ts, amount, currency, channel, quantity, line_number: String(line) };
}
