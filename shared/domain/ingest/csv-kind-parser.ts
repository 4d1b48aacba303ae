/**
 * The push parser of the CSV export kinds besides transactions (customer attributes, subscriptions):
 * sniffs encoding, delimiter, decimal style and date format like the transaction parser, maps the
 * columns with the kind's own mapping and streams every row to a sink as the kind's clean row or a
 * reject with one reason a person understands. The kind supplies its column mapping and row cleaner.
 */

import { CUSTOMER_ID_RULE, customerIdProblem } from '../customer-id.ts';
import type { DecimalSeparator } from './amounts.ts';
import { currencySymbolMap } from './amounts.ts';
import { CsvReader } from './csv-reader.ts';
import { sniffDelimiter } from './delimiter-sniffing.ts';
import type { ExportParseSummary, RejectedRow } from './export-parser.ts';
import { IngestFileError } from './ingest-file-error.ts';
import { MAX_FIELD_CHARS, MAX_ROW_CHARS, SNIFF_WINDOW_BYTES } from './limits.ts';
import { createOrderTimestampParser, type TimestampProblem } from './order-timestamps.ts';
import { forbiddenControlAt } from './row-cleaner.ts';
import type { SourceConfig } from './source-config.ts';
import { detectByteOrderMark, detectUtf16, StreamingTextDecoder } from './text-decoding.ts';
import { chooseValueFormats } from './value-formats.ts';

/** A kind's cleaned row: the row, or the reason code and message of its reject. */
export type CleanedKindRow<Row> = { ok: true; row: Row } | { ok: false; reason: string; message: string };

/** What a kind decides from the header row before any row is cleaned. */
export interface KindColumns<Row> {
  /** Canonical field → index in the header row (-1 when absent); mapped fields are size-checked. */
  index: Readonly<Record<string, number>>;
  /** Indexes of money columns (decimal separator sniffing) and date columns (date format sniffing). */
  amountColumns: readonly number[];
  timestampColumns: readonly number[];
  clean(
    fields: readonly string[],
    line: number,
    formats: { decimal: DecimalSeparator; timestamps: { parse(value: string): number | TimestampProblem } },
  ): CleanedKindRow<Row>;
}

export interface CsvKindSink<Row> {
  accept(row: Row): void;
  reject(row: RejectedRow): void;
}

export interface CsvKindParserOptions<Row extends { customerId: string }> {
  fileName: string;
  config: SourceConfig;
  sink: CsvKindSink<Row>;
  /** How a message names the kind, e.g. "a customer attributes export". */
  kindName: string;
  /** Maps the header row; throws `IngestFileError` (columns_missing, config_invalid) naming the file. */
  mapColumns(headers: readonly string[]): KindColumns<Row>;
}

export interface CsvKindParser {
  write(chunk: Uint8Array): void;
  end(): ExportParseSummary;
}

const SAMPLE_ROWS = 5000;

/**
 * A push parser for one export of a CSV kind. Like `createExportParser`, the first `SNIFF_WINDOW_BYTES`
 * are held to decide the file's conventions, after which rows stream to the sink as they come. Whole-
 * file problems throw `IngestFileError`; row problems go to `sink.reject`. JSON Lines is not read for
 * these kinds (refused with a message): they come from CRM and back-office CSV exports.
 */
