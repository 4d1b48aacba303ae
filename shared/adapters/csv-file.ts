/**
 * File I/O for the analyst CLI: reads transaction logs (CSV exports with the ingest's header aliases
 * and source config, or the CDNOW whitespace layouts) as a stream of records, reads RFM summary CSVs
 * in the column names of the lifetimes or BTYD libraries, and writes summaries. Every input error
 * names file, line and field.
 */

import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { CvmError } from '../domain/errors.ts';
import { parseAmountCents, sniffDecimalSeparator } from '../domain/ingest/amounts.ts';
import { HEADER_ALIASES, mapColumns, normalizeHeader } from '../domain/ingest/column-mapping.ts';
import { compileDateFormat } from '../domain/ingest/date-format.ts';
import { sniffDelimiter } from '../domain/ingest/delimiter-sniffing.ts';
import { createOrderTimestampParser, sniffDateFormat } from '../domain/ingest/order-timestamps.ts';
import type { SourceConfig } from '../domain/ingest/source-config.ts';
import type { RfmSummary, TransactionRecord } from '../domain/rfm-summary.ts';

/**
 * `cdnow`: whitespace separated without header, either the 5-column sample layout (master_id
 * customer_id yyyymmdd quantity amount) or the 4-column layout of the full CDNOW_master.txt
 * (customer_id yyyymmdd quantity amount); the first line decides which.
 */
export type TransactionFormat = 'csv' | 'cdnow';

/** A user-caused input error; the message starts with `file:line`. */
export class InputFileError extends CvmError {
  override readonly name = 'InputFileError';
  readonly code = 'input_invalid';
}

/** Lines of a file, read in chunks so large logs are not held in memory twice. Handles CRLF. */
export function* readLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    const decoder = new TextDecoder('utf-8');
    let rest = '';
    for (;;) {
      const bytes = readSync(fd, buffer, 0, buffer.length, null);
      if (bytes === 0) break;
      const text = rest + decoder.decode(buffer.subarray(0, bytes), { stream: true });
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    rest += decoder.decode();
    if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  } finally {
    closeSync(fd);
  }
}

/** Splits one CSV line; supports double-quoted fields with "" escapes. */
export function splitCsvLine(line: string, delimiter = ','): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

const NUMERIC_TOKEN = /^-?\d+(\.\d+)?$/;

/** The first non-empty line decides: 4 or 5 whitespace-separated numeric tokens is CDNOW, else CSV. */
export function sniffTransactionFormat(path: string): TransactionFormat {
  for (const line of readLines(path)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const tokens = trimmed.split(/\s+/);
    if (
      !trimmed.includes(',') &&
      (tokens.length === 4 || tokens.length === 5) &&
      tokens.every((t) => NUMERIC_TOKEN.test(t))
    ) {
      return 'cdnow';
    }
    return 'csv';
  }
  return 'csv';
}

const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const ISO_DATE_PREFIX = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date field as `YYYY-MM-DD`: accepts `YYYY-MM-DD`, `YYYYMMDD`, or an ISO timestamp with a zone
 * (converted to its UTC calendar date, the day rule of the summary).
 */
export function normalizeDateField(value: string): string | null {
  const v = value.trim();
  if (ISO_DATE_PREFIX.test(v)) return v;
  const compact = COMPACT_DATE.exec(v);
  if (compact) return `${compact[1]}-${compact[2]}-${compact[3]}`;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    const ms = Date.parse(v.replace(' ', 'T'));
    if (Number.isFinite(ms)) return new Date(ms).toISOString().slice(0, 10);
  }
  return null;
}

function parseAmount(value: string): number | null {
  const v = value.trim();
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(v)) return null;
  return Number(v);
}

/** Rows read ahead to sniff the delimiter, the decimal separator and the date format, as the ingest does. */
const SNIFF_ROWS = 200;

/** How a CSV export is read: column indexes, delimiter and the parsers of dates and amounts. */
interface CsvLayout {
  delimiter: string;
  id: number;
  date: number;
  amount: number;
  parseDate(value: string): string | null;
  describeDates: string;
  parseAmount(value: string): number | null;
}

