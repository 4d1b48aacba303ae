/**
 * fast-check generators of whole export files, each with the outcome the ingest must report for it.
 *
 * A file is rendered from a model: every row is drawn as valid (with its amount in cents and its
 * currency), as a known kind of junk (with the reject reason it must get), as an exact duplicate of
 * an earlier valid row, or as a line item of an earlier order. The model then says what the ingest
 * must count: rows read, accepted, rejected per reason, duplicates, and the sum of accepted amounts
 * per currency. Whole-file damage (empty files, binary garbage) only has to fail cleanly.
 *
 * The styles cover what real exports do: UTF-8 with and without BOM, Windows-1252, UTF-16 LE; `,` `;`
 * tab `|`; minimal or full quoting; LF, CRLF, CR; header aliases in several languages; ISO, compact
 * and configured day/month dates; `.`/`,` decimals with grouping, trailing signs, parentheses and
 * currency symbols; blank and all-empty lines; a truncated last line; fields near and over 64 KiB.
 */

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createRandom } from './simulate.ts';

export type RejectReason =
  | 'row_malformed'
  | 'row_too_large'
  | 'customer_id_missing'
  | 'order_ts_missing'
  | 'order_ts_invalid'
  | 'amount_missing'
  | 'amount_invalid'
  | 'currency_invalid';

/** What the ingest must report for a generated file. */
export type ExpectedOutcome =
  | { status: 'failed' }
  | {
      status: 'succeeded' | 'quarantined';
      rowsRead: number;
      accepted: number;
      rejected: number;
      duplicates: number;
      rejectReasons: Partial<Record<RejectReason, number>>;
      /** Currency → sum of the accepted amounts in cents (only currencies with accepted rows). */
      amountCents: Record<string, bigint>;
    };

export interface GeneratedExport {
  /** Last key segment, e.g. `orders.csv.gz`. */
  fileName: string;
  bytes: Buffer;
  /** Stored as `config/sources/<source>.json` before the upload; null = no config. */
  sourceConfig: Record<string, unknown> | null;
  expected: ExpectedOutcome;
  /** One line that says how the file was built, for failure messages. */
  description: string;
}

/** The deployment default currency the local stack uses (`CVM_DEFAULT_CURRENCY`). */
export const STACK_DEFAULT_CURRENCY = 'EUR';

type Encoding = 'utf-8' | 'utf-8-bom' | 'windows-1252' | 'utf-16le-bom';
type DateStyle = 'isoDate' | 'isoInstant' | 'isoLocal' | 'compact' | 'dutch' | 'us';
type NegativeStyle = 'minus' | 'trailing' | 'parentheses';

const HEADERS = {
  customer_id: [
    'customer_id',
    'Customer ID',
    'klantnummer',
    'KLANT_ID',
    'client',
    'Kundennummer',
    'buyer-id',
  ],
  order_id: ['order_id', 'Ordernummer', 'Order Number', 'invoice', 'Bestellnummer', 'transaction_id'],
  order_ts: ['order_date', 'Besteldatum', 'DATE', 'created_at', 'timestamp', 'Bestelldatum'],
  amount: ['amount', 'Bedrag', 'Total', 'revenue', 'omzet', 'Betrag', 'order value'],
  currency: ['currency', 'Valuta', 'currency_code', 'Währung'],
} as const;

/** Characters customer ids are built from; the encoding decides which non-ASCII ones are allowed. */
const ID_CHARS_ASCII = ['a', 'B', 'z', '7', '0', '-', '.', ' ', ',', ';', '|', '"', "'"];
/**
 * é and ü only for Windows-1252: their bytes (E9, FC) followed by ASCII are never valid UTF-8, so the
 * encoding sniffing cannot mistake the file for UTF-8 (E9 80 80, "é€€", would be).
 */
const ID_CHARS_LATIN = ['é', 'ü'];
const ID_CHARS_UNICODE = ['é', 'ü', '€', 'ø', 'Ω', '中', '😀'];

