/**
 * The push parser of one export file: sniffs encoding, format, delimiter, columns, decimal and date
 * style, then streams each row to a sink as accepted or rejected.
 */

import type { OrderEconomics } from '../economics/order-economics.ts';
import { currencySymbolMap, type DecimalSeparator } from './amounts.ts';
import { asciiFields, asciiText, ByteCsvReader } from './byte-csv-reader.ts';
import { type ColumnMapping, mapColumns } from './column-mapping.ts';
import { CsvReader, clip, LineReader, type RowHandler } from './csv-reader.ts';
import { sniffDelimiter } from './delimiter-sniffing.ts';
import { IngestFileError } from './ingest-file-error.ts';
import { MAX_ROW_CHARS, SNIFF_WINDOW_BYTES } from './limits.ts';
import { createOrderTimestampParser } from './order-timestamps.ts';
import { hasForbiddenControl, RowCleaner } from './row-cleaner.ts';
import { hashValues, rowHashText } from './row-hash.ts';
import type { SourceConfig } from './source-config.ts';
import {
  detectByteOrderMark,
  detectUtf16,
  isAsciiCompatible,
  RowDecoder,
  StreamingTextDecoder,
} from './text-decoding.ts';
import { chooseValueFormats } from './value-formats.ts';

export { IngestFileError } from './ingest-file-error.ts';
export type { SourceConfig } from './source-config.ts';

export type RejectReasonCode =
  | 'customer_id_missing'
  | 'order_ts_missing'
  | 'order_ts_invalid'
  | 'amount_missing'
  | 'amount_invalid'
  | 'currency_invalid'
  /** the amount's currency mark (`$12.00`) contradicts the currency column */
  | 'currency_mismatch'
  /** breaks the customer id rule (`shared/domain/customer-id.ts`) */
  | 'customer_id_invalid'
  | 'quantity_invalid'
  /** wrong field count, bad JSON, unterminated quote, a control character in a value */
  | 'row_malformed'
  /** a field/row over the size limit */
  | 'row_too_large'
  | (string & {});

/** An accepted row, before cross-row checks (line items, exact duplicates). */
export interface ParsedRow {
  /** 1-based physical line of the row's first line (the header is line 1). */
  line: number;
  customerId: string;
  /** From the export, or a stable hash of the row's values. */
  orderId: string;
  orderIdGenerated: boolean;
  /**
   * Epoch microseconds, UTC: a safe integer (years 1900–2199 stay below 2^53). A plain number, not a
   * bigint, so no row pays for a bigint allocation and its slow conversion back to text.
   */
  orderTsMicros: number;
  /**
   * Cents, a safe integer (see `MAX_ABS_CENTS`); null = empty amount (allowed only as a later line
   * item of an order with an amount).
   */
  amountCents: number | null;
  currency: string;
  channel: string | null;
  quantity: number | null;
  /** Hash of the raw values (exact-duplicate detection). */
  rowHash: string;
  /**
   * The row's order economics (docs/economics.md); absent when the file has no such column, so rows
   * of ordinary exports are exactly what they were. Rows of the byte fast path never carry it: files
   * with economics columns are read as text.
   */
  economics?: OrderEconomics;
}

/**
 * An accepted row read from the bytes (see `ByteCsvReader`): its text values are ASCII byte ranges
 * of `bytes`, so no string was made for them. The object and the bytes are reused for the next row:
 * a sink copies what it keeps during the call.
 */
export interface AsciiParsedRow {
  line: number;
  bytes: Uint8Array;
  customerStart: number;
  customerEnd: number;
  /** The export's order id; an empty range when the id was generated (see `generatedOrderId`). */
  orderStart: number;
  orderEnd: number;
  generatedOrderId: string | null;
  orderTsMicros: number;
  amountCents: number | null;
  currency: string;
  /** An empty range means no channel. */
  channelStart: number;
  channelEnd: number;
  quantity: number | null;
  /** The row hash (`ParsedRow.rowHash`) as its two 32-bit halves, the first 8 hex digits first. */
  rowHashHigh: number;
  rowHashLow: number;
}

/** The same row with its values as strings. */
function asciiRowToParsedRow(row: AsciiParsedRow): ParsedRow {
  const text = (start: number, end: number) => asciiText(row.bytes, start, end);
  return {
    line: row.line,
    customerId: text(row.customerStart, row.customerEnd),
    orderId: row.generatedOrderId ?? text(row.orderStart, row.orderEnd),
    orderIdGenerated: row.generatedOrderId !== null,
    orderTsMicros: row.orderTsMicros,
    amountCents: row.amountCents,
    currency: row.currency,
    channel: row.channelEnd > row.channelStart ? text(row.channelStart, row.channelEnd) : null,
    quantity: row.quantity,
    rowHash: rowHashText(row.rowHashHigh, row.rowHashLow),
  };
}