/** The first lines of a file: the header and up to SNIFF_ROWS non-empty rows after it. */
function sampleLines(path: string): { header: string; headerLine: number; rows: string[] } | null {
  let lineNumber = 0;
  let header: string | null = null;
  let headerLine = 0;
  const rows: string[] = [];
  for (const line of readLines(path)) {
    lineNumber++;
    if (line.trim() === '') continue;
    if (header === null) {
      header = line;
      headerLine = lineNumber;
    } else rows.push(line);
    if (rows.length >= SNIFF_ROWS) break;
  }
  return header === null ? null : { header, headerLine, rows };
}

/**
 * Reads the header with the ingest's column mapping (configured names, then aliases) and decides
 * delimiter, decimal separator and date format: configured, else sniffed from the first rows.
 * A header `id` still names the customer, as before the aliases (the ingest does not take it
 * because an order export's `id` is usually the order).
 */
function csvLayout(path: string, config: SourceConfig): CsvLayout {
  const sample = sampleLines(path);
  if (sample === null) throw new InputFileError(`${path}: the file is empty (expected a header line)`);
  // The header line of a UTF-8 export may start with a byte order mark.
  const headerText = sample.header.replace(/^\uFEFF/, '');
  const delimiter = config.delimiter ?? sniffDelimiter([headerText, ...sample.rows].join('\n'));
  const headers = splitCsvLine(headerText, delimiter).map((h) => h.trim());
  let configured = config.columns;
  if (configured?.customer_id === undefined) {
    const aliases = new Set(HEADER_ALIASES.customer_id);
    const normalized = headers.map(normalizeHeader);
    const plainId = normalized.indexOf('id');
    if (plainId >= 0 && !normalized.some((h) => aliases.has(h))) {
      configured = { ...configured, customer_id: headers[plainId]! };
    }
  }
  const { index } = mapColumns(headers, configured, path);
  const values = (column: number) =>
    sample.rows.map((row) => splitCsvLine(row, delimiter)[column]?.trim() ?? '').filter((v) => v !== '');

  const sniffedDecimal = sniffDecimalSeparator(values(index.amount), config.decimal);
  const decimal = sniffedDecimal.decimal ?? '.';
  const format = config.dateFormat
    ? compileDateFormat(config.dateFormat)
    : (() => {
        const sniffed = sniffDateFormat(values(index.order_ts));
        return 'format' in sniffed ? sniffed.format : null;
      })();
  const timestamps = createOrderTimestampParser(format, config.timezone ?? 'UTC');
  const viaParser = (value: string): string | null => {
    const micros = timestamps.parse(value.trim());
    return typeof micros === 'number' ? new Date(Math.floor(micros / 1000)).toISOString().slice(0, 10) : null;
  };
  return {
    delimiter,
    id: index.customer_id,
    date: index.order_ts,
    amount: index.amount,
    // A configured time zone applies to every date; otherwise plain dates are taken as written.
    parseDate: config.timezone ? viaParser : (value) => normalizeDateField(value) ?? viaParser(value),
    describeDates: timestamps.describe(),
    parseAmount: (value) => {
      if (decimal === '.') {
        const plain = parseAmount(value);
        if (plain !== null) return plain;
      } else if (/^\s*[-+]?\d+(,\d+)?\s*$/.test(value)) {
        return Number(value.trim().replace(',', '.'));
      }
      const cents = parseAmountCents(value, decimal);
      return Number.isNaN(cents) ? null : cents / 100;
    },
  };
}

/** Options of {@link readTransactions}. */
export interface TransactionReadOptions {
  /** The ingest's source config (`cvm ingest --config`): columns, delimiter, decimal, dateFormat, timezone. */
  config?: SourceConfig;
}

/**
 * Streams the transactions of a file; throws InputFileError at the first malformed line, and the
 * ingest's IngestFileError (`columns_missing`) when the header has no column for a required field.
 */