const JUNK_DATES = ['someday', '2025-13-45', '1850-01-01', '2031-02-30', 'n/a'];
const JUNK_AMOUNTS = ['ten', 'N/A', 'abc', '--'];
const JUNK_CURRENCIES = ['EU', 'EURO', '12', 'E$'];

type RowSpec =
  | {
      kind: 'valid';
      customer: string;
      withOrderId: boolean;
      ms: number;
      cents: number;
      currency: string | null;
      currencyStyle: 'code' | 'lower' | 'symbol';
      symbol: 'none' | 'before' | 'after';
      noteSize: number;
    }
  | { kind: 'duplicate'; of: number }
  | { kind: 'lineItem'; of: number }
  | { kind: 'orphanLineItem'; customer: string; ms: number }
  | { kind: 'reject'; reason: RejectReason; variant: number; customer: string; ms: number; cents: number }
  | { kind: 'blank' }
  | { kind: 'allEmpty' };

interface FileSpec {
  encoding: Encoding;
  delimiter: ',' | ';' | '\t' | '|';
  configureDelimiter: boolean;
  quoteAll: boolean;
  lineEnd: '\n' | '\r\n' | '\r';
  finalNewline: boolean;
  headers: { customer_id: string; order_id: string; order_ts: string; amount: string; currency: string };
  hasOrderColumn: boolean;
  hasCurrencyColumn: boolean;
  dateStyle: DateStyle;
  decimal: '.' | ',';
  grouped: boolean;
  negativeStyle: NegativeStyle;
  configCurrency: 'USD' | 'GBP' | null;
  maxRejectRatio: number | null;
  dedupeExactRows: boolean;
  truncateLast: boolean;
  truncateAt: number;
  gzip: boolean;
  rows: RowSpec[];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function formatDate(style: DateStyle, ms: number): string {
  const d = new Date(ms);
  const [y, mo, da, h, mi, s] = [
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
  switch (style) {
    case 'isoDate':
      return `${y}-${pad(mo)}-${pad(da)}`;
    case 'isoInstant':
      return d.toISOString();
    case 'isoLocal':
      return `${y}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
    case 'compact':
      return `${y}${pad(mo)}${pad(da)}`;
    case 'dutch':
      return `${pad(da)}-${pad(mo)}-${y}`;
    case 'us':
      return `${pad(mo)}/${pad(da)}/${y} ${pad(h)}:${pad(mi)}`;
  }
}

const DATE_FORMATS: Partial<Record<DateStyle, string>> = { dutch: 'dd-MM-yyyy', us: 'MM/dd/yyyy HH:mm' };

/** `currency`: the row's currency, which a symbol on the amount names (and so must match). */
function formatAmount(
  file: FileSpec,
  cents: number,
  symbol: 'none' | 'before' | 'after',
  currency = 'EUR',
): string {
  const abs = Math.abs(cents);
  let whole = String(Math.floor(abs / 100));
  if (file.grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, file.decimal === '.' ? ',' : '.');
  let text = `${whole}${file.decimal}${pad(abs % 100)}`;
  const mark = currencyCell(currency, 'symbol');
  if (symbol === 'before') text = `${mark}${text}`;
  if (symbol === 'after') text = `${text} ${mark}`;
  if (cents >= 0) return text;
  switch (file.negativeStyle) {
    case 'minus':
      return `-${text}`;
    case 'trailing':
      return `${text}-`;
    case 'parentheses':
      return `(${text})`;
  }
}

/** Rendered currency cell and the ISO code it stands for. */
function currencyCell(code: string, style: 'code' | 'lower' | 'symbol'): string {
  if (style === 'lower') return code.toLowerCase();
  if (style === 'symbol') return code === 'EUR' ? '€' : code === 'USD' ? '$' : '£';
  return code;
}

/** Builds the file from its spec and computes the expected outcome. */
export function renderExport(file: FileSpec): GeneratedExport {
  const columns: Array<keyof FileSpec['headers'] | 'note'> = ['customer_id'];
  if (file.hasOrderColumn) columns.push('order_id');
  columns.push('order_ts', 'amount');
  if (file.hasCurrencyColumn) columns.push('currency');
  columns.push('note');
  const fileCurrency = file.configCurrency ?? STACK_DEFAULT_CURRENCY;
  const { delimiter } = file;
  const quote = (value: string) =>
    file.quoteAll || /["\r\n]/.test(value) || value.includes(delimiter) || value !== value.trim()
      ? `"${value.replace(/"/g, '""')}"`
      : value;
  const join = (cells: string[]) => cells.map(quote).join(delimiter);

  const lines: string[] = [join(columns.map((c) => (c === 'note' ? 'Note' : file.headers[c])))];
  const reasons: Partial<Record<RejectReason, number>> = {};
  const amountCents: Record<string, bigint> = {};
  let rowsRead = 0;
  let accepted = 0;
  let rejected = 0;
  let duplicates = 0;
  const reject = (reason: RejectReason) => {
    rejected++;
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  };
  const addAmount = (currency: string, cents: number) => {
    amountCents[currency] = (amountCents[currency] ?? 0n) + BigInt(cents);
  };
  // Text of each valid row (for exact duplicates) and its order id (for line items).
  const validRows: Array<{
    text: string;
    orderId: string | null;
    customer: string;
    ms: number;
    currency: string;
    cents: number;
  }> = [];

  const cellsFor = (values: {
    customer: string;
    orderId: string;
    ts: string;
    amount: string;
    currency: string;
    note: string;
  }): string[] =>
    columns.map((c) => {
      switch (c) {
        case 'customer_id':
          return values.customer;
        case 'order_id':
          return values.orderId;
        case 'order_ts':
          return values.ts;
        case 'amount':
          return values.amount;
        case 'currency':
          return values.currency;
        default:
          return values.note;
      }
    });

  file.rows.forEach((row, index) => {
    const note = `n${index}`;
    switch (row.kind) {
      case 'blank':
        lines.push('');
        return;
      case 'allEmpty':
        lines.push(delimiter.repeat(columns.length - 1));
        return;
      case 'valid': {
        const orderId = file.hasOrderColumn && row.withOrderId ? `ORD-${index}` : null;
        const currency = file.hasCurrencyColumn && row.currency ? row.currency : fileCurrency;
        const text = join(
          cellsFor({
            customer: row.customer,
            orderId: orderId ?? '',
            ts: formatDate(file.dateStyle, row.ms),
            amount: formatAmount(file, row.cents, row.symbol, currency),
            currency:
              file.hasCurrencyColumn && row.currency ? currencyCell(row.currency, row.currencyStyle) : '',
            note: row.noteSize > 0 ? `${note}:${'x'.repeat(row.noteSize)}` : note,
          }),
        );
        lines.push(text);
        rowsRead++;
        accepted++;
        addAmount(currency, row.cents);
        validRows.push({ text, orderId, customer: row.customer, ms: row.ms, currency, cents: row.cents });
        return;
      }
      case 'duplicate': {
        const original = validRows[row.of % Math.max(1, validRows.length)];
        if (!original) return;
        lines.push(original.text);
        rowsRead++;
        if (file.dedupeExactRows) duplicates++;
        else {
          accepted++;
          addAmount(original.currency, original.cents);
        }
        return;
      }
      case 'lineItem': {
        const withOrder = validRows.filter((v) => v.orderId !== null);
        const order = withOrder[row.of % Math.max(1, withOrder.length)];
        if (!order) return;
        lines.push(
          join(
            cellsFor({
              customer: order.customer,
              orderId: order.orderId!,
              ts: formatDate(file.dateStyle, order.ms),
              amount: '',
              currency: '',
              note,
            }),
          ),
        );
        rowsRead++;
        accepted++;
        // A line item has no currency cell: it is in the file's currency and adds 0 to that total.
        addAmount(fileCurrency, 0);
        return;
      }
      case 'orphanLineItem': {
        if (!file.hasOrderColumn) return;
        lines.push(
          join(
            cellsFor({
              customer: row.customer,
              orderId: `LOST-${index}`,
              ts: formatDate(file.dateStyle, row.ms),
              amount: '',
              currency: '',
              note,
            }),
          ),
        );
        rowsRead++;
        reject('amount_missing');
        return;
      }
      case 'reject': {
        const base = {
          customer: row.customer,
          orderId: file.hasOrderColumn ? `BAD-${index}` : '',
          ts: formatDate(file.dateStyle, row.ms),
          amount: formatAmount(file, row.cents, 'none'),
          currency: '',
          note,
        };
        let cells: string[];
        let raw: string | undefined;
        switch (row.reason) {
          case 'customer_id_missing':
            cells = cellsFor({ ...base, customer: row.variant % 2 === 0 ? '' : '   ' });
            break;
          case 'order_ts_missing':
            cells = cellsFor({ ...base, ts: '' });
            break;
          case 'order_ts_invalid':
            cells = cellsFor({ ...base, ts: JUNK_DATES[row.variant % JUNK_DATES.length]! });
            break;
          case 'amount_missing':
            // Without an order id an empty amount cannot be a line item of another row.
            cells = cellsFor({ ...base, orderId: '', amount: '' });
            break;
          case 'amount_invalid':
            cells = cellsFor({ ...base, amount: JUNK_AMOUNTS[row.variant % JUNK_AMOUNTS.length]! });
            break;
          case 'currency_invalid':
            if (!file.hasCurrencyColumn) return;
            cells = cellsFor({ ...base, currency: JUNK_CURRENCIES[row.variant % JUNK_CURRENCIES.length]! });
            break;
          case 'row_too_large':
            // A customer id over the 64 KiB field limit (the row stays under the 1 MiB row limit).
            cells = cellsFor({ ...base, customer: `c${'y'.repeat(70_000 + row.variant)}` });
            break;
          case 'row_malformed': {
            const full = cellsFor(base);
            // Too many fields (a non-empty extra one) or too few.
            raw = row.variant % 2 === 0 ? join([...full, 'extra']) : join(full.slice(0, -1));
            cells = full;
            break;
          }
        }
        lines.push(raw ?? join(cells));
        rowsRead++;
        reject(row.reason);
        return;
      }
    }
  });

  let text = lines.join(file.lineEnd);
  let truncated = false;
  if (file.truncateLast && lines.length > 1) {
    // A last line cut before its last delimiter: fewer fields than the header, or an open quote.
    const last = join(
      cellsFor({
        customer: `cut${file.rows.length}x`,
        orderId: file.hasOrderColumn ? `CUT-${file.rows.length}` : '',
        ts: formatDate(file.dateStyle, Date.UTC(2024, 0, 1)),
        amount: formatAmount(file, 1234, 'none'),
        currency: '',
        note: `n${file.rows.length}`,
      }),
    );
    const lastDelimiter = last.lastIndexOf(delimiter);
    const cut = 2 + (file.truncateAt % Math.max(1, lastDelimiter - 2));
    text = `${text}${file.lineEnd}${last.slice(0, Math.min(cut, lastDelimiter))}`;
    rowsRead++;
    reject('row_malformed');
    truncated = true;
  } else if (file.finalNewline) {
    text += file.lineEnd;
  }

  let bytes = encode(text, file.encoding);
  if (file.gzip) bytes = gzipSync(bytes);

  const sourceConfig: Record<string, unknown> = {};
  if (file.configureDelimiter) sourceConfig.delimiter = file.delimiter === '\t' ? 'tab' : file.delimiter;
  // A `,` decimal is declared: the sniffing window may hold only junk amounts, and then `.` is assumed.
  if (file.decimal === ',') sourceConfig.decimal = ',';
  const dateFormat = DATE_FORMATS[file.dateStyle];
  if (dateFormat) sourceConfig.dateFormat = dateFormat;
  if (file.configCurrency) sourceConfig.currency = file.configCurrency;
  if (file.maxRejectRatio !== null) sourceConfig.maxRejectRatio = file.maxRejectRatio;
  if (!file.dedupeExactRows) sourceConfig.dedupeExactRows = false;

  const ratio = rowsRead === 0 ? 0 : rejected / rowsRead;
  const quarantined = ratio > (file.maxRejectRatio ?? 0.2);
  return {
    fileName: `orders.csv${file.gzip ? '.gz' : ''}`,
    bytes: Buffer.from(bytes),
    sourceConfig: Object.keys(sourceConfig).length > 0 ? sourceConfig : null,
    expected: {
      status: quarantined ? 'quarantined' : 'succeeded',
      rowsRead,
      accepted,
      rejected,
      duplicates,
      rejectReasons: reasons,
      amountCents,
    },
    description:
      `csv ${file.encoding} delimiter ${JSON.stringify(file.delimiter)} ${file.quoteAll ? 'quoted' : 'minimal quotes'} ` +
      `line end ${JSON.stringify(file.lineEnd)} dates ${file.dateStyle} decimal ${file.decimal}${file.grouped ? ' grouped' : ''} ` +
      `negatives ${file.negativeStyle}${file.gzip ? ' gzip' : ''}${truncated ? ' truncated last line' : ''}, ` +
      `${file.rows.length} generated rows`,
  };
}

function encode(text: string, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case 'utf-8':
      return new TextEncoder().encode(text);
    case 'utf-8-bom':
      return new TextEncoder().encode(`\ufeff${text}`);
    case 'windows-1252':
      // The generator only uses Latin-1 characters plus € (0x80) for this encoding.
      return Uint8Array.from(text, (ch) => (ch === '€' ? 0x80 : ch.charCodeAt(0)));
    case 'utf-16le-bom':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  }
}