/** `sink`, or for a sink without `acceptAscii`, one that hands it each such row as a `ParsedRow`. */
function takingAsciiRows(sink: ExportSink): Required<ExportSink> {
  if (sink.acceptAscii) return sink as Required<ExportSink>;
  return {
    accept: (row) => sink.accept(row),
    acceptAscii: (row) => sink.accept(asciiRowToParsedRow(row)),
    reject: (row) => sink.reject(row),
  };
}

export interface RejectedRow {
  line: number;
  raw: Record<string, string> | string;
  reason: RejectReasonCode;
  message: string;
}

export interface ExportSink {
  accept(row: ParsedRow): void;
  /**
   * A row accepted on the byte fast path. A sink without this method gets it as a `ParsedRow`
   * through {@link accept}.
   */
  acceptAscii?(row: AsciiParsedRow): void;
  reject(row: RejectedRow): void;
}

export interface ExportParserOptions {
  /** For format detection (.jsonl/.ndjson/.json vs csv) and messages. */
  fileName: string;
  /** Parsed source config (all fields optional). */
  config: SourceConfig;
  defaultCurrency: string;
  sink: ExportSink;
  /**
   * Read CSV rows of plain ASCII straight from the bytes (see `ByteCsvReader`); false reads every row
   * as text. The results are the same; tests compare the two. @default true
   */
  byteReader?: boolean;
}

export interface ExportParser {
  write(chunk: Uint8Array): void;
  end(): ExportParseSummary;
}

export interface ExportParseSummary {
  /** Data rows seen: not the header, not blank lines. Equals accepted + rejected rows given to the sink. */
  rowsRead: number;
  format: 'csv' | 'jsonl';
  delimiter?: string;
  encoding: string;
  decimal: '.' | ',';
  /** Canonical field → header in the file. */
  columns: Record<string, string>;
  /** Non-ISO date format in use (configured or sniffed), if any. */
  dateFormat?: string;
}

/** Rows of the sniffing window used to decide decimal style and date format. */
const SAMPLE_ROWS = 5000;

/**
 * Creates a push parser for one export file. Bytes arrive in `write` (already decompressed); the first
 * `SNIFF_WINDOW_BYTES` are held to decide encoding, format, delimiter, columns, decimal style and date
 * format, after which every chunk is parsed as it comes and rows go to the sink synchronously.
 * `write`/`end` throw `IngestFileError` for problems with the whole file; row problems go to
 * `sink.reject`.
 */
export function createExportParser(options: ExportParserOptions): ExportParser {
  let window: Uint8Array[] | null = [];
  let windowBytes = 0;
  let ended = false;
  let stream: ParseStream | null = null;

  const start = (final: boolean) => {
    const bytes = concat(window ?? []);
    window = null;
    stream = openStream(bytes, final, options);
  };

  return {
    write(chunk) {
      if (ended) throw new Error('write after end');
      if (chunk.length === 0) return;
      if (window) {
        window.push(chunk);
        windowBytes += chunk.length;
        if (windowBytes >= SNIFF_WINDOW_BYTES) start(false);
        return;
      }
      stream!.write(chunk);
    },
    end() {
      if (ended) throw new Error('end called twice');
      ended = true;
      if (window) start(true);
      else stream!.end();
      return stream!.summary();
    },
  };
}

interface ParseStream {
  write(chunk: Uint8Array): void;
  end(): void;
  summary(): ExportParseSummary;
}

