/**
 * The byte reader (plain ASCII rows read from the bytes) must give exactly what the text reader gives
 * on the same file: the same accepted rows with the same values, line numbers and row hashes, the
 * same rejects with the same messages, the same summary. These files are built to sit on the border
 * between the two: values with spaces, quotes, non-ASCII, tabs and control bytes, bad dates and
 * amounts, odd field counts, blank lines, CRLF and bare CR, cut into random chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestFileError } from '#domain/ingest/export-parser.ts';
import { MAX_ROW_CHARS } from '#domain/ingest/limits.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';
import { latin1, type ParsedExport, parseExport, utf8 } from './parse-export.ts';

// Values with control characters and junk amounts check that both readers reject the same rows.
const value = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/) },
  {
    weight: 3,
    arbitrary: fc.string({
      unit: fc.constantFrom(
        'a',
        'Z',
        '7',
        ' ',
        '-',
        '"',
        ',',
        ';',
        '\t',
        '\r',
        '\n',
        'é',
        '€',
        '\u0001',
        '\u0000',
        '\u001b',
        '\u007f',
        '|',
      ),
      maxLength: 6,
    }),
  },
  { weight: 1, arbitrary: fc.constant('') },
);

const timestamp = fc.oneof(
  fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2150, 0, 1) }).chain((ms) => {
    const iso = new Date(ms).toISOString();
    return fc.constantFrom(
      iso,
      iso.slice(0, 19),
      `${iso.slice(0, 19)}Z`,
      iso.slice(0, 10),
      `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
      iso.slice(0, 10).replace(/-/g, ''),
      `${iso.slice(8, 10)}-${iso.slice(5, 7)}-${iso.slice(0, 4)}`,
      `${iso.slice(0, 19)}+02:00`,
      ` ${iso.slice(0, 10)}`,
    );
  }),
  fc.constantFrom('2025-02-30', '2025-13-01', '1899-12-31', '31/31/2031', 'soon', '', '2025-01-01T25:00:00'),
);

const amount = fc.oneof(
  fc.integer({ min: -1e9, max: 1e9 }).chain((cents) => {
    const abs = Math.abs(cents);
    const whole = String(Math.floor(abs / 100));
    const fraction = String(abs % 100).padStart(2, '0');
    const sign = cents < 0 ? '-' : '';
    return fc.constantFrom(
      `${sign}${whole}.${fraction}`,
      `${sign}${whole}`,
      `${sign}${whole}.${fraction}5`,
      `€${sign}${whole}.${fraction}`,
      `(${whole}.${fraction})`,
      ` ${sign}${whole}.${fraction}`,
      `${whole},${fraction}`,
      `$${sign}${whole}.${fraction}`,
      `${sign}${whole}.${fraction} EUR`,
      `USD ${whole}.${fraction}`,
      `£${whole}`,
      `${whole}.${fraction}\u0000`,
    );
  }),
  fc.constantFrom('', 'abc', '1.2.3', '-', '1e5', '12..5', '12.3.4', '12.50 abc', '€€5', '(5'),
);

const currency = fc.constantFrom('EUR', 'eur', 'USD', '€', '', 'XXX1', ' EUR', 'GBP', 'E\u0000UR');
const quantity = fc.constantFrom('', '1', '2', '12', '1.5', 'x', ' 3', '-2');
const channel = fc.constantFrom('', 'web', 'shop', ' app', 'café');
// Order-economics values, valid and not (a file with these columns is read as text by both readers).
const cost = fc.constantFrom('', '4.00', '0', '-3.00', 'abc', ' 2.50', '1,5');
const marginRate = fc.constantFrom('', '0.35', '35 %', '35', '-0.1', 'x');
const returned = fc.constantFrom('', 'yes', 'no', 'ja', 'maybe', ' 1');

const row = fc.record({
  customer: value,
  order: value,
  ts: timestamp,
  amount,
  currency,
  quantity,
  channel,
  cost,
  marginRate,
  returned,
  /** 0: as is; 1: one field fewer; 2: an extra empty field; 3: an extra non-empty field. */
  shape: fc.constantFrom(0, 0, 0, 0, 0, 0, 1, 2, 3),
  blankBefore: fc.constantFrom(false, false, false, false, true),
});

const file = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t', '|'),
  lineEnd: fc.constantFrom('\n', '\r\n', '\r\n', '\n'),
  encoding: fc.constantFrom('utf-8', 'windows-1252'),
  quoteAll: fc.constantFrom(false, false, true),
  /** A lone CR inside a value is quoted, or left bare (the readers must agree on both). */
  quoteCr: fc.boolean(),
  withOptional: fc.boolean(),
  withEconomics: fc.boolean(),
  finalLineEnd: fc.boolean(),
  rows: fc.array(row, { minLength: 1, maxLength: 25 }),
  chunkSize: fc.integer({ min: 1, max: 200 }),
});