const customerArbitrary = (encoding: Encoding) =>
  fc
    .array(
      fc.constantFrom(
        ...ID_CHARS_ASCII,
        ...(encoding === 'windows-1252' ? ID_CHARS_LATIN : ID_CHARS_UNICODE),
      ),
      { minLength: 0, maxLength: 8 },
    )
    // Starts and ends with a letter: ids are trimmed, and the model compares them trimmed.
    .map((chars) => `c${chars.join('')}x`);

const msArbitrary = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 11, 31) });
const REJECT_REASONS: RejectReason[] = [
  'row_malformed',
  'row_too_large',
  'customer_id_missing',
  'order_ts_missing',
  'order_ts_invalid',
  'amount_missing',
  'amount_invalid',
  'currency_invalid',
];

function rowArbitrary(encoding: Encoding, allowHuge: boolean): fc.Arbitrary<RowSpec> {
  const customer = customerArbitrary(encoding);
  const valid = fc.record({
    kind: fc.constant('valid' as const),
    customer,
    withOrderId: fc.boolean(),
    ms: msArbitrary,
    cents: fc.oneof(
      fc.integer({ min: -99_999, max: 999_999 }),
      fc.integer({ min: -10_000_000_000, max: 100_000_000_000 }),
    ),
    currency: fc.option(fc.constantFrom('EUR', 'USD', 'GBP'), { nil: null }),
    currencyStyle: fc.constantFrom('code' as const, 'lower' as const, 'symbol' as const),
    symbol: fc.constantFrom('none' as const, 'none' as const, 'before' as const, 'after' as const),
    noteSize: allowHuge
      ? fc.oneof(
          { weight: 9, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.integer({ min: 1000, max: 60_000 }) },
        )
      : fc.constant(0),
  });
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), of: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('lineItem' as const), of: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('orphanLineItem' as const), customer, ms: msArbitrary }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('reject' as const),
        reason: fc.constantFrom(...REJECT_REASONS.filter((r) => allowHuge || r !== 'row_too_large')),
        variant: fc.nat({ max: 1000 }),
        customer,
        ms: msArbitrary,
        cents: fc.integer({ min: 1, max: 99_999 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'blank' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'allEmpty' as const }) },
  );
}