function openStream(bytes: Uint8Array, final: boolean, options: ExportParserOptions): ParseStream {
  const { fileName, config } = options;
  if (bytes.length === 0) throw new IngestFileError('empty_file', `${fileName} is empty`);
  rejectKnownBinaryFormats(bytes, fileName);

  const encoding = detectByteOrderMark(bytes) ?? config.encoding ?? detectUtf16(bytes);
  const decoder = new StreamingTextDecoder(encoding);
  let text = decoder.decode(bytes);
  if (final) text += decoder.end();
  const sniffed = Math.min(text.length, SNIFF_WINDOW_BYTES);
  const controls = controlCharacters(text, sniffed);
  if (controls > sniffed * BINARY_CONTROL_SHARE) {
    throw new IngestFileError(
      'format_unknown',
      `${fileName} contains binary data (${controls} of its first ${sniffed} characters are zero bytes or ` +
        'other control characters): it is not a CSV or JSON Lines text export',
    );
  }
  if (final && text.trim() === '') throw new IngestFileError('empty_file', `${fileName} has no content`);
  // Old Mac exports end lines with CR alone; read them as LF.
  const crOnly = !text.includes('\n') && text.includes('\r');
  if (crOnly) text = text.replace(/\r/g, '\n');

  const format = detectFormat(fileName, text);
  if (format === 'csv' && !crOnly && options.byteReader !== false && isAsciiCompatible(decoder.encoding)) {
    // Rows are read from the bytes: the window's text only served the sniffing above.
    const rowDecoder = new RowDecoder(decoder.decided ? decoder.encoding : null);
    const setup = setUpCsv(text, final, options, rowDecoder);
    const pushBytes = setup.pushBytes!;
    pushBytes(detectByteOrderMark(bytes) === 'utf-8' ? bytes.subarray(3) : bytes);
    if (final) setup.finish();
    return {
      write: pushBytes,
      end: () => setup.finish(),
      summary: () => ({ ...setup.summaryBase(), encoding: rowDecoder.encoding }),
    };
  }
  const setup =
    format === 'csv' ? setUpCsv(text, final, options, null) : setUpJsonLines(text, final, options);
  const { push, finish, summaryBase } = setup;
  const decode = (chunk: Uint8Array) => {
    const decoded = decoder.decode(chunk);
    return crOnly ? decoded.replace(/\r/g, '\n') : decoded;
  };

  push(text);
  if (final) finish();
  return {
    write: (chunk) => push(decode(chunk)),
    end: () => {
      const rest = decoder.end();
      push(crOnly ? rest.replace(/\r/g, '\n') : rest);
      finish();
    },
    summary: () => ({ ...summaryBase(), encoding: decoder.encoding }),
  };
}

/**
 * Share of control characters (zero bytes and the rest of C0 except tab and line breaks, DEL, C1) in
 * the sniffing window above which a file is binary data, not a text export. Text exports have none;
 * a stray one is its row's problem (`row_malformed`). Binary formats have far more: about one byte
 * in seven of random data, most of a zero-padded block.
 */
const BINARY_CONTROL_SHARE = 0.05;

/** Control characters (see {@link BINARY_CONTROL_SHARE}) among the first `length` of `text`. */
function controlCharacters(text: string, length: number): number {
  let n = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f)) n++;
  }
  return n;
}

function rejectKnownBinaryFormats(bytes: Uint8Array, fileName: string): void {
  const starts = (...magic: number[]) => magic.every((b, i) => bytes[i] === b);
  let what: string | null = null;
  if (starts(0x1f, 0x8b)) what = 'gzip-compressed, but its name does not end in .gz';
  else if (starts(0x50, 0x4b, 0x03, 0x04))
    what = 'a ZIP archive or Excel workbook (.xlsx); export the sheet as CSV';
  else if (starts(0xd0, 0xcf, 0x11, 0xe0)) what = 'an old Excel workbook (.xls); export the sheet as CSV';
  else if (starts(0x50, 0x41, 0x52, 0x31)) what = 'a Parquet file, not an export';
  else if (starts(0x25, 0x50, 0x44, 0x46)) what = 'a PDF document';
  if (what) throw new IngestFileError('format_unknown', `${fileName} is ${what}`);
}

function detectFormat(fileName: string, text: string): 'csv' | 'jsonl' {
  const name = fileName.toLowerCase().replace(/\.gz$/, '');
  const firstChar = text.trimStart().charAt(0);
  const jsonByName = /\.(jsonl|ndjson|json)$/.test(name);
  if (jsonByName || (!/\.(csv|tsv|txt|tab)$/.test(name) && firstChar === '{')) {
    if (firstChar === '[') {
      throw new IngestFileError(
        'format_unknown',
        `${fileName} is a JSON array; only JSON Lines (one object per line) is supported`,
      );
    }
    if (firstChar !== '{' && firstChar !== '') {
      throw new IngestFileError(
        'format_unknown',
        `${fileName} is named as JSON Lines but does not start with a JSON object ('{')`,
      );
    }
    return 'jsonl';
  }
  return 'csv';
}