export function* readTransactions(
  path: string,
  format: TransactionFormat | 'auto' = 'auto',
  options: TransactionReadOptions = {},
): Generator<TransactionRecord> {
  const resolved = format === 'auto' ? sniffTransactionFormat(path) : format;
  const layout = resolved === 'csv' ? csvLayout(path, options.config ?? {}) : null;
  let lineNumber = 0;
  let headerSeen = false;
  let cdnowWidth = 0;
  for (const line of readLines(path)) {
    lineNumber++;
    if (line.trim() === '') continue;
    const where = `${path}:${lineNumber}`;
    let customerId: string;
    let rawDate: string;
    let rawAmount: string;
    let date: string | null;
    let amount: number | null;
    if (layout === null) {
      const tokens = line.trim().split(/\s+/);
      cdnowWidth ||= tokens.length === 4 ? 4 : 5;
      if (tokens.length !== cdnowWidth) {
        const columns =
          cdnowWidth === 4
            ? 'customer_id yyyymmdd quantity amount'
            : 'master_id customer_id yyyymmdd quantity amount';
        throw new InputFileError(
          `${where}: expected ${cdnowWidth} whitespace-separated columns (${columns}), got ${tokens.length}`,
        );
      }
      [customerId, rawDate, , rawAmount] = (cdnowWidth === 4 ? tokens : tokens.slice(1)) as [
        string,
        string,
        string,
        string,
      ];
      date = normalizeDateField(rawDate);
      amount = parseAmount(rawAmount);
    } else {
      if (!headerSeen) {
        headerSeen = true;
        continue;
      }
      const fields = splitCsvLine(line, layout.delimiter);
      const get = (index: number, name: string): string => {
        const value = fields[index];
        if (value === undefined)
          throw new InputFileError(`${where}: field '${name}' is missing (line has ${fields.length} fields)`);
        return value;
      };
      customerId = get(layout.id, 'customer_id').trim();
      rawDate = get(layout.date, 'date');
      rawAmount = get(layout.amount, 'amount');
      date = rawDate.trim() === '' ? null : layout.parseDate(rawDate);
      amount = layout.parseAmount(rawAmount);
    }
    if (customerId === '') throw new InputFileError(`${where}: field 'customer_id' is empty`);
    if (date === null) {
      const accepted = layout ? layout.describeDates : 'YYYY-MM-DD, YYYYMMDD or an ISO timestamp';
      throw new InputFileError(`${where}: field 'date': expected ${accepted}, got '${rawDate}'`);
    }
    if (amount === null)
      throw new InputFileError(`${where}: field 'amount': expected a number, got '${rawAmount}'`);
    yield { customerId, date, amount };
  }
}

/** Summary columns read from a CSV, in the data's own unit. */
export interface SummaryFile {
  ids: string[] | null;
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** Mean repeat purchase value, when the file has `monetary_value` or `zbar`. */
  monetaryValue: Float64Array | null;
  /** Which naming the file used. */
  naming: 'lifetimes' | 'btyd';
}

/** Customer ids as UTF-8 bytes: id k is bytes[k === 0 ? 0 : ends[k − 1], ends[k]). */
export interface IdBytes {
  bytes: Uint8Array;
  ends: Int32Array;
}

/** A run of consecutive summary rows (`length` of them; the columns may be longer scratch arrays). */
export interface SummaryChunk extends SummaryFile {
  length: number;
  /** With `ids: 'bytes'`: the ids undecoded (and `ids` is null), for writers that copy them through. */
  idBytes: IdBytes | null;
}

export interface SummaryReadOptions {
  /** Rows per chunk. Default 65,536. */
  chunkRows?: number;
  /**
   * Read the id column: true as strings (default), 'bytes' as UTF-8 bytes (no string per row, for
   * streaming them into an output file), false not at all (fitting does not need them).
   */
  ids?: boolean | 'bytes';
}

interface SummaryHeader {
  id: number;
  x: number;
  tx: number;
  T: number;
  m: number;
  naming: SummaryFile['naming'];
  names: { x: string; tx: string; m: string };
  /** Number of header fields; a row needs at least the highest used index + 1. */
  lastUsed: number;
}