export interface ExportArbitraryOptions {
  /** Most generated rows per file. @default 40 */
  maxRows?: number;
  /** Allow fields of 1–70 KB (slower). @default true */
  hugeFields?: boolean;
}

/** A CSV export drawn from the model, with its expected outcome. */
export function modelExportArbitrary(options: ExportArbitraryOptions = {}): fc.Arbitrary<GeneratedExport> {
  const maxRows = options.maxRows ?? 40;
  const hugeFields = options.hugeFields ?? true;
  return fc
    .constantFrom<Encoding>('utf-8', 'utf-8-bom', 'windows-1252', 'utf-16le-bom')
    .chain((encoding) =>
      fc.record({
        encoding: fc.constant(encoding),
        delimiter: fc.constantFrom(',' as const, ';' as const, '\t' as const, '|' as const),
        configureDelimiter: fc.boolean(),
        quoteAll: fc.boolean(),
        lineEnd: fc.constantFrom('\n' as const, '\r\n' as const, '\r' as const),
        finalNewline: fc.boolean(),
        headers: fc.record({
          customer_id: fc.constantFrom(...HEADERS.customer_id),
          order_id: fc.constantFrom(...HEADERS.order_id),
          order_ts: fc.constantFrom(...HEADERS.order_ts),
          amount: fc.constantFrom(...HEADERS.amount),
          currency: fc.constantFrom(...HEADERS.currency),
        }),
        hasOrderColumn: fc.boolean(),
        hasCurrencyColumn: fc.boolean(),
        dateStyle: fc.constantFrom<DateStyle>('isoDate', 'isoInstant', 'isoLocal', 'compact', 'dutch', 'us'),
        decimal: fc.constantFrom('.' as const, ',' as const),
        grouped: fc.boolean(),
        negativeStyle: fc.constantFrom<NegativeStyle>('minus', 'trailing', 'parentheses'),
        configCurrency: fc.constantFrom('USD' as const, 'GBP' as const, null),
        maxRejectRatio: fc.constantFrom(null, 1, 0.5),
        dedupeExactRows: fc.boolean(),
        truncateLast: fc.boolean(),
        truncateAt: fc.nat(),
        gzip: fc.boolean(),
        rows: fc.array(rowArbitrary(encoding, hugeFields), { minLength: 0, maxLength: maxRows }),
      }),
    )
    .map(renderExport);
}