export function createCsvKindParser<Row extends { customerId: string }>(
  options: CsvKindParserOptions<Row>,
): CsvKindParser {
  const { fileName, config, sink } = options;
  if (/\.(jsonl|ndjson|json)(\.gz)?$/i.test(fileName)) {
    throw new IngestFileError(
      'format_unknown',
      `${fileName}: ${options.kindName} must be CSV (JSON Lines is read for transactions only)`,
    );
  }
  let window: Uint8Array[] | null = [];
  let windowBytes = 0;
  let decoder: StreamingTextDecoder | null = null;
  let reader: CsvReader | null = null;
  let summary: Omit<ExportParseSummary, 'rowsRead' | 'encoding'> | null = null;
  let rowsRead = 0;
  let ended = false;

  const start = (final: boolean) => {
    const bytes = concat(window ?? []);
    window = null;
    if (bytes.length === 0) throw new IngestFileError('empty_file', `${fileName} is empty`);
    decoder = new StreamingTextDecoder(detectByteOrderMark(bytes) ?? config.encoding ?? detectUtf16(bytes));
    let text = decoder.decode(bytes);
    if (final) text += decoder.end();
    if (text.trim() === '') throw new IngestFileError('empty_file', `${fileName} has no content`);
    const opened = open(text, final);
    reader = opened.reader;
    summary = opened.summary;
    reader.push(text);
    if (final) reader.finish();
  };

  const open = (text: string, final: boolean) => {
    const delimiter = config.delimiter ?? sniffDelimiter(text);
    let headers: string[] | null = null;
    const samples: string[][] = [];
    const sampler = new CsvReader(
      delimiter,
      {
        row(fields) {
          if (headers === null) {
            if (fields.every((f) => f.trim() === '')) return;
            headers = fields.map((h) => h.trim());
          } else if (samples.length < SAMPLE_ROWS) samples.push(fields);
        },
        malformed() {},
      },
      MAX_ROW_CHARS,
    );
    sampler.push(text.length > SNIFF_WINDOW_BYTES ? text.slice(0, SNIFF_WINDOW_BYTES) : text);
    if (final && text.length <= SNIFF_WINDOW_BYTES) sampler.finish();
    if (headers === null) throw new IngestFileError('empty_file', `${fileName} has no header row`);
    const headerRow: string[] = headers;
    const mapping = options.mapColumns(headerRow);
    const column = (index: number) =>
      index < 0 ? [] : samples.map((row) => (row[index] ?? '').trim()).filter((v) => v !== '');
    const { decimal, dateFormat } = chooseValueFormats(
      fileName,
      config,
      {
        amounts: mapping.amountColumns.flatMap(column),
        timestamps: mapping.timestampColumns.flatMap(column),
      },
      currencySymbolMap(config.currencySymbols),
    );
    const clean = rowCleaner(headerRow, mapping, {
      decimal,
      timestamps: createOrderTimestampParser(dateFormat, config.timezone ?? 'UTC'),
    });
    let headerSeen = false;
    const reader = new CsvReader(
      delimiter,
      {
        row(fields, line) {
          if (fields.every((f) => f.trim() === '')) return; // blank lines are not rows
          if (!headerSeen) {
            headerSeen = true;
            return;
          }
          rowsRead++;
          clean(fields, line);
        },
        malformed(line, raw, reason, message) {
          rowsRead++;
          sink.reject({ line, raw, reason, message });
        },
      },
      MAX_ROW_CHARS,
    );
    const columns: Record<string, string> = {};
    for (const [name, at] of Object.entries(mapping.index)) {
      if (at >= 0) columns[name] = headerRow[at]!;
    }
    return {
      reader,
      summary: {
        format: 'csv' as const,
        delimiter,
        decimal,
        columns,
        ...(dateFormat ? { dateFormat: dateFormat.pattern } : {}),
      },
    };
  };

  /** Row checks shared with transactions (field count, control characters, sizes, the id rule), then the kind's cleaner. */
  const rowCleaner = (
    headers: readonly string[],
    mapping: KindColumns<Row>,
    formats: Parameters<KindColumns<Row>['clean']>[2],
  ) => {
    const seen = new Map<string, number>();
    const rawKeys = headers.map((header, i) => {
      const base = header === '' ? `column_${i + 1}` : header;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return n === 1 ? base : `${base}_${n}`;
    });
    const raw = (fields: readonly string[]) => {
      const record: Record<string, string> = {};
      fields.forEach((value, i) => {
        record[rawKeys[i] ?? `column_${i + 1}`] = value.length > 200 ? `${value.slice(0, 200)}…` : value;
      });
      return record;
    };
    const mapped = Object.values(mapping.index).filter((i) => i >= 0);
    return (fields: string[], line: number) => {
      const reject = (reason: string, message: string) =>
        sink.reject({ line, raw: raw(fields), reason, message });
      if (fields.length < headers.length || fields.slice(headers.length).some((f) => f.trim() !== '')) {
        reject(
          'row_malformed',
          `line ${line} has ${fields.length} fields but the header has ${headers.length}`,
        );
        return;
      }
      for (let i = 0; i < fields.length; i++) {
        const at = forbiddenControlAt(fields[i]!);
        if (at >= 0) {
          reject(
            'row_malformed',
            `control character in column '${headers[i] ?? ''}' (character ${at + 1} of the value): a value may not contain control characters other than tab and line breaks`,
          );
          return;
        }
      }
      for (const i of mapped) {
        if ((fields[i]?.length ?? 0) > MAX_FIELD_CHARS) {
          reject('row_too_large', `field '${headers[i]}' is longer than ${MAX_FIELD_CHARS / 1024} KiB`);
          return;
        }
      }
      const cleaned = mapping.clean(fields, line, formats);
      if (!cleaned.ok) {
        reject(cleaned.reason, cleaned.message);
        return;
      }
      // The same id rule as transactions: these rows join to orders by this id.
      const problem = customerIdProblem(cleaned.row.customerId);
      if (problem !== null) {
        reject(
          'customer_id_invalid',
          `customer_id: '${cleaned.row.customerId.slice(0, 80)}' ${problem} (${CUSTOMER_ID_RULE})`,
        );
        return;
      }
      sink.accept(cleaned.row);
    };
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
      reader!.push(decoder!.decode(chunk));
    },
    end() {
      if (ended) throw new Error('end called twice');
      ended = true;
      if (window) start(true);
      else {
        reader!.push(decoder!.end());
        reader!.finish();
      }
      return { ...summary!, rowsRead, encoding: decoder!.encoding };
    },
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
