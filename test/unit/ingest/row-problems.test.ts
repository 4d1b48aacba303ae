// Problems inside one row stay problems of that row: junk amounts, control characters, currency
// marks on amounts and customer ids that break the id rule, wherever in the file they sit.
import { describe, expect, it } from 'vitest';
import { IngestFileError } from '#domain/ingest/export-parser.ts';
import { SNIFF_WINDOW_BYTES } from '#domain/ingest/limits.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';
import { type ParsedExport, parseExport, utf8 } from './parse-export.ts';

const HEADER = 'customer_id,order_id,order_date,amount,channel';
/** Enough clear `.`-decimal rows to push what follows beyond the sniffing window. */
const filler = (from: number, count: number) => {
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) lines.push(`F${i},FO${i},2025-01-02,${(i % 900) + 10}.25,web`);
  return lines;
};
const FILLER_ROWS = Math.ceil(SNIFF_WINDOW_BYTES / 30);

/** Parses with both readers, checks they agree, returns the result. */
function parseAgreeing(text: string | Uint8Array, config: SourceConfig = {}): ParsedExport {
  const run = (byteReader: boolean) => parseExport(text, { config, byteReader, chunkSize: 7919 });
  const bytes = run(true);
  expect(run(false)).toEqual(bytes);
  return bytes;
}

/** The file with `line` placed early (line 3) and, in a second file, beyond the sniffing window. */
function earlyAndLate(line: string) {
  const early = [HEADER, 'C1,O1,2025-01-01,12.50,web', line, ...filler(0, FILLER_ROWS)].join('\n');
  const late = [HEADER, 'C1,O1,2025-01-01,12.50,web', ...filler(0, FILLER_ROWS), line].join('\n');
  expect(utf8(late).length).toBeGreaterThan(SNIFF_WINDOW_BYTES + 1000);
  return { early, late, lateLine: FILLER_ROWS + 3 };
}

const rejectsOf = (result: ParsedExport) => result.rejected.map((r) => [r.line, r.reason, r.message]);

describe('junk amounts are row problems wherever they sit', () => {
  it.each([
    ['12..5', 'more than one decimal separator'],
    ['12.3.4', 'more than one decimal separator'],
    ['1,2,3', 'thousands separator'],
    ['ten', 'no digits'],
    ['12.50 abc', "'abc'"],
  ])('%s: one amount_invalid row, early or beyond the sniffing window', (junk, problem) => {
    const { early, late, lateLine } = earlyAndLate(`C2,O2,2025-01-01,"${junk}",web`);
    const first = parseAgreeing(early);
    const second = parseAgreeing(late);
    expect(first.summary.decimal).toBe('.');
    expect(second.summary.decimal).toBe('.');
    expect(rejectsOf(first)).toEqual([[3, 'amount_invalid', expect.stringContaining(problem)]]);
    expect(rejectsOf(second)).toEqual([[lateLine, 'amount_invalid', first.rejected[0]!.message]]);
    expect(first.accepted).toHaveLength(FILLER_ROWS + 1);
    expect(second.accepted).toHaveLength(FILLER_ROWS + 1);
  });

  it('decides the decimal style by a clear majority: a lone comma value is that row’s problem', () => {
    const lines = [HEADER, ...filler(0, 60), 'C2,O2,2025-01-01,"12,5",web', ...filler(60, 60)];
    const result = parseAgreeing(lines.join('\n'));
    expect(result.summary.decimal).toBe('.');
    expect(rejectsOf(result)).toEqual([
      [62, 'amount_invalid', expect.stringMatching(/'12,5'.*decimal separator '\.' in this file/)],
    ]);
  });

  it('still refuses a file whose amounts really disagree', () => {
    const csv = `${HEADER}\nC1,O1,2025-01-01,1.50,web\nC2,O2,2025-01-01,"2,25",web\n`;
    expect(() => parseExport(csv)).toThrow(IngestFileError);
  });
});

describe('control characters in a field reject that row', () => {
  it.each([
    ['\u0000', 'U\\+0000 \\(NUL\\)'],
    ['\u0001', 'U\\+0001'],
    ['\u001b', 'U\\+001B \\(ESC\\)'],
    ['\u007f', 'U\\+007F \\(DEL\\)'],
  ])('%j: row_malformed naming the character and column, early or late', (char, name) => {
    const { early, late, lateLine } = earlyAndLate(`C2,O${char}2,2025-01-01,3.00,web`);
    const first = parseAgreeing(early);
    const second = parseAgreeing(late);
    expect(rejectsOf(first)).toEqual([
      [3, 'row_malformed', expect.stringMatching(new RegExp(`${name}.*column 'order_id'`))],
    ]);
    expect(rejectsOf(second)).toEqual([[lateLine, 'row_malformed', first.rejected[0]!.message]]);
    for (const row of [...first.accepted, ...second.accepted]) {
      expect(JSON.stringify(row)).not.toMatch(/\\u00(0|1|7f)/);
    }
  });

  it('keeps tabs and line breaks inside quoted fields', () => {
    const csv = `${HEADER}\nC1,O1,2025-01-01,1.00,"web\r\nshop"\nC2,O2,2025-01-01,1.00,"a\tb"\n`;
    const result = parseAgreeing(csv);
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((r) => r.channel)).toEqual(['web\r\nshop', 'a\tb']);
  });

  it('rejects a JSON Lines value holding a control character', () => {
    const jsonl =
      '{"customer":"C1","date":"2025-01-01","amount":1}\n{"customer":"C\\u00002","date":"2025-01-01","amount":1}\n';
    const result = parseExport(jsonl, { fileName: 'x.jsonl' });
    expect(rejectsOf(result)).toEqual([[2, 'row_malformed', expect.stringContaining("column 'customer'")]]);
  });

  it('refuses a file as binary only when control bytes are a large share of its start', () => {
    const noise = new Uint8Array(4000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 256;
    expect(() => parseExport(noise)).toThrow(/binary data/);
    // One zero byte in a short export is that row's problem, not the file's.
    const short = parseAgreeing(`${HEADER}\nC1,O1,2025-01-01,1.00,web\nC\u00002,O2,2025-01-01,1.00,web\n`);
    expect(rejectsOf(short)).toEqual([[3, 'row_malformed', expect.stringContaining('U+0000')]]);
  });
});