/** Files that must fail as a whole, cleanly: empty, blank, binary garbage, corrupt gzip, workbooks. */
export function brokenExportArbitrary(): fc.Arbitrary<GeneratedExport> {
  const failed = (fileName: string, bytes: Uint8Array, description: string): GeneratedExport => ({
    fileName,
    bytes: Buffer.from(bytes),
    sourceConfig: null,
    expected: { status: 'failed' },
    description,
  });
  return fc.oneof(
    fc.constant(failed('orders.csv', new Uint8Array(0), 'empty file')),
    fc
      .constantFrom('\n', '\r\n\r\n', '   \n\n', ';;;;\n;;;;\n')
      .map((text) => failed('orders.csv', Buffer.from(text), `only blank lines ${JSON.stringify(text)}`)),
    // Binary garbage with a NUL byte early on (never text, never a header with the required columns).
    fc
      .uint8Array({ minLength: 1, maxLength: 2000 })
      .map((bytes) =>
        failed(
          'orders.csv',
          Uint8Array.from([0x00, 0xff, 0x00, ...bytes]),
          `binary garbage, ${bytes.length + 3} bytes`,
        ),
      ),
    fc
      .uint8Array({ minLength: 0, maxLength: 200 })
      .map((bytes) => failed('orders.csv.gz', Uint8Array.from([0x1f, 0x8b, 0x08, ...bytes]), 'corrupt gzip')),
    fc
      .uint8Array({ minLength: 0, maxLength: 200 })
      .map((bytes) => failed('orders.xlsx', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...bytes]), 'zip/xlsx')),
    fc
      .string({ maxLength: 200 })
      .map((text) =>
        failed('orders.csv', Buffer.from(`name,email\n${text}`), 'CSV without the required columns'),
      ),
  );
}