interface FormatSetup {
  push(text: string): void;
  /** Bytes of the whole file from its start (byte-order mark skipped), when reading from bytes. */
  pushBytes?(bytes: Uint8Array): void;
  finish(): void;
  summaryBase(): Omit<ExportParseSummary, 'encoding'>;
}

/** Decides decimal style and date format from sample values and builds the row cleaner. */
function buildCleaner(
  headers: string[],
  mapping: ColumnMapping,
  samples: { amounts: string[]; timestamps: string[] },
  options: ExportParserOptions,
  delimiter: string | undefined,
): { cleaner: RowCleaner; decimal: DecimalSeparator; dateFormat: string | undefined } {
  const { config, fileName } = options;
  const currencySymbols = currencySymbolMap(config.currencySymbols);
  const { decimal, dateFormat } = chooseValueFormats(fileName, config, samples, currencySymbols);
  const cleaner = new RowCleaner({
    headers,
    mapping,
    decimal,
    timestamps: createOrderTimestampParser(dateFormat, config.timezone ?? 'UTC'),
    currency: config.currency ?? options.defaultCurrency,
    currencySymbols,
    sink: takingAsciiRows(options.sink),
    delimiter,
  });
  return { cleaner, decimal, dateFormat: dateFormat?.pattern };
}

const SEP_LINE = /^sep=(.)$/i;

/** `rowDecoder`: read the rows from bytes (`pushBytes`), decoding the ones that need text with it. */
function setUpCsv(
  windowText: string,
  final: boolean,
  options: ExportParserOptions,
  rowDecoder: RowDecoder | null,
): FormatSetup {
  const { fileName, config } = options;
  // Excel's "sep=;" first line names the delimiter.
  const firstLine = windowText.slice(0, Math.max(0, windowText.indexOf('\n'))).replace(/\r$/, '');
  const sepLine = SEP_LINE.exec(final && !windowText.includes('\n') ? windowText.trim() : firstLine);
  const delimiter =
    config.delimiter ??
    sepLine?.[1] ??
    sniffDelimiter(sepLine ? windowText.slice(firstLine.length + 1) : windowText);

  // First pass over the window: the header and sample rows (re-read by the real reader afterwards).
  let headers: string[] | null = null;
  let headerProblem: string | null = null;
  const sampleRows: string[][] = [];
  const sampler = new CsvReader(
    delimiter,
    {
      row(fields, line) {
        if (headers === null) {
          if (isBlank(fields) || (sepLine && line === 1)) return;
          headers = fields.map((h) => h.trim());
        } else if (sampleRows.length < SAMPLE_ROWS && !fields.some(hasForbiddenControl)) {
          // A row with a control character is rejected whatever it holds: it decides nothing.
          sampleRows.push(fields);
        }
      },
      malformed(line, _raw, _reason, message) {
        if (headers === null) headerProblem ??= `the header (line ${line}) cannot be read: ${message}`;
      },
    },
    MAX_ROW_CHARS,
  );
  pushSample(sampler, windowText, final);
  if (headerProblem) throw new IngestFileError('format_unknown', `${fileName}: ${headerProblem}`);
  if (headers === null) {
    if (final) throw new IngestFileError('empty_file', `${fileName} has no header row`);
    throw new IngestFileError(
      'format_unknown',
      `${fileName}: no complete header row in the first ${SNIFF_WINDOW_BYTES / 1024} KiB; is this a CSV export?`,
    );
  }
  const headerRow: string[] = headers;
  const mapping = mapColumns(headerRow, config.columns, fileName);
  const column = (index: number) =>
    index < 0 ? [] : sampleRows.map((row) => (row[index] ?? '').trim()).filter((v) => v !== '');
  const { cleaner, decimal, dateFormat } = buildCleaner(
    headerRow,
    mapping,
    { amounts: column(mapping.index.amount), timestamps: column(mapping.index.order_ts) },
    options,
    delimiter,
  );

  let headerSeen = false;
  const handler: RowHandler<string[]> = {
    row(fields, line, rowHash) {
      if (!headerSeen) {
        if (isBlank(fields) || (sepLine && line === 1)) return;
        headerSeen = true;
        return;
      }
      cleaner.clean(fields, line, rowHash);
    },
    malformed(line, raw, reason, message) {
      cleaner.rejectUnreadable(line, raw, reason, message);
    },
  };
  // The reader hashes the values as it splits them (the row hash covers the header's columns).
  const reader = new CsvReader(delimiter, handler, MAX_ROW_CHARS, headerRow.length);
  const byteReader =
    rowDecoder &&
    new ByteCsvReader(
      delimiter,
      {
        asciiRow(row) {
          if (!headerSeen) handler.row(asciiFields(row), row.line);
          else cleaner.cleanAscii(row);
        },
        malformed: handler.malformed,
      },
      reader,
      rowDecoder,
      MAX_ROW_CHARS,
    );
  return {
    push: (text) => reader.push(text),
    ...(byteReader ? { pushBytes: (bytes: Uint8Array) => byteReader.push(bytes) } : {}),
    finish: () => (byteReader ? byteReader.finish() : reader.finish()),
    summaryBase: () => ({
      rowsRead: cleaner.rowsRead,
      format: 'csv',
      delimiter,
      decimal,
      columns: mapping.columns,
      ...(dateFormat ? { dateFormat } : {}),
    }),
  };
}

