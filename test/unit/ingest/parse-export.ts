/**
 * Test support for the export parser tests: runs the parser over bytes in chunks of a given size and
 * collects rows, rejects and summary.
 */
import {
  createExportParser,
  type ExportParseSummary,
  type ParsedRow,
  type RejectedRow,
} from '#domain/ingest/export-parser.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';

export interface ParsedExport {
  accepted: ParsedRow[];
  rejected: RejectedRow[];
  summary: ExportParseSummary;
}

export const utf8 = (text: string) => new TextEncoder().encode(text);

/** Windows-1252 bytes of text whose characters are all in that code page's Latin-1 range. */
export const latin1 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

/** Runs the parser over `input`, split into chunks of `chunkSize` bytes (small sizes test the seams). */
export function parseExport(
  input: string | Uint8Array,
  options: {
    fileName?: string;
    config?: SourceConfig;
    chunkSize?: number;
    defaultCurrency?: string;
    /** See `ExportParserOptions.byteReader`. */
    byteReader?: boolean;
  } = {},
): ParsedExport {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const accepted: ParsedRow[] = [];
  const rejected: RejectedRow[] = [];
  const parser = createExportParser({
    fileName: options.fileName ?? 'export.csv',
    config: options.config ?? {},
    defaultCurrency: options.defaultCurrency ?? 'EUR',
    sink: { accept: (row) => accepted.push(row), reject: (row) => rejected.push(row) },
    ...(options.byteReader === undefined ? {} : { byteReader: options.byteReader }),
  });
  const chunkSize = options.chunkSize ?? 65_536;
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    parser.write(bytes.subarray(offset, offset + chunkSize));
  }
  return { accepted, rejected, summary: parser.end() };
}

/** Epoch microseconds of an ISO instant, for expectations. */
export const micros = (iso: string) => Date.parse(iso) * 1000;