/** Mostly model files, some broken ones. */
export function exportFileArbitrary(options: ExportArbitraryOptions = {}): fc.Arbitrary<GeneratedExport> {
  return fc.oneof(
    { weight: 9, arbitrary: modelExportArbitrary(options) },
    { weight: 1, arbitrary: brokenExportArbitrary() },
  );
}

/** `"1234.50"`/`"-0.07"` → cents, exactly (report totals are decimal strings). */
export function decimalToCents(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new Error(`not a decimal amount: ${JSON.stringify(text)}`);
  const cents = BigInt(match[2]!) * 100n + BigInt((match[3] ?? '0').padEnd(2, '0'));
  return match[1] === '-' ? -cents : cents;
}

/** A retailer's own export as people download it from a shop system or an R session. */
export interface RetailerExport {
  /** `"",Id,Date,Price` (row index, customer, order date, amount), one row per order. */
  csv: string;
  /** The source mapping the export needs (`config/sources/<source>.json`). */
  mapping: Record<string, unknown>;
  customers: number;
  orders: number;
  currency: string;
  firstDate: string;
  lastDate: string;
  /** Sum of the amounts, in cents. */
  amountCents: bigint;
}

export interface RetailerExportOptions {
  customers?: number;
  orders?: number;
  /** Inclusive date range of the orders (YYYY-MM-DD); the last day always has an order. */
  from?: string;
  to?: string;
  currency?: string;
  /** Prefix of the customer ids, so two exports can have distinct customers. @default '' */
  idPrefix?: string;
  seed?: number;
}

