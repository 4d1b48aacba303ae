/**
 * The staging sink writes the staged columns as TSV exactly as String and RFC 4180 quoting would, the
 * byte fast path identically to text, and lists duplicate candidates.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  duplicateCandidatesPath,
  rowHashesPath,
  STAGED_COLUMNS,
  StagingSink,
} from '#adapters/ingest/staging.ts';
import type { AsciiParsedRow, ParsedRow } from '#domain/ingest/export-parser.ts';

const workDirs: string[] = [];
afterAll(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A parsed row as the byte fast path hands it over: its ids as ranges of one byte buffer (between
 * other bytes, as in a real line), its hash as halves.
 */
function asAsciiRow(row: ParsedRow): AsciiParsedRow {
  const customer = `;${row.customerId};`;
  const order = row.orderIdGenerated ? '' : row.orderId;
  const bytes = Uint8Array.from(`${customer}${order};${row.channel ?? ''};`, (c) => c.charCodeAt(0));
  const orderStart = customer.length;
  const channelStart = orderStart + order.length + 1;
  return {
    line: row.line,
    bytes,
    customerStart: 1,
    customerEnd: 1 + row.customerId.length,
    orderStart,
    orderEnd: orderStart + order.length,
    generatedOrderId: row.orderIdGenerated ? row.orderId : null,
    orderTsMicros: row.orderTsMicros,
    amountCents: row.amountCents,
    currency: row.currency,
    channelStart,
    channelEnd: channelStart + (row.channel?.length ?? 0),
    quantity: row.quantity,
    rowHashHigh: Number.parseInt(row.rowHash.slice(0, 8), 16) | 0,
    rowHashLow: Number.parseInt(row.rowHash.slice(8), 16) | 0,
  };
}

/** Stages rows (as text rows, or as the byte fast path's rows) and reads the three files back as text. */
function stage(rows: ParsedRow[], options: { duplicateFilterLog2Bits?: number; ascii?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cvm-staging-'));
  workDirs.push(dir);
  const sink = new StagingSink(dir, options);
  for (const row of rows) {
    if (options.ascii) sink.acceptAscii(asAsciiRow(row));
    else sink.accept(row);
  }
  sink.close();
  return {
    staged: readFileSync(sink.acceptedPath, 'utf8'),
    hashes: readFileSync(rowHashesPath(sink.acceptedPath), 'utf8'),
    candidates: readFileSync(duplicateCandidatesPath(sink.acceptedPath), 'utf8'),
    counts: sink.counts,
  };
}

/** What the staged line of a row must be: the values as `String` writes them, TSV-quoted when needed. */
function expectedLine(row: ParsedRow): string {
  const text = (value: string) => (/[\t\n\r"]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return [
    String(row.line),
    text(row.customerId),
    text(row.orderId),
    String(row.orderTsMicros),
    row.amountCents === null ? '' : String(row.amountCents),
    row.currency,
    row.channel === null ? '' : text(row.channel),
    row.quantity === null ? '' : String(row.quantity),
  ].join('\t');
}

const row = (overrides: Partial<ParsedRow>): ParsedRow => ({
  line: 2,
  customerId: 'C1',
  orderId: 'O1',
  orderIdGenerated: false,
  orderTsMicros: 1_672_531_200_000_000,
  amountCents: 100,
  currency: 'EUR',
  channel: null,
  quantity: null,
  rowHash: '0123456789abcdef',
  ...overrides,
});

describe('staging sink', () => {
  it('writes the columns STAGED_COLUMNS names, in order', () => {
    expect(Object.keys(STAGED_COLUMNS)).toEqual([
      'line',
      'customer_id',
      'order_id',
      'order_ts_us',
      'amount_cents',
      'currency',
      'channel',
      'quantity',
    ]);
    const { staged, hashes } = stage([row({ channel: 'web', quantity: 3 })]);
    expect(staged).toBe('2\tC1\tO1\t1672531200000000\t100\tEUR\tweb\t3\n');
    expect(hashes).toBe('2\t0123456789abcdef\n');
  });

  it('writes every safe integer and text value as String and RFC 4180 quoting would', () => {
    const safeInteger = fc.oneof(
      fc.integer({ min: -99, max: 99 }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.maxSafeInteger().map((n) => -n),
      fc.constantFrom(0, -0, 9, 10, 99, 100, 99_999_999, 100_000_000, 1e15, 1e16),
    );
    const text = fc.oneof(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
      fc.constantFrom('tab\there', 'quote"d', 'new\nline', 'crlf\r\n', 'Müller', '山田', '😀'),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            line: fc.integer({ min: 1, max: 2 ** 40 }),
            customerId: text,
            orderId: text,
            orderTsMicros: safeInteger,
            amountCents: fc.option(safeInteger),
            channel: fc.option(text),
            quantity: fc.option(safeInteger),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (values) => {
          const rows = values.map((v) => row(v));
          const { staged, hashes } = stage(rows);
          expect(staged).toBe(rows.map((r) => `${expectedLine(r)}\n`).join(''));
          expect(hashes).toBe(rows.map((r) => `${r.line}\t${r.rowHash}\n`).join(''));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stages a byte fast path row exactly as the same row given as text', () => {
    const ascii = fc.stringMatching(/^[!#-~]{1,12}$/); // printable ASCII without quote: what the fast path passes
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            line: fc.integer({ min: 1, max: 2 ** 40 }),
            customerId: ascii,
            orderId: ascii,
            orderIdGenerated: fc.boolean(),
            orderTsMicros: fc.maxSafeInteger(),
            amountCents: fc.option(fc.integer({ min: -1e12, max: 1e12 })),
            channel: fc.option(ascii),
            quantity: fc.option(fc.integer({ min: -1000, max: 1000 })),
            rowHash: fc.stringMatching(/^[0-9a-f]{16}$/),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (values) => {
          const rows = values.map((v) => row(v));
          expect(stage(rows, { ascii: true, duplicateFilterLog2Bits: 9 })).toEqual(
            stage(rows, { duplicateFilterLog2Bits: 9 }),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lists a repeated row hash as a duplicate candidate, and none when all differ', () => {
    const distinct = Array.from({ length: 500 }, (_, i) =>
      row({ line: i + 2, rowHash: (0x10000000 + i * 7919).toString(16).padStart(16, '0') }),
    );
    expect(stage(distinct)).toMatchObject({ candidates: '', counts: { duplicateCandidates: 0 } });
    const repeated = [...distinct, row({ line: 600, rowHash: distinct[42]!.rowHash })];
    expect(stage(repeated)).toMatchObject({
      candidates: `${distinct[42]!.rowHash}\n`,
      counts: { accepted: 501, duplicateCandidates: 1 },
    });
  });

  it('keeps rows bigger than the write buffer in order', () => {
    const long = 'x'.repeat(60_000);
    const rows = Array.from({ length: 40 }, (_, i) => row({ line: i + 2, customerId: `${i}${long}` }));
    const { staged } = stage(rows);
    expect(staged).toBe(rows.map((r) => `${expectedLine(r)}\n`).join(''));
  });
});
