// Acceptance property: one junk amount or one control character anywhere in a clean export costs
// exactly that row, inside the sniffing window or beyond it, on the byte path and the text path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SNIFF_WINDOW_BYTES } from '#domain/ingest/limits.ts';
import { type ParsedExport, parseExport, utf8 } from './parse-export.ts';

/** Not an amount in either decimal style. */
const JUNK_AMOUNTS = [
  '12..5',
  '12.3.4',
  '1,2,3,4',
  'abc',
  '1e5',
  '--5',
  '12.50 xyz',
  '€€5',
  '(12.50',
  '5 5 5',
];
const CONTROLS = ['\u0000', '\u0001', '\u0008', '\u000b', '\u001b', '\u007f', '\u0085'];

const baseRow = fc.record({
  customer: fc.stringMatching(/^[A-Za-z0-9-]{1,10}$/),
  cents: fc.integer({ min: -1e7, max: 1e9 }),
  ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2030, 0, 1) }),
  channel: fc.constantFrom('', 'web', 'shop', 'app'),
});

const damage = fc.oneof(
  fc.record({
    kind: fc.constant('junk' as const),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    junk: fc.constantFrom(...JUNK_AMOUNTS),
  }),
  fc.record({
    kind: fc.constant('control' as const),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    control: fc.constantFrom(...CONTROLS),
    field: fc.integer({ min: 0, max: 4 }),
    offset: fc.nat(),
  }),
);

const exportFile = fc.record({
  comma: fc.boolean(),
  rows: fc.array(baseRow, { minLength: 10, maxLength: 40 }),
  /** Bytes to fill: small, just over the sniffing window, or well beyond it. */
  size: fc.constantFrom(8_000, SNIFF_WINDOW_BYTES + 20_000, 2 * SNIFF_WINDOW_BYTES),
  chunkSize: fc.constantFrom(4_096, 65_536, 1 << 20),
  damage,
});
type ExportFile = typeof exportFile extends fc.Arbitrary<infer T> ? T : never;

/** Rows of the file as field arrays (the base rows repeated with unique ids until `size` is reached). */
function rowsOf(file: ExportFile): string[][] {
  const decimal = file.comma ? ',' : '.';
  const rows: string[][] = [];
  let bytes = 0;
  for (let i = 0; bytes < file.size; i++) {
    const r = file.rows[i % file.rows.length]!;
    const abs = Math.abs(r.cents);
    const amount = `${r.cents < 0 ? '-' : ''}${Math.floor(abs / 100)}${decimal}${String(abs % 100).padStart(2, '0')}`;
    const fields = [
      `${r.customer}-${i}`,
      `O${i}`,
      new Date(r.ms).toISOString().slice(0, 19),
      amount,
      r.channel,
    ];
    rows.push(fields);
    bytes += fields.join(',').length + 1;
  }
  return rows;
}

function render(file: ExportFile, rows: string[][]): Uint8Array {
  const delimiter = file.comma ? ';' : ',';
  const cell = (v: string) => (v.includes(delimiter) || v.includes('"') ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = ['customer_id,order_id,order_date,amount,channel'.replace(/,/g, delimiter)];
  for (const row of rows) lines.push(row.map(cell).join(delimiter));
  return utf8(`${lines.join('\n')}\n`);
}

describe('one damaged value in a clean export', () => {
  it('gives the clean result plus exactly one rejected row, wherever it sits', () => {
    fc.assert(
      fc.property(exportFile, (file) => {
        const rows = rowsOf(file);
        const index = Math.floor(file.damage.at * rows.length);
        const damaged = rows.map((r) => [...r]);
        const d = file.damage;
        if (d.kind === 'junk') damaged[index]![3] = d.junk;
        else {
          const value = damaged[index]![d.field]!;
          const at = d.offset % (value.length + 1);
          damaged[index]![d.field] = value.slice(0, at) + d.control + value.slice(at);
        }
        const line = index + 2;
        for (const byteReader of [true, false]) {
          const parse = (bytes: Uint8Array): ParsedExport =>
            parseExport(bytes, { byteReader, chunkSize: file.chunkSize });
          const clean = parse(render(file, rows));
          expect(clean.rejected).toEqual([]);
          const result = parse(render(file, damaged));
          expect(result.summary).toEqual(clean.summary);
          expect(result.rejected.map((r) => [r.line, r.reason])).toEqual([
            [line, d.kind === 'junk' ? 'amount_invalid' : 'row_malformed'],
          ]);
          expect(result.accepted).toEqual(clean.accepted.filter((r) => r.line !== line));
        }
      }),
      { numRuns: 25 },
    );
  });
});
