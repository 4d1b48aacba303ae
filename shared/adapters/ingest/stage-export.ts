/**
 * First stage of an ingest: the stored bytes through gunzip and the export parser into local staged
 * files, in bounded memory whatever the file size.
 */
import { createExportParser, type ExportParseSummary } from '#domain/ingest/export-parser.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';
import { decompressedFileName, openExportByteStream } from './export-stream.ts';
import { type StagingCounts, StagingSink } from './staging.ts';

export interface StageExportInput {
  /** The stored bytes (S3 body or local file stream), possibly gzipped. */
  stored: AsyncIterable<Uint8Array>;
  /** Original file name (last key segment), for format detection and messages. */
  fileName: string;
  config: SourceConfig;
  defaultCurrency: string;
  /** Private temporary directory of this ingest. */
  workDir: string;
  /** Size of the staging's duplicate filter (see `StagingOptions`); tests shrink it. */
  duplicateFilterLog2Bits?: number;
}

export interface StagedExport {
  sha256: string;
  storedBytes: number;
  gzipped: boolean;
  summary: ExportParseSummary;
  /** Rows the parser produced: accepted + rejected so far (duplicates are still among the accepted). */
  rowsRead: number;
  counts: StagingCounts;
  acceptedPath: string;
  rejectedPath: string;
  rejectedBytes: number;
  parseMs: number;
}

/**
 * First stage of an ingest: streams the stored bytes through gunzip and the export parser, writing
 * accepted rows to a staged TSV and rejects to a JSON Lines file. Memory is bounded by one chunk plus
 * the writers' buffers, whatever the file size.
 */
export async function stageExport(input: StageExportInput): Promise<StagedExport> {
  const started = performance.now();
  const sink = new StagingSink(
    input.workDir,
    input.duplicateFilterLog2Bits === undefined
      ? {}
      : { duplicateFilterLog2Bits: input.duplicateFilterLog2Bits },
  );
  try {
    const bytes = await openExportByteStream(input.stored, input.fileName);
    const parser = createExportParser({
      fileName: decompressedFileName(input.fileName),
      config: input.config,
      defaultCurrency: input.defaultCurrency,
      sink,
    });
    try {
      for await (const chunk of bytes.chunks) parser.write(chunk);
    } catch (error) {
      if (isZlibError(error)) {
        throw new IngestFileError(
          'gzip_corrupt',
          `${input.fileName}: not a readable gzip file (${(error as Error).message})`,
          { cause: error },
        );
      }
      throw error;
    }
    const summary = parser.end();
    sink.close();
    const rowsRead = sink.counts.accepted + sink.counts.rejected;
    return {
      sha256: bytes.sha256(),
      storedBytes: bytes.storedBytes(),
      gzipped: bytes.gzipped,
      summary,
      rowsRead,
      counts: sink.counts,
      acceptedPath: sink.acceptedPath,
      rejectedPath: sink.rejectedPath,
      rejectedBytes: sink.rejectedBytes,
      parseMs: performance.now() - started,
    };
  } catch (error) {
    sink.close();
    if (error instanceof IngestFileError && !error.message.includes(input.fileName)) {
      error.message = `${input.fileName}: ${error.message}`;
    }
    throw error;
  }
}

/** A zlib stream error (`Z_…` code): the file is not readable gzip. */
export function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
