/**
 * The push parser of a customer attributes export (CSV): sniffs encoding, delimiter, decimal style and
 * date format like the transaction parser, maps the columns (`mapAttributeColumns`) and streams every
 * row to a sink as a clean `CustomerAttributesRow` or a reject with one reason a person understands.
 */
import { CUSTOMER_ID_RULE, customerIdProblem } from '../customer-id.ts';
import { currencySymbolMap } from '../ingest/amounts.ts';
import { CsvReader } from '../ingest/csv-reader.ts';
import { sniffDelimiter } from '../ingest/delimiter-sniffing.ts';
import type { ExportParseSummary, RejectedRow } from '../ingest/export-parser.ts';
import { IngestFileError } from '../ingest/ingest-file-error.ts';
import { MAX_FIELD_CHARS, MAX_ROW_CHARS, SNIFF_WINDOW_BYTES } from '../ingest/limits.ts';
import { createOrderTimestampParser } from '../ingest/order-timestamps.ts';
import { forbiddenControlAt } from '../ingest/row-cleaner.ts';
import type { SourceConfig } from '../ingest/source-config.ts';
import { detectByteOrderMark, detectUtf16, StreamingTextDecoder } from '../ingest/text-decoding.ts';
import { chooseValueFormats } from '../ingest/value-formats.ts';
import {
  ATTRIBUTE_COLUMNS,
  type AttributeColumnMapping,
  type CustomerAttributesRow,
  cleanAttributeRow,
  mapAttributeColumns,
} from './customer-attributes.ts';

export interface AttributesSink {
  accept(row: CustomerAttributesRow): void;
  reject(row: RejectedRow): void;
}

export interface AttributesParserOptions {
  fileName: string;
  config: SourceConfig;
  sink: AttributesSink;
}

export interface AttributesParser {
  write(chunk: Uint8Array): void;
  end(): ExportParseSummary;
}

const SAMPLE_ROWS = 5000;

/**
 * A push parser for one attributes export. Like `createExportParser`, the first `SNIFF_WINDOW_BYTES`
 * are held to decide the file's conventions, after which rows stream to the sink as they come. Whole-
 * file problems throw `IngestFileError`; row problems go to `sink.reject`. JSON Lines is not read for
 * this kind (refused with a message): attributes come from CRM and shop back-office CSV exports.
 */
export function createAttributesParser(options: AttributesParserOptions): AttributesParser {
  const { fileName, config, sink } = options;
  if (/\.(jsonl|ndjson|json)(\.gz)?$/i.test(fileName)) {
    throw new IngestFileError(
      'format_unknown',
      `${fileName}: a customer attributes export must be CSV (JSON Lines is read for transactions only)`,
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
    const mapping = mapAttributeColumns(
      headerRow,
      config.attributeColumns,
      config.satisfactionScale,
      fileName,
    );
    const column = (index: number) =>
      index < 0 ? [] : samples.map((row) => (row[index] ?? '').trim()).filter((v) => v !== '');
    const money = [...column(mapping.index.acquisition_cost), ...column(mapping.index.service_cost)];
    const { decimal, dateFormat } = chooseValueFormats(
      fileName,
      config,
      {
        amounts: money,
        timestamps: [...column(mapping.index.updated_at), ...column(mapping.index.acquired_at)],
      },
      currencySymbolMap(config.currencySymbols),
    );
    const clean = rowCleaner(headerRow, mapping, {
      mapping,
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
    for (const name of ATTRIBUTE_COLUMNS) {
      const at = mapping.index[name];
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

  /** Row checks shared with transactions (field count, control characters, sizes, the id rule), then `cleanAttributeRow`. */
  const rowCleaner = (
    headers: readonly string[],
    mapping: AttributeColumnMapping,
    cleanerOptions: Parameters<typeof cleanAttributeRow>[2],
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
      const cleaned = cleanAttributeRow(fields, line, cleanerOptions);
      if (!cleaned.ok) {
        reject(cleaned.reason, cleaned.message);
        return;
      }
      // The same id rule as transactions: attributes join to orders by this id.
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