function parseSummaryHeader(line: string, where: string): SummaryHeader {
  const fields = splitCsvLine(line).map((f) => f.trim());
  const find = (...names: string[]) => fields.findIndex((f) => names.includes(f));
  const lifetimes = find('frequency') >= 0;
  const xi = lifetimes ? find('frequency') : find('x');
  const txi = lifetimes ? find('recency') : find('t_x');
  const Ti = find('T');
  if (xi < 0 || txi < 0 || Ti < 0) {
    throw new InputFileError(
      `${where}: the header must have columns frequency, recency, T (lifetimes) or x, t_x, T (BTYD); got: ${line}`,
    );
  }
  const m = lifetimes ? find('monetary_value') : find('zbar');
  let id = find('ID', 'id', 'customer_id');
  if (id < 0 && ![xi, txi, Ti, m].includes(0)) id = 0;
  return {
    id,
    x: xi,
    tx: txi,
    T: Ti,
    m,
    naming: lifetimes ? 'lifetimes' : 'btyd',
    names: lifetimes
      ? { x: 'frequency', tx: 'recency', m: 'monetary_value' }
      : { x: 'x', tx: 't_x', m: 'zbar' },
    lastUsed: Math.max(xi, txi, Ti, m, id),
  };
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A plain decimal `[-]digits[.digits]` of at most 15 significant digits, parsed from bytes; NaN for
 * anything else (the caller then parses the text). m / 10^k with both exact doubles is correctly
 * rounded, so the result is exactly what Number(text) gives.
 */
function parsePlainDecimal(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  let negative = false;
  if (i < to && bytes[i] === 45) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < to; i++) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      if (mantissa > 0 || decimals >= 0) digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) decimals = 0;
    else return Number.NaN;
  }
  if (digits > 15 || decimals > 22 || i === from || (decimals <= 0 && decimals !== -1)) return Number.NaN;
  if (to - from === (negative ? 1 : 0)) return Number.NaN;
  const value = decimals > 0 ? mantissa / POWERS_OF_TEN[decimals]! : mantissa;
  return negative ? -value : value;
}

/**
 * Streams an RFM summary in chunks of columns: lifetimes names (`frequency, recency, T[,
 * monetary_value]`) or BTYD names (`x, t_x, T[, zbar]`); the id column (`ID`, `customer_id`, or a
 * first column that is none of the above) is optional. Checks x is a whole number ≥ 0 and
 * 0 ≤ recency ≤ T. Works on bytes: only quoted lines are decoded to text and split.
 */
