/**
 * Turns one row of raw export values into an accepted row or a reject with one reason a person
 * understands; cross-row rules are left to the caller.
 */
import { CUSTOMER_ID_RULE, customerIdProblem, isValidAsciiCustomerId } from '../customer-id.ts';
import {
  ORDER_ECONOMICS_COLUMNS,
  type OrderEconomics,
  type OrderEconomicsColumn,
  validateOrderEconomics,
} from '../economics/order-economics.ts';
import {
  type AmountDetail,
  type DecimalSeparator,
  isCurrencyCode,
  parseAmountCents,
  parsePlainAmountCentsAscii,
} from './amounts.ts';
import { type AsciiRow, asciiFields, asciiText } from './byte-csv-reader.ts';
import type { ColumnMapping } from './column-mapping.ts';
import type { AsciiParsedRow, ExportSink, RejectReasonCode } from './export-parser.ts';
import { MAX_FIELD_CHARS } from './limits.ts';
import type { OrderTimestampParser } from './order-timestamps.ts';
import { hashOrderValues, hashOrderValuesAscii, hashValues } from './row-hash.ts';

export { isCurrencyCode } from './amounts.ts';

/**
 * Where `value` holds a control character that rejects its row, or -1: C0 except tab, line feed and
 * carriage return (tabs are text, and line breaks are legitimate inside quoted multi-line values),
 * DEL and C1. A loop over the character codes: several times cheaper per row than a regular
 * expression with a Unicode property.
 */
export function forbiddenControlAt(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 ? c !== 9 && c !== 10 && c !== 13 : c >= 0x7f && c <= 0x9f) return i;
  }
  return -1;
}

/** True when a value holds a control character that rejects its row (see {@link forbiddenControlAt}). */
export const hasForbiddenControl = (value: string): boolean => forbiddenControlAt(value) >= 0;

const CONTROL_NAMES: Record<number, string> = { 0: 'NUL', 27: 'ESC', 127: 'DEL' };
const describeControl = (code: number) =>
  `U+${code.toString(16).toUpperCase().padStart(4, '0')}${CONTROL_NAMES[code] ? ` (${CONTROL_NAMES[code]})` : ''}`;

/** `trim()` allocates; most values need none, so look at the ends first. */
const trimmed = (value: string) =>
  value.length === 0 || (value.charCodeAt(0) > 32 && value.charCodeAt(value.length - 1) > 32)
    ? value
    : value.trim();

const quoteValue = (value: string) => `'${value.length > 80 ? `${value.slice(0, 80)}…` : value}'`;

export interface RowCleanerOptions {
  /** Column names in field order: the CSV header, or the JSON keys seen in the sniffing window. */
  headers: readonly string[];
  mapping: ColumnMapping;
  decimal: DecimalSeparator;
  timestamps: OrderTimestampParser;
  currency: string;
  /** Currency symbol → ISO code, for amounts and currency columns (`currencySymbolMap`). */
  currencySymbols: ReadonlyMap<string, string>;
  /** Takes rows of the byte fast path too (the parser adapts a sink that cannot). */
  sink: Required<ExportSink>;
  /** For messages about field counts; undefined for JSON Lines. */
  delimiter?: string;
}

const describeDelimiter = (d: string) => (d === '\t' ? 'tab' : `'${d}'`);

/**
 * Turns one row of raw values into a `ParsedRow` or a reject with a reason a person understands. Checks
 * run in a fixed order and the first failure is the reason (one reason per row). Cross-row rules (line
 * items, exact duplicates) are the caller's: this sees one row at a time.
 */