/**
 * A deterministic export shaped like a public retailer data set: `"",Id,Date,Price` (an R
 * `write.csv` row index, numeric customer ids, ISO dates, amounts with a decimal point), every
 * customer with at least one order, no currency column (the mapping says which).
 */
export function retailerExport(options: RetailerExportOptions = {}): RetailerExport {
  const customers = options.customers ?? 600;
  const orders = options.orders ?? 3187;
  const currency = options.currency ?? 'EUR';
  const from = Date.parse(`${options.from ?? '2005-01-01'}T00:00:00Z`);
  const to = Date.parse(`${options.to ?? '2010-12-09'}T00:00:00Z`);
  const day = 86_400_000;
  const days = Math.round((to - from) / day);
  const random = createRandom(options.seed ?? 20_101_209);
  const firstDay = Array.from({ length: customers }, () => Math.floor(random() * (days - 30)));
  const perCustomer = Array.from({ length: customers }, () => 1);
  for (let i = customers; i < orders; i++) perCustomer[Math.floor(random() * customers)]!++;
  const rows: { id: string; dayIndex: number; cents: number }[] = [];
  perCustomer.forEach((n, c) => {
    const id = `${options.idPrefix ?? ''}${10_000 + c * 7}`;
    rows.push({ id, dayIndex: firstDay[c]!, cents: 500 + Math.floor(random() * 19_500) });
    for (let k = 1; k < n; k++) {
      const dayIndex = firstDay[c]! + 1 + Math.floor(random() * (days - firstDay[c]!));
      rows.push({ id, dayIndex, cents: 500 + Math.floor(random() * 19_500) });
    }
  });
  rows.sort((a, b) => a.dayIndex - b.dayIndex || (a.id < b.id ? -1 : 1));
  rows[rows.length - 1]!.dayIndex = days;
  const iso = (index: number) => new Date(from + index * day).toISOString().slice(0, 10);
  const lines = ['"",Id,Date,Price'];
  let amountCents = 0n;
  rows.forEach((row, i) => {
    amountCents += BigInt(row.cents);
    lines.push(`"${i + 1}",${row.id},${iso(row.dayIndex)},${(row.cents / 100).toFixed(2)}`);
  });
  return {
    csv: `${lines.join('\n')}\n`,
    mapping: { columns: { customer_id: 'Id', order_ts: 'Date', amount: 'Price' }, currency },
    customers,
    orders,
    currency,
    firstDate: iso(rows[0]!.dayIndex),
    lastDate: iso(days),
    amountCents,
  };
}