/**
 * Feeds the sniffing pass at most the window's worth of text: a caller writing one huge chunk must not
 * make the sample pass read the whole file. A cut row at the end is simply not sampled.
 */
function pushSample(
  sampler: { push(text: string): void; finish(): void },
  text: string,
  final: boolean,
): void {
  if (text.length > SNIFF_WINDOW_BYTES) {
    sampler.push(text.slice(0, SNIFF_WINDOW_BYTES));
    return;
  }
  sampler.push(text);
  if (final) sampler.finish();
}

function isBlank(fields: readonly string[]): boolean {
  return fields.every((f) => f.trim() === '');
}

/** A JSON value as the text a CSV cell would hold. */
function jsonValueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

function parseJsonObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `invalid JSON: ${(error as Error).message}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'the line is valid JSON but not an object ({...})';
  }
  return value as Record<string, unknown>;
}

function setUpJsonLines(windowText: string, final: boolean, options: ExportParserOptions): FormatSetup {
  const { fileName, config } = options;
  // Keys seen in the window, in first-seen order, play the role of a header.
  const keys = new Map<string, number>();
  const sampleObjects: Record<string, unknown>[] = [];
  const sampler = new LineReader(
    {
      row(text) {
        if (sampleObjects.length >= SAMPLE_ROWS || text.trim() === '') return;
        const parsed = parseJsonObject(text);
        if (typeof parsed === 'string') return;
        sampleObjects.push(parsed);
        for (const key of Object.keys(parsed)) if (!keys.has(key)) keys.set(key, keys.size);
      },
      malformed() {},
    },
    MAX_ROW_CHARS,
  );
  pushSample(sampler, windowText, final);
  if (sampleObjects.length === 0) {
    throw new IngestFileError(
      'format_unknown',
      `${fileName}: no line in the first ${SNIFF_WINDOW_BYTES / 1024} KiB is a JSON object; is this a JSON Lines export?`,
    );
  }
  const headers = [...keys.keys()];
  const mapping = mapColumns(headers, config.columns, fileName);
  const column = (index: number) => {
    const key = headers[index];
    if (key === undefined) return [];
    return sampleObjects.map((o) => jsonValueText(o[key]).trim()).filter((v) => v !== '');
  };
  const { cleaner, decimal, dateFormat } = buildCleaner(
    headers,
    mapping,
    { amounts: column(mapping.index.amount), timestamps: column(mapping.index.order_ts) },
    options,
    undefined,
  );

  const handler: RowHandler<string> = {
    row(text, line) {
      const trimmed = text.trim();
      if (trimmed === '') return;
      const parsed = parseJsonObject(trimmed);
      if (typeof parsed === 'string') {
        cleaner.rejectUnreadable(line, clip(trimmed), 'row_malformed', `line ${line}: ${parsed}`);
        return;
      }
      const fields = headers.map((key) => jsonValueText(parsed[key]));
      const raw: Record<string, string> = {};
      for (const [key, value] of Object.entries(parsed)) raw[key] = jsonValueText(value);
      cleaner.clean(fields, line, hashValues([trimmed]), raw);
    },
    malformed(line, raw, reason, message) {
      cleaner.rejectUnreadable(line, raw, reason, message);
    },
  };
  const reader = new LineReader(handler, MAX_ROW_CHARS);
  return {
    push: (text) => reader.push(text),
    finish: () => reader.finish(),
    summaryBase: () => ({
      rowsRead: cleaner.rowsRead,
      format: 'jsonl',
      decimal,
      columns: mapping.columns,
      ...(dateFormat ? { dateFormat } : {}),
    }),
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