export class RowCleaner {
  rowsRead = 0;
  readonly #o: RowCleanerOptions;
  readonly #rawKeys: string[];
  readonly #customer: number;
  readonly #order: number;
  readonly #ts: number;
  readonly #amount: number;
  readonly #currency: number;
  readonly #channel: number;
  readonly #quantity: number;
  /** The mapped order-economics columns (field, index); empty for most exports. */
  readonly #economics: readonly (readonly [OrderEconomicsColumn, number])[];
  readonly #columnOf: (index: number) => string;
  readonly #mappedIndexes: number[];
  /** The one object {@link cleanAscii} hands the sink, refilled for every row. */
  readonly #asciiRow: AsciiParsedRow = {
    line: 0,
    bytes: new Uint8Array(0),
    customerStart: 0,
    customerEnd: 0,
    orderStart: 0,
    orderEnd: 0,
    generatedOrderId: null,
    orderTsMicros: 0,
    amountCents: null,
    currency: '',
    channelStart: 0,
    channelEnd: 0,
    quantity: null,
    rowHashHigh: 0,
    rowHashLow: 0,
  };
  /** Most files have one currency: skip the lookup when the value repeats. */
  #lastCurrencyText = '\u0000';
  #lastCurrency = '';
  /** Filled by the amount parser for every row: the amount's currency mark, or its problem. */
  readonly #amountDetail: AmountDetail = { currency: null, problem: '' };

  constructor(options: RowCleanerOptions) {
    this.#o = options;
    const { index } = options.mapping;
    this.#customer = index.customer_id;
    this.#order = index.order_id;
    this.#ts = index.order_ts;
    this.#amount = index.amount;
    this.#currency = index.currency;
    this.#channel = index.channel;
    this.#quantity = index.quantity;
    this.#economics = ORDER_ECONOMICS_COLUMNS.map(
      (field) => [field, options.mapping.economics[field]] as const,
    ).filter(([, i]) => i >= 0);
    this.#mappedIndexes = [
      ...Object.values(index).filter((i) => i >= 0),
      ...this.#economics.map(([, i]) => i),
    ];
    // Reject records are keyed by header; make empty or repeated headers unique so no value is lost.
    const seen = new Map<string, number>();
    this.#rawKeys = options.headers.map((header, i) => {
      const base = header.trim() === '' ? `column_${i + 1}` : header;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return n === 1 ? base : `${base}_${n}`;
    });
    this.#columnOf = (i) => `'${options.headers[i] ?? ''}'`;
  }

  /** A row the reader could not split into fields. */
  rejectUnreadable(line: number, raw: string, reason: RejectReasonCode, message: string): void {
    this.rowsRead++;
    this.#o.sink.reject({ line, raw, reason, message });
  }

  /**
   * Cleans a row given as fields in header order. `rowHash` defaults to a hash of the fields;
   * `raw` overrides the reject record's raw values (JSON Lines keeps the object's own keys).
   */
  clean(fields: string[], line: number, rowHash?: string, raw?: Record<string, string>): void {
    const headerCount = this.#rawKeys.length;
    const customerRaw = fields[this.#customer] ?? '';
    const customerId = customerRaw.trim();
    if (customerId === '' && isBlankRow(fields)) return; // blank lines and `;;;;` rows are not rows
    this.rowsRead++;

    if (fields.length !== headerCount && this.#o.delimiter !== undefined) {
      if (fields.length < headerCount || !isBlankFrom(fields, headerCount)) {
        const d = this.#o.delimiter;
        this.#reject(
          line,
          fields.join(d),
          'row_malformed',
          `line ${line} has ${fields.length} fields but the header has ${headerCount} (delimiter ${describeDelimiter(d)})`,
        );
        return;
      }
    }
    // A control character in any value rejects the row, wherever it sits: it must never reach clean
    // data, and a zero byte or escape in an export is damage, not content.
    for (let i = 0; i < fields.length; i++) {
      const at = forbiddenControlAt(fields[i]!);
      if (at >= 0) {
        this.#reject(
          line,
          this.#raw(fields, raw),
          'row_malformed',
          `control character ${describeControl(fields[i]!.charCodeAt(at))} in column ${this.#columnOf(i)} ` +
            `(character ${at + 1} of the value): a value may not contain control characters other than tab and line breaks`,
        );
        return;
      }
    }
    // Only mapped fields are limited: a long free-text column elsewhere is allowed within the row limit.
    for (const i of this.#mappedIndexes) {
      if ((fields[i]?.length ?? 0) > MAX_FIELD_CHARS) {
        this.#reject(
          line,
          this.#raw(fields, raw, true),
          'row_too_large',
          `field ${this.#columnOf(i)} is longer than ${MAX_FIELD_CHARS / 1024} KiB`,
        );
        return;
      }
    }

    if (customerId === '') {
      this.#reject(
        line,
        this.#raw(fields, raw),
        'customer_id_missing',
        `customer_id (column ${this.#columnOf(this.#customer)}) is empty`,
      );
      return;
    }
    const idProblem = customerIdProblem(customerId);
    if (idProblem !== null) {
      this.#reject(
        line,
        this.#raw(fields, raw),
        'customer_id_invalid',
        `customer_id: ${quoteValue(customerId)} ${idProblem} (${CUSTOMER_ID_RULE})`,
      );
      return;
    }

    const tsText = trimmed(fields[this.#ts] ?? '');
    if (tsText === '') {
      this.#reject(
        line,
        this.#raw(fields, raw),
        'order_ts_missing',
        `order_ts (column ${this.#columnOf(this.#ts)}) is empty`,
      );
      return;
    }
    const ts = this.#o.timestamps.parse(tsText);
    if (typeof ts !== 'number') {
      const format = this.#o.timestamps.format;
      const message =
        ts === 'not_a_date'
          ? `order_ts: ${quoteValue(tsText)} is not a valid date${format ? ` (format ${format.pattern})` : ''}`
          : ts === 'out_of_range'
            ? `order_ts: ${quoteValue(tsText)} is outside the supported years 1900–2199`
            : `order_ts: ${quoteValue(tsText)} is not a date in a recognised format (${this.#o.timestamps.describe()})`;
      this.#reject(line, this.#raw(fields, raw), 'order_ts_invalid', message);
      return;
    }

    const orderIdText = this.#order >= 0 ? trimmed(fields[this.#order] ?? '') : '';
    const amountText = trimmed(fields[this.#amount] ?? '');
    let cents: number | null = null;
    let amountCurrency: string | null = null;
    if (amountText === '') {
      if (orderIdText === '') {
        this.#reject(
          line,
          this.#raw(fields, raw),
          'amount_missing',
          `amount (column ${this.#columnOf(this.#amount)}) is empty and the row has no order_id, so it cannot be a line item of another row`,
        );
        return;
      }
    } else {
      const detail = this.#amountDetail;
      cents = parseAmountCents(amountText, this.#o.decimal, detail, this.#o.currencySymbols);
      if (Number.isNaN(cents)) {
        this.#reject(
          line,
          this.#raw(fields, raw),
          'amount_invalid',
          `amount: ${quoteValue(amountText)} is not a valid amount: ${detail.problem}`,
        );
        return;
      }
      amountCurrency = detail.currency;
    }

    let currency = this.#o.currency;
    let currencyText = '';
    if (this.#currency >= 0) {
      currencyText = trimmed(fields[this.#currency] ?? '');
      if (currencyText === this.#lastCurrencyText) {
        currency = this.#lastCurrency;
      } else if (currencyText !== '') {
        const code = this.#o.currencySymbols.get(currencyText) ?? currencyText.toUpperCase();
        if (!isCurrencyCode(code)) {
          this.#reject(
            line,
            this.#raw(fields, raw),
            'currency_invalid',
            `currency: ${quoteValue(currencyText)} is not an ISO 4217 currency code (such as EUR, USD)`,
          );
          return;
        }
        currency = code;
        this.#lastCurrencyText = currencyText;
        this.#lastCurrency = code;
      }
    }
    if (amountCurrency !== null) {
      // The amount's own mark names its currency; a currency column must agree with it.
      if (currencyText !== '' && currency !== amountCurrency) {
        this.#reject(
          line,
          this.#raw(fields, raw),
          'currency_mismatch',
          `amount ${quoteValue(amountText)} is in ${amountCurrency} but currency (column ${this.#columnOf(this.#currency)}) says ${currency}`,
        );
        return;
      }
      currency = amountCurrency;
    }

    let quantity: number | null = null;
    if (this.#quantity >= 0) {
      const quantityText = trimmed(fields[this.#quantity] ?? '');
      if (quantityText !== '') {
        const hundredths = parseAmountCents(quantityText, this.#o.decimal, this.#amountDetail);
        if (Number.isNaN(hundredths) || hundredths % 100 !== 0 || this.#amountDetail.currency !== null) {
          this.#reject(
            line,
            this.#raw(fields, raw),
            'quantity_invalid',
            `quantity: ${quoteValue(quantityText)} is not a whole number`,
          );
          return;
        }
        quantity = hundredths / 100;
      }
    }

    // Order economics (docs/economics.md): checked against the amount; the domain's reason codes
    // and messages become the row's reject.
    let economics: OrderEconomics | undefined;
    if (this.#economics.length > 0) {
      const values: Partial<Record<OrderEconomicsColumn, string>> = {};
      for (const [field, i] of this.#economics) values[field] = fields[i] ?? '';
      const checked = validateOrderEconomics(values, cents, this.#o.decimal);
      if (!checked.ok) {
        this.#reject(line, this.#raw(fields, raw), checked.reason, checked.message);
        return;
      }
      economics = checked.value;
    }

    const channelText = this.#channel >= 0 ? trimmed(fields[this.#channel] ?? '') : '';
    const hash = rowHash ?? hashValues(fields, Math.min(fields.length, headerCount));
    const orderIdGenerated = orderIdText === '';
    this.#o.sink.accept({
      line,
      customerId,
      // Generated ids hash the parsed values, so a re-export with other formatting or column order
      // gives the same order id.
      orderId: orderIdGenerated
        ? `gen-${hashOrderValues(customerId, currency, channelText, ts, cents, quantity)}`
        : orderIdText,
      orderIdGenerated,
      orderTsMicros: ts,
      amountCents: cents,
      currency,
      channel: channelText === '' ? null : channelText,
      quantity,
      rowHash: hash,
      ...(economics ? { economics } : {}),
    });
  }

  /**
   * {@link clean} for a row the byte reader read (see `AsciiRowHandler.asciiRow`). Rows whose values
   * are all in their plain form — no surrounding spaces, an ISO date or one the parser reads from its
   * text, a valid amount, a known currency — are accepted straight from the bytes; any other row goes
   * to {@link clean} as text, which decides (and words the reject). So this never accepts a row
   * `clean` would not, nor with other values; tests compare the two on generated files. A file with
   * order-economics columns is read by `clean` throughout: those values need the full amount parser
   * and the combination rules, and such exports are rare enough not to need the fast path.
   */
  cleanAscii(row: AsciiRow): void {
    if (!this.#acceptAscii(row)) this.clean(asciiFields(row), row.line);
  }

  /** Accepts the row when every value is in its plain form; false (nothing done) otherwise. */
  #acceptAscii({ bytes, starts, ends, count, line, hashHigh, hashLow }: AsciiRow): boolean {
    if (this.#economics.length > 0) return false;
    if (count !== this.#rawKeys.length) return false;
    if (ends[count - 1]! - starts[0]! > MAX_FIELD_CHARS) {
      for (const i of this.#mappedIndexes) if (ends[i]! - starts[i]! > MAX_FIELD_CHARS) return false;
    }
    const customerStart = starts[this.#customer]!;
    const customerEnd = ends[this.#customer]!;
    if (!isPlainValue(bytes, customerStart, customerEnd)) return false;
    if (!isValidAsciiCustomerId(bytes, customerStart, customerEnd)) return false;

    const tsStart = starts[this.#ts]!;
    const tsEnd = ends[this.#ts]!;
    if (!isPlainValue(bytes, tsStart, tsEnd)) return false;
    let ts = this.#o.timestamps.parseAscii(bytes, tsStart, tsEnd);
    if (Number.isNaN(ts)) {
      const parsed = this.#o.timestamps.parse(asciiText(bytes, tsStart, tsEnd));
      if (typeof parsed !== 'number') return false;
      ts = parsed;
    }

    let orderStart = 0;
    let orderEnd = 0;
    if (this.#order >= 0) {
      orderStart = starts[this.#order]!;
      orderEnd = ends[this.#order]!;
      if (orderEnd > orderStart && !isPlainValue(bytes, orderStart, orderEnd)) return false;
    }

    let cents: number | null = null;
    const amountStart = this.#amount >= 0 ? starts[this.#amount]! : 0;
    const amountEnd = this.#amount >= 0 ? ends[this.#amount]! : 0;
    if (amountEnd === amountStart) {
      if (orderEnd === orderStart) return false;
    } else {
      if (!isPlainValue(bytes, amountStart, amountEnd)) return false;
      cents = parsePlainAmountCentsAscii(bytes, amountStart, amountEnd, this.#o.decimal);
      if (cents < 0) {
        // Another shape (`1,234.56`, `-12.50`): the general parser; an amount with a currency mark
        // goes to the text cleaner, which checks the mark against the currency column.
        const detail = this.#amountDetail;
        const text = asciiText(bytes, amountStart, amountEnd);
        cents = parseAmountCents(text, this.#o.decimal, detail, this.#o.currencySymbols);
        if (Number.isNaN(cents) || detail.currency !== null) return false;
      }
    }

    let currency = this.#o.currency;
    if (this.#currency >= 0) {
      const start = starts[this.#currency]!;
      const end = ends[this.#currency]!;
      if (end > start) {
        if (!isPlainValue(bytes, start, end)) return false;
        if (equalsAscii(bytes, start, end, this.#lastCurrencyText)) currency = this.#lastCurrency;
        else {
          const text = asciiText(bytes, start, end);
          const code = this.#o.currencySymbols.get(text) ?? text.toUpperCase();
          if (!isCurrencyCode(code)) return false;
          currency = code;
          this.#lastCurrencyText = text;
          this.#lastCurrency = code;
        }
      }
    }

    let quantity: number | null = null;
    if (this.#quantity >= 0) {
      const start = starts[this.#quantity]!;
      const end = ends[this.#quantity]!;
      if (end > start) {
        if (!isPlainValue(bytes, start, end)) return false;
        const hundredths = parseAmountCents(
          asciiText(bytes, start, end),
          this.#o.decimal,
          this.#amountDetail,
        );
        if (Number.isNaN(hundredths) || hundredths % 100 !== 0 || this.#amountDetail.currency !== null)
          return false;
        quantity = hundredths / 100;
      }
    }

    let channelStart = 0;
    let channelEnd = 0;
    if (this.#channel >= 0) {
      channelStart = starts[this.#channel]!;
      channelEnd = ends[this.#channel]!;
      if (channelEnd > channelStart && !isPlainValue(bytes, channelStart, channelEnd)) return false;
    }

    this.rowsRead++;
    const row = this.#asciiRow;
    row.line = line;
    row.bytes = bytes;
    row.customerStart = customerStart;
    row.customerEnd = customerEnd;
    row.orderStart = orderStart;
    row.orderEnd = orderEnd;
    // As in clean: generated ids hash the parsed values.
    row.generatedOrderId =
      orderEnd === orderStart
        ? `gen-${hashOrderValuesAscii(bytes, customerStart, customerEnd, currency, channelStart, channelEnd, ts, cents, quantity)}`
        : null;
    row.orderTsMicros = ts;
    row.amountCents = cents;
    row.currency = currency;
    row.channelStart = channelStart;
    row.channelEnd = channelEnd;
    row.quantity = quantity;
    row.rowHashHigh = hashHigh;
    row.rowHashLow = hashLow;
    this.#o.sink.acceptAscii(row);
    return true;
  }

  #reject(
    line: number,
    raw: Record<string, string> | string,
    reason: RejectReasonCode,
    message: string,
  ): void {
    this.#o.sink.reject({ line, raw, reason, message });
  }

  #raw(
    fields: string[],
    raw: Record<string, string> | undefined,
    clipValues = false,
  ): Record<string, string> {
    if (raw) return raw;
    const record: Record<string, string> = {};
    for (let i = 0; i < fields.length; i++) {
      const key = this.#rawKeys[i] ?? `column_${i + 1}`;
      const value = fields[i]!;
      record[key] =
        clipValues && value.length > 200 ? `${value.slice(0, 200)}… (${value.length} characters)` : value;
    }
    return record;
  }
}

/**
 * A non-empty value without surrounding spaces: `clean` reads it as it is. (The byte reader's values
 * hold no control bytes, so a space is the only thing `trim` could remove.)
 */
function isPlainValue(bytes: Uint8Array, start: number, end: number): boolean {
  return end > start && bytes[start]! > 32 && bytes[end - 1]! > 32;
}

function equalsAscii(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

function isBlankRow(fields: readonly string[]): boolean {
  return isBlankFrom(fields, 0);
}

function isBlankFrom(fields: readonly string[], from: number): boolean {
  for (let i = from; i < fields.length; i++) if (fields[i]!.trim() !== '') return false;
  return true;
}