export function* readSummaryChunks(path: string, options: SummaryReadOptions = {}): Generator<SummaryChunk> {
  const chunkRows = options.chunkRows ?? 65_536;
  const wantIds = options.ids ?? true;
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.alloc(1 << 20);
    let filled = 0;
    let atEnd = false;
    let header: SummaryHeader | null = null;
    let lineNumber = 0;
    const bounds = new Int32Array(64);
    let chunk: SummaryChunk | null = null;
    // Per-line state read by `number`, which is created once: a closure per line costs more than
    // the parsing itself.
    let strings: string[] | null = null;
    let fieldCount = 0;
    const where = () => `${path}:${lineNumber}`;
    const number = (index: number, name: string): number => {
      let raw: string;
      if (strings) raw = strings[index] ?? '';
      else {
        if (index >= fieldCount) throw new InputFileError(`${where()}: field '${name}' is missing`);
        const fast = parsePlainDecimal(buffer, bounds[2 * index]!, bounds[2 * index + 1]!);
        if (!Number.isNaN(fast)) return fast;
        raw = buffer.toString('utf8', bounds[2 * index]!, bounds[2 * index + 1]!).trim();
      }
      if (raw === '') throw new InputFileError(`${where()}: field '${name}' is missing`);
      const value = Number(raw);
      if (!Number.isFinite(value))
        throw new InputFileError(`${where()}: field '${name}': expected a number, got '${raw}'`);
      return value;
    };
    const newChunk = (h: SummaryHeader): SummaryChunk => ({
      ids: h.id >= 0 && wantIds === true ? [] : null,
      idBytes:
        h.id >= 0 && wantIds === 'bytes'
          ? { bytes: new Uint8Array(chunkRows * 16), ends: new Int32Array(chunkRows) }
          : null,
      x: new Float64Array(chunkRows),
      tx: new Float64Array(chunkRows),
      T: new Float64Array(chunkRows),
      monetaryValue: h.m >= 0 ? new Float64Array(chunkRows) : null,
      naming: h.naming,
      length: 0,
    });
    for (;;) {
      if (!atEnd) {
        if (filled === buffer.length) {
          const bigger = Buffer.alloc(buffer.length * 2);
          buffer.copy(bigger, 0, 0, filled);
          buffer = bigger;
        }
        const bytes = readSync(fd, buffer, filled, buffer.length - filled, null);
        if (bytes === 0) atEnd = true;
        filled += bytes;
      }
      let lineStart = 0;
      for (;;) {
        // One pass up to the newline: field boundaries (field k is buffer[bounds[2k], bounds[2k+1])),
        // quotes, and whether the line is blank. No native call per line: this is the hot loop.
        let quoted = false;
        let blank = true;
        fieldCount = 0;
        let from = lineStart;
        let lineEnd = lineStart;
        while (lineEnd < filled) {
          const byte = buffer[lineEnd]!;
          if (byte === 10) break;
          if (byte === 44) {
            if (fieldCount < 32) {
              bounds[2 * fieldCount] = from;
              bounds[2 * fieldCount + 1] = lineEnd;
            }
            fieldCount++;
            from = lineEnd + 1;
            blank = false;
          } else if (byte === 34) quoted = true;
          else if (blank && byte !== 32 && byte !== 9 && byte !== 13) blank = false;
          lineEnd++;
        }
        // An unfinished line at the end of the buffer waits for the next read.
        if (lineEnd === filled && !atEnd) break;
        if (lineStart >= filled) break;
        const next = lineEnd + 1;
        let end = lineEnd;
        if (end > lineStart && buffer[end - 1] === 13) end--;
        lineNumber++;
        if (fieldCount < 32) {
          bounds[2 * fieldCount] = from;
          bounds[2 * fieldCount + 1] = end;
        }
        fieldCount++;
        if (blank) {
          lineStart = next;
          continue;
        }
        if (header === null) {
          header = parseSummaryHeader(buffer.toString('utf8', lineStart, end), where());
          chunk = newChunk(header);
          lineStart = next;
          continue;
        }
        const h = header;
        const c = chunk!;
        strings = null;
        if (quoted) {
          strings = splitCsvLine(buffer.toString('utf8', lineStart, end)).map((f) => f.trim());
          fieldCount = strings.length;
        }
        if (!strings && h.lastUsed >= 32) {
          strings = splitCsvLine(buffer.toString('utf8', lineStart, end)).map((f) => f.trim());
        }
        const names = h.names;
        const xv = number(h.x, names.x);
        if (!Number.isInteger(xv) || xv < 0) {
          throw new InputFileError(
            `${where()}: field '${names.x}': expected a whole number ≥ 0 (repeat purchases), got ${xv}`,
          );
        }
        const txv = number(h.tx, names.tx);
        const Tv = number(h.T, 'T');
        if (Tv < 0) throw new InputFileError(`${where()}: field 'T': must be ≥ 0, got ${Tv}`);
        if (txv < 0 || txv > Tv) {
          throw new InputFileError(
            `${where()}: field '${names.tx}': must be between 0 and T (${Tv}), got ${txv}; are recency and T in the same unit?`,
          );
        }
        if (xv === 0 && txv !== 0) {
          throw new InputFileError(
            `${where()}: field '${names.tx}': must be 0 when ${names.x} is 0, got ${txv}`,
          );
        }
        const row = c.length;
        c.x[row] = xv;
        c.tx[row] = txv;
        c.T[row] = Tv;
        if (c.monetaryValue) c.monetaryValue[row] = number(h.m, names.m);
        if (c.ids) {
          c.ids.push(
            strings
              ? (strings[h.id] ?? '')
              : h.id < fieldCount
                ? buffer.toString('utf8', bounds[2 * h.id]!, bounds[2 * h.id + 1]!).trim()
                : '',
          );
        }
        if (c.idBytes) {
          const store = c.idBytes;
          let at = row === 0 ? 0 : store.ends[row - 1]!;
          let from = 0;
          let to = 0;
          let source: Uint8Array = buffer;
          if (strings) {
            source = Buffer.from(strings[h.id] ?? '', 'utf8');
            to = source.length;
          } else if (h.id < fieldCount) {
            from = bounds[2 * h.id]!;
            to = bounds[2 * h.id + 1]!;
            while (from < to && (buffer[from] === 32 || buffer[from] === 9)) from++;
            while (to > from && (buffer[to - 1] === 32 || buffer[to - 1] === 9)) to--;
          }
          if (at + (to - from) > store.bytes.length) {
            const bigger = new Uint8Array(2 * (at + (to - from)));
            bigger.set(store.bytes.subarray(0, at));
            store.bytes = bigger;
          }
          const bytes = store.bytes;
          for (let k = from; k < to; k++) bytes[at++] = source[k]!;
          store.ends[row] = at;
        }
        c.length = row + 1;
        lineStart = next;
        if (c.length === chunkRows) {
          yield c;
          chunk = newChunk(h);
        }
      }
      if (atEnd && lineStart >= filled) break;
      // Keep the unfinished line at the start of the buffer and read on.
      buffer.copy(buffer, 0, lineStart, filled);
      filled -= lineStart;
    }
    if (header === null) throw new InputFileError(`${path}: the file is empty (expected a header line)`);
    if (chunk && chunk.length > 0) yield chunk;
  } finally {
    closeSync(fd);
  }
}

