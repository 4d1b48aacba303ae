/**
 * Export parser properties: generated exports in any delimiter, encoding, quoting, style and chunking
 * read back exactly; on damaged input only IngestFileError escapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestFileError } from '#domain/ingest/export-parser.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';
import { type ParsedExport, parseExport } from './parse-export.ts';

/** Encodes text as Windows-1252 (only characters the generators below produce). */
const cp1252 = (text: string) => Uint8Array.from(text, (ch) => (ch === '€' ? 0x80 : ch.charCodeAt(0)));

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const DATE_STYLES = {
  isoInstant: (d: Date) => d.toISOString(),
  isoLocal: (d: Date) => d.toISOString().slice(0, 19).replace('T', ' '),
  isoDate: (d: Date) => d.toISOString().slice(0, 10),
  compact: (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, ''),
  dutch: (d: Date) => `${pad(d.getUTCDate())}-${pad(d.getUTCMonth() + 1)}-${d.getUTCFullYear()}`,
  us: (d: Date) =>
    `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
} as const;
type DateStyle = keyof typeof DATE_STYLES;
const DATE_FORMAT_CONFIG: Partial<Record<DateStyle, string>> = { dutch: 'dd-MM-yyyy', us: 'MM/dd/yyyy' };
/** What a style keeps of an instant (date-only styles drop the time; `us` drops seconds). */
const truncateFor = (style: DateStyle, ms: number) =>
  style === 'isoDate' || style === 'compact' || style === 'dutch'
    ? Math.floor(ms / 86_400_000) * 86_400_000
    : style === 'us'
      ? Math.floor(ms / 60_000) * 60_000
      : style === 'isoInstant'
        ? ms
        : Math.floor(ms / 1000) * 1000;

function formatAmount(cents: number, decimal: '.' | ',', grouped: boolean): string {
  const abs = Math.abs(cents);
  let whole = String(Math.floor(abs / 100));
  if (grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, decimal === '.' ? ',' : '.');
  return `${cents < 0 ? '-' : ''}${whole}${decimal}${pad(abs % 100)}`;
}

const quote = (value: string, delimiter: string, always: boolean) =>
  always || /["\r\n]/.test(value) || value.includes(delimiter) ? `"${value.replace(/"/g, '""')}"` : value;

const HEADER_CHOICES = {
  customer_id: ['customer_id', 'Customer ID', 'klantnummer', 'KLANT_ID', 'client'],
  order_id: ['order_id', 'Ordernummer', 'Order Number', 'invoice'],
  order_ts: ['order_date', 'Besteldatum', 'DATE', 'created_at', 'timestamp'],
  amount: ['amount', 'Bedrag', 'Total', 'revenue', 'omzet'],
} as const;

// No line breaks: a customer id must not contain control characters (`shared/domain/customer-id.ts`);
// quoted multi-line values are read back in the byte-reader property test and the multiline fixture.
const customerId = fc
  .string({
    unit: fc.constantFrom('a', 'B', '7', '-', ' ', ',', ';', '|', '"', 'é', 'ü', '€'),
    minLength: 1,
    maxLength: 10,
  })
  .map((s) => `c${s}x`);

const exportFile = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t', '|'),
  decimal: fc.constantFrom('.', ',') as fc.Arbitrary<'.' | ','>,
  grouped: fc.boolean(),
  dateStyle: fc.constantFrom(...(Object.keys(DATE_STYLES) as DateStyle[])),
  encoding: fc.constantFrom('utf-8', 'utf-8-bom', 'windows-1252'),
  lineEnd: fc.constantFrom('\n', '\r\n'),
  quoteAll: fc.boolean(),
  headers: fc.record({
    customer_id: fc.constantFrom(...HEADER_CHOICES.customer_id),
    order_id: fc.constantFrom(...HEADER_CHOICES.order_id),
    order_ts: fc.constantFrom(...HEADER_CHOICES.order_ts),
    amount: fc.constantFrom(...HEADER_CHOICES.amount),
  }),
  rows: fc.array(
    fc.record({
      customer: customerId,
      order: fc.option(fc.stringMatching(/^[A-Z0-9]{1,8}$/), { nil: null }),
      ms: fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 31) }),
      cents: fc.integer({ min: -1e9, max: 1e9 }),
    }),
    { minLength: 1, maxLength: 30 },
  ),
  chunkSize: fc.integer({ min: 1, max: 300 }),
});
type ExportFile = typeof exportFile extends fc.Arbitrary<infer T> ? T : never;

function render(file: ExportFile): { bytes: Uint8Array; config: SourceConfig } {
  const { delimiter, decimal, grouped, dateStyle, quoteAll, headers } = file;
  const cell = (value: string) => quote(value, delimiter, quoteAll);
  const lines = [
    [headers.customer_id, headers.order_id, headers.order_ts, headers.amount, 'note']
      .map(cell)
      .join(delimiter),
  ];
  for (const row of file.rows) {
    lines.push(
      [
        row.customer,
        row.order ?? '',
        DATE_STYLES[dateStyle](new Date(row.ms)),
        formatAmount(row.cents, decimal, grouped),
        'n',
      ]
        .map(cell)
        .join(delimiter),
    );
  }
  const text = lines.join(file.lineEnd) + file.lineEnd;
  const bytes =
    file.encoding === 'windows-1252'
      ? cp1252(text)
      : new TextEncoder().encode(file.encoding === 'utf-8-bom' ? `\ufeff${text}` : text);
  const dateFormat = DATE_FORMAT_CONFIG[dateStyle];
  // Amounts like 1.234 or 1,234 cannot be told apart without a config; the sniffing has its own tests.
  return { bytes, config: { decimal, ...(dateFormat ? { dateFormat } : {}) } };
}