describe('amounts with a currency mark', () => {
  const csv = [
    'customer_id,order_date,amount',
    'C1,2025-01-01,€ 12.50',
    'C2,2025-01-01,"$1,234.00"',
    'C3,2025-01-01,12.50 EUR',
    'C4,2025-01-01,EUR 12.50',
    'C5,2025-01-01,(12.50)',
    'C6,2025-01-01,£7.25',
    'C7,2025-01-01,¥500',
    'C8,2025-01-01,$1234.00',
    'C9,2025-01-01,CHF 5.00',
    'C10,2025-01-01,usd 3.10',
    'C11,2025-01-01,-$4.00',
  ].join('\n');

  it('takes the currency from the symbol or code when there is no currency column', () => {
    const result = parseAgreeing(csv);
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((r) => [r.customerId, r.amountCents, r.currency])).toEqual([
      ['C1', 1250, 'EUR'],
      ['C2', 123400, 'USD'],
      ['C3', 1250, 'EUR'],
      ['C4', 1250, 'EUR'],
      ['C5', -1250, 'EUR'],
      ['C6', 725, 'GBP'],
      ['C7', 50000, 'JPY'],
      ['C8', 123400, 'USD'],
      ['C9', 500, 'CHF'],
      ['C10', 310, 'USD'],
      ['C11', -400, 'USD'],
    ]);
  });

  it('reads comma-decimal amounts with a code after them', () => {
    const result = parseAgreeing('klant;datum;bedrag\nK1;2025-01-01;12,50 EUR\nK2;2025-01-01;€ 1.234,50\n');
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((r) => [r.amountCents, r.currency])).toEqual([
      [1250, 'EUR'],
      [123450, 'EUR'],
    ]);
  });

  it('must agree with the currency column', () => {
    const withColumn = [
      'customer_id,order_date,amount,currency',
      'C1,2025-01-01,$12.00,USD',
      'C2,2025-01-01,$12.00,EUR',
      'C3,2025-01-01,$12.00,',
      'C4,2025-01-01,12.00,EUR',
    ].join('\n');
    const result = parseAgreeing(withColumn, { currency: 'GBP' });
    expect(result.accepted.map((r) => [r.customerId, r.currency])).toEqual([
      ['C1', 'USD'],
      ['C3', 'USD'],
      ['C4', 'EUR'],
    ]);
    expect(rejectsOf(result)).toEqual([
      [3, 'currency_mismatch', "amount '$12.00' is in USD but currency (column 'currency') says EUR"],
    ]);
  });

  it('follows the source config’s symbol map', () => {
    const text = 'customer_id,order_date,amount\nC1,2025-01-01,$12.00\nC2,2025-01-01,12.00 kr\n';
    const result = parseAgreeing(text, { currencySymbols: { $: 'CAD', kr: 'SEK' } });
    expect(result.accepted.map((r) => r.currency)).toEqual(['CAD', 'SEK']);
    expect(rejectsOf(parseAgreeing(text))).toEqual([
      [3, 'amount_invalid', expect.stringContaining("'kr' is not a currency symbol or code")],
    ]);
  });
});

describe('customer ids follow the one id rule', () => {
  it('rejects ids the API and erasure could not address, naming the rule', () => {
    const long = 'x'.repeat(257);
    const wide = 'é'.repeat(129); // 129 characters, 258 UTF-8 bytes
    const csv = [
      'customer_id,order_date,amount',
      'C1,2025-01-01,1.00',
      'a/b,2025-01-01,1.00',
      '..,2025-01-01,1.00',
      `${long},2025-01-01,1.00`,
      `${wide},2025-01-01,1.00`,
      'a\\b,2025-01-01,1.00',
      `${'y'.repeat(256)},2025-01-01,1.00`,
    ].join('\n');
    const result = parseAgreeing(csv);
    expect(result.accepted.map((r) => r.line)).toEqual([2, 8]);
    expect(result.rejected.map((r) => [r.line, r.reason])).toEqual([
      [3, 'customer_id_invalid'],
      [4, 'customer_id_invalid'],
      [5, 'customer_id_invalid'],
      [6, 'customer_id_invalid'],
      [7, 'customer_id_invalid'],
    ]);
    expect(result.rejected[0]!.message).toBe(
      "customer_id: 'a/b' must not contain '/' or '\\' (an id is 1–256 UTF-8 bytes, without control characters, '/' or '\\', and not '.' or '..')",
    );
    expect(result.rejected[3]!.message).toMatch(/must be at most 256 UTF-8 bytes \(it has 258\)/);
  });
});