function render(f: typeof file extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const { delimiter } = f;
  const cell = (v: string) =>
    f.quoteAll || /["\n]/.test(v) || (f.quoteCr && v.includes('\r')) || v.includes(delimiter)
      ? `"${v.replace(/"/g, '""')}"`
      : v;
  const header = ['customer_id', 'order_id', 'order_date', 'amount', 'currency'];
  if (f.withOptional) header.push('quantity', 'channel');
  if (f.withEconomics) header.push('cost', 'margin %', 'returned');
  const lines = [header.join(delimiter)];
  for (const r of f.rows) {
    if (r.blankBefore) lines.push('');
    const values = [r.customer, r.order, r.ts, r.amount, r.currency];
    if (f.withOptional) values.push(r.quantity, r.channel);
    if (f.withEconomics) values.push(r.cost, r.marginRate, r.returned);
    if (r.shape === 1) values.pop();
    if (r.shape === 2) values.push('');
    if (r.shape === 3) values.push('extra');
    lines.push(values.map(cell).join(delimiter));
  }
  const text = lines.join(f.lineEnd) + (f.finalLineEnd ? f.lineEnd : '');
  if (f.encoding === 'utf-8') return utf8(text);
  return latin1(text.replace(/€/g, '\u0080'));
}

type Outcome = ParsedExport | { error: string };

function parseBoth(bytes: Uint8Array, chunkSize: number, config: SourceConfig = { decimal: '.' }) {
  const run = (byteReader: boolean): Outcome => {
    try {
      return parseExport(bytes, { config, chunkSize, byteReader });
    } catch (error) {
      if (error instanceof IngestFileError) return { error: `${error.code}: ${error.message}` };
      throw error;
    }
  };
  return { bytes: run(true), text: run(false) };
}

describe('byte reader against the text reader', () => {
  it('gives the same rows, rejects and summary on generated files', () => {
    fc.assert(
      fc.property(file, (f) => {
        const { bytes, text } = parseBoth(render(f), f.chunkSize);
        expect(bytes).toEqual(text);
      }),
      { numRuns: 400 },
    );
  });

  it('takes the fast path for plain rows and agrees on their hashes and generated order ids', () => {
    const csv =
      'customer_id,order_id,order_date,amount,channel,quantity\nC1,,2024-01-02,12.50,web,2\nC1,,2024-01-02,12.50,web,2\nC2,O9,20240103,7,,\n';
    const { bytes, text } = parseBoth(utf8(csv), 10);
    expect(bytes).toEqual(text);
    const accepted = (bytes as ParsedExport).accepted;
    expect(accepted).toHaveLength(3);
    expect(accepted[0]!.orderId).toMatch(/^gen-[0-9a-f]{16}$/);
    expect(accepted[0]!.rowHash).toBe(accepted[1]!.rowHash);
  });

  it('agrees on files with order-economics columns: the same rows, economics, hashes and rejects', () => {
    const csv =
      'customer_id,order_id,order_date,amount,cost,returned\nC1,,2024-01-02,12.50,4.00,no\nC1,,2024-01-02,12.50,4.00,no\nC2,O9,20240103,7,-1,\nC3,O10,2024-01-04,9.00,,yes\n';
    const { bytes, text } = parseBoth(utf8(csv), 10);
    expect(bytes).toEqual(text);
    const parsed = bytes as ParsedExport;
    expect(
      parsed.accepted.map((row) => [row.line, row.economics?.costCents, row.economics?.returnedWhole]),
    ).toEqual([
      [2, 400, false],
      [3, 400, false],
      [5, null, true],
    ]);
    expect(parsed.accepted[0]!.rowHash).toBe(parsed.accepted[1]!.rowHash);
    expect(parsed.rejected.map((row) => [row.line, row.reason])).toEqual([[4, 'cost_invalid']]);
  });

  it('agrees on rows over the size limit, with and without quotes', () => {
    const long = 'x'.repeat(MAX_ROW_CHARS + 10);
    for (const middle of [
      `C1,O1,2024-01-01,${long}`,
      `C1,"${long}`,
      `C1,O1,2024-01-01,1.00,"a${long}"`,
      `é${long}`,
    ]) {
      const csv = `customer_id,order_id,order_date,amount\nC0,O0,2024-01-01,1.00\n${middle}\nC2,O2,2024-01-02,2.00\n`;
      for (const chunkSize of [1000, 65_536, 3_000_000]) {
        const { bytes, text } = parseBoth(utf8(csv), chunkSize);
        expect(bytes).toEqual(text);
      }
    }
  });

  it('reports a file that switches from UTF-8 to another encoding, naming the row', () => {
    // UTF-8 is decided at the first é; the Latin-1 é comes far beyond the sniffing window.
    const head = utf8(
      `customer_id,order_id,order_date,amount\nClé,O1,2024-01-01,1.00\n${'C2,O2,2024-01-01,1.00\n'.repeat(20_000)}`,
    );
    const bad = new Uint8Array([...head, ...latin1('Cl\u00e9,O3,2024-01-01,1.00\n')]);
    const { bytes, text } = parseBoth(bad, 65_536);
    expect(text).toEqual({ error: expect.stringMatching(/^encoding_invalid: /) });
    expect(bytes).toEqual({
      error: expect.stringMatching(
        new RegExp(`^encoding_invalid: .*not valid UTF-8 in the row at byte ${head.length} `),
      ),
    });
  });
});