describe('export parser properties', () => {
  it('reads every generated export back exactly, whatever the delimiter, encoding, quoting, styles and chunking', () => {
    fc.assert(
      fc.property(exportFile, (file) => {
        const { bytes, config } = render(file);
        const { accepted, rejected, summary } = parseExport(bytes, { config, chunkSize: file.chunkSize });
        expect(rejected).toEqual([]);
        expect(summary.rowsRead).toBe(file.rows.length);
        expect(summary.delimiter).toBe(file.delimiter);
        // A file that is plain ASCII reads the same in every encoding and is reported as UTF-8.
        const nonAscii = bytes.some((b) => b >= 0x80);
        expect(summary.encoding).toBe(
          file.encoding === 'windows-1252' && nonAscii ? 'windows-1252' : 'utf-8',
        );
        expect(
          accepted.map((r) => [
            r.customerId,
            r.orderIdGenerated ? null : r.orderId,
            r.orderTsMicros / 1000,
            r.amountCents,
          ]),
        ).toEqual(
          file.rows.map((row) => [
            row.customer.trim(),
            row.order,
            truncateFor(file.dateStyle, row.ms),
            row.cents,
          ]),
        );
        // Physical line numbers: header is line 1 and multi-line customer ids push later rows down.
        let line = 2;
        for (const [i, row] of file.rows.entries()) {
          expect(accepted[i]!.line).toBe(line);
          line += row.customer.split('\n').length;
        }
      }),
      { numRuns: 300 },
    );
  });

  type Damage =
    | { kind: 'truncate' | 'quote'; at: number }
    | { kind: 'junk'; at: number; bytes: Uint8Array }
    | { kind: 'junkLine'; at: number; text: string }
    | { kind: 'hugeField'; at: number; size: number };

  /** Truncated last lines, binary junk, junk rows, huge fields and stray quotes, anywhere. */
  const damage: fc.Arbitrary<Damage> = fc.oneof(
    fc.record({ kind: fc.constantFrom('truncate' as const, 'quote' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('junk' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ kind: fc.constant('junkLine' as const), at: fc.nat(), text: fc.string({ maxLength: 40 }) }),
    fc.record({
      kind: fc.constant('hugeField' as const),
      at: fc.nat(),
      size: fc.integer({ min: 60_000, max: 1_200_000 }),
    }),
  );

  function applyDamage(bytes: Uint8Array, d: Damage): Uint8Array {
    const at = d.at % (bytes.length + 1);
    const insert = (extra: Uint8Array) => {
      const out = new Uint8Array(bytes.length + extra.length);
      out.set(bytes.subarray(0, at), 0);
      out.set(extra, at);
      out.set(bytes.subarray(at), at + extra.length);
      return out;
    };
    switch (d.kind) {
      case 'truncate':
        return bytes.subarray(0, at);
      case 'quote':
        return insert(Uint8Array.of(0x22));
      case 'junk':
        return insert(d.bytes);
      case 'junkLine':
        return insert(new TextEncoder().encode(`\n${d.text}\n`));
      case 'hugeField':
        return insert(new Uint8Array(d.size).fill(0x78));
    }
  }

  const checkInvariants = (run: () => ParsedExport) => {
    let result: ParsedExport;
    try {
      result = run();
    } catch (error) {
      expect(error).toBeInstanceOf(IngestFileError);
      return;
    }
    const { accepted, rejected, summary } = result;
    expect(summary.rowsRead).toBe(accepted.length + rejected.length);
    const lines = [...accepted.map((r) => r.line), ...rejected.map((r) => r.line)].sort((a, b) => a - b);
    expect(new Set(lines).size).toBe(lines.length);
    for (const row of accepted) {
      expect(row.customerId).toBe(row.customerId.trim());
      expect(row.customerId).not.toBe('');
      expect(row.orderId).not.toBe('');
      expect(/^[A-Z]{3}$/.test(row.currency)).toBe(true);
    }
    for (const row of rejected) expect(row.message.length).toBeGreaterThan(10);
  };

  it('damaged exports: only IngestFileError escapes, and rows in = accepted + rejected', () => {
    fc.assert(
      fc.property(
        exportFile,
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (file, damages, withConfig) => {
          let { bytes, config } = render(file);
          for (const d of damages) bytes = applyDamage(bytes, d);
          checkInvariants(() =>
            parseExport(bytes, { config: withConfig ? config : {}, chunkSize: file.chunkSize * 97 }),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary bytes and text under any file name: only IngestFileError escapes', () => {
    const names = ['x.csv', 'x.jsonl', 'x.json', 'x.txt', 'x', 'x.ndjson.gz'];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.string({ maxLength: 400 }).map((s) => new TextEncoder().encode(s)),
          fc
            .array(
              fc.dictionary(
                fc.constantFrom('customer', 'date', 'amount', 'order_id', 'x'),
                fc.jsonValue({ maxDepth: 1 }),
              ),
              { maxLength: 8 },
            )
            .map((objects) => new TextEncoder().encode(objects.map((o) => JSON.stringify(o)).join('\n'))),
        ),
        fc.constantFrom(...names),
        fc.integer({ min: 1, max: 50 }),
        (bytes, fileName, chunkSize) => {
          checkInvariants(() => parseExport(bytes, { fileName, chunkSize }));
        },
      ),
      { numRuns: 500 },
    );
  });
});