/** The header of a summary file: which naming it uses and whether it has ids and spend. */
export function readSummaryHeader(path: string): {
  naming: SummaryFile['naming'];
  hasIds: boolean;
  hasSpend: boolean;
} {
  let lineNumber = 0;
  for (const line of readLines(path)) {
    lineNumber++;
    if (line.trim() === '') continue;
    const h = parseSummaryHeader(line, `${path}:${lineNumber}`);
    return { naming: h.naming, hasIds: h.id >= 0, hasSpend: h.m >= 0 };
  }
  throw new InputFileError(`${path}: the file is empty (expected a header line)`);
}

/**
 * Reads a whole RFM summary into columns (see readSummaryChunks for the accepted columns and the
 * checks). `ids: false` skips the id column, which fitting does not need.
 */
export function readSummaryFile(path: string, options: { ids?: boolean } = {}): SummaryFile {
  const chunks: SummaryChunk[] = [];
  let rows = 0;
  for (const chunk of readSummaryChunks(path, { chunkRows: 1 << 18, ids: options.ids !== false })) {
    chunks.push(chunk);
    rows += chunk.length;
  }
  const first = chunks[0];
  if (!first) {
    // Header only: the reader saw the header (it throws on an empty file) but no rows.
    const header = readSummaryHeader(path);
    return {
      ids: header.hasIds && (options.ids ?? true) ? [] : null,
      x: new Float64Array(0),
      tx: new Float64Array(0),
      T: new Float64Array(0),
      monetaryValue: header.hasSpend ? new Float64Array(0) : null,
      naming: header.naming,
    };
  }
  const join = (pick: (c: SummaryChunk) => Float64Array): Float64Array => {
    const out = new Float64Array(rows);
    let at = 0;
    for (const c of chunks) {
      out.set(pick(c).subarray(0, c.length), at);
      at += c.length;
    }
    return out;
  };
  return {
    ids: first.ids ? chunks.flatMap((c) => c.ids!) : null,
    x: join((c) => c.x),
    tx: join((c) => c.tx),
    T: join((c) => c.T),
    monetaryValue: first.monetaryValue ? join((c) => c.monetaryValue!) : null,
    naming: first.naming,
  };
}

/** Shortest decimal that round-trips at 6 decimals (no trailing zeros). */
function formatNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV text of a summary, in lifetimes column names (plus holdout columns after a split). */
export function summaryToCsv(summary: RfmSummary): string {
  const header = ['customer_id', 'frequency', 'recency', 'T', 'monetary_value'];
  if (summary.holdout) header.push('frequency_holdout', 'monetary_value_holdout', 'duration_holdout');
  const lines = [header.join(',')];
  for (let i = 0; i < summary.customerIds.length; i++) {
    const row = [
      csvField(summary.customerIds[i]!),
      formatNumber(summary.frequency[i]!),
      formatNumber(summary.recency[i]!),
      formatNumber(summary.T[i]!),
      formatNumber(summary.monetaryValue[i]!),
    ];
    if (summary.holdout) {
      row.push(
        formatNumber(summary.holdout.frequency[i]!),
        formatNumber(summary.holdout.monetaryValue[i]!),
        formatNumber(summary.holdout.duration),
      );
    }
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function writeTextFile(path: string, text: string): void {
  writeFileSync(path, text);
}
