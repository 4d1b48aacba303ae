// Row problems through the real ingest: currency marks on amounts, control characters and junk
// amounts early and late in a file, and what reaches the clean Parquet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { fixture, readCleanParquet, readRejects, upload } from './support.ts';

const NOW = new Date('2025-10-02T08:00:00.000Z');
const CONTROL = /(?![\t\n\r])\p{Cc}/u;

describe('row problems through the ingest', () => {
  let stack: LocalStack;
  const deps = () => ({ config: stack.config, clients: stack.clients, now: () => NOW });
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('stores amounts with a symbol or code in their own currency', async () => {
    const ref = await upload(
      stack,
      'incoming/shop/amounts-with-currency.csv',
      fixture('amounts-with-currency.csv'),
    );
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 12, accepted: 12, rejected: 0 });
    expect(report.amountTotals).toEqual({
      EUR: '32.80',
      USD: '1258.99',
      GBP: '7.25',
      JPY: '500.00',
      CHF: '20.00',
    });
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows.map((r) => [r.customer_id, r.amount, r.currency])).toEqual([
      ['C1', '12.50', 'EUR'],
      ['C2', '1234.00', 'USD'],
      ['C3', '12.50', 'EUR'],
      ['C4', '7.25', 'EUR'],
      ['C5', '-12.50', 'EUR'],
      ['C6', '7.25', 'GBP'],
      ['C7', '500.00', 'JPY'],
      ['C8', '19.99', 'USD'],
      ['C9', '5.00', 'USD'],
      ['C10', '9.95', 'EUR'],
      ['C11', '20.00', 'CHF'],
      ['C12', '3.10', 'EUR'],
    ]);
  });

  it('rejects rows with control characters and junk amounts, keeps line breaks inside quotes', async () => {
    const ref = await upload(
      stack,
      'incoming/shop/control-characters.csv',
      fixture('control-characters.csv'),
    );
    const report = await ingestObject(deps(), ref);
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 20, accepted: 17, rejected: 3 });
    const rejects = await readRejects(stack, report.rejectedKey!);
    expect(rejects.map((r) => [r.line, r.reason, r.message])).toEqual([
      [4, 'amount_invalid', "amount: '12..5' is not a valid amount: more than one decimal separator '.'"],
      [7, 'row_malformed', expect.stringContaining("U+0000 (NUL) in column 'order_id'")],
      [11, 'row_malformed', expect.stringContaining("U+001B (ESC) in column 'channel'")],
    ]);
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows).toHaveLength(17);
    expect(rows.find((r) => r.customer_id === 'K14')?.channel).toBe('web\r\nshop');
    for (const row of rows) expect(JSON.stringify(Object.values(row))).not.toMatch(CONTROL);
  });

  it('treats the same damage the same inside and beyond the sniffing window', async () => {
    const lines = ['customer_id,order_id,order_date,amount'];
    for (let i = 1; i <= 12_000; i++) lines.push(`C${i},O${i},2025-05-01T00:00:00Z,${i % 500}.25`);
    const damage = (line: number, row: string) => {
      lines[line - 1] = row;
    };
    damage(3, 'C2,O2,2025-05-01T00:00:00Z,12.3.4');
    damage(5, 'C\u00004,O4,2025-05-01T00:00:00Z,4.25');
    damage(11_000, 'C10999,O10999,2025-05-01T00:00:00Z,12.3.4');
    damage(11_002, 'C\u000011001,O11001,2025-05-01T00:00:00Z,1.25');
    const body = Buffer.from(`${lines.join('\n')}\n`);
    // The late damage sits well beyond the 256 KiB the parser sniffs from.
    expect(Buffer.byteLength(lines.slice(0, 10_999).join('\n'))).toBeGreaterThan(300 * 1024);
    const report = await ingestObject(deps(), await upload(stack, 'incoming/shop/big-damaged.csv', body));
    expect(report).toMatchObject({ status: 'succeeded', rowsRead: 12_000, accepted: 11_996, rejected: 4 });
    const rejects = await readRejects(stack, report.rejectedKey!);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'amount_invalid'],
      [5, 'row_malformed'],
      [11_000, 'amount_invalid'],
      [11_002, 'row_malformed'],
    ]);
    expect(rejects[2]!.message).toBe(rejects[0]!.message);
    const { rows } = await readCleanParquet(stack, report.cleanKey!);
    expect(rows).toHaveLength(11_996);
    expect(rows.some((r) => CONTROL.test(r.customer_id))).toBe(false);
  });
});
