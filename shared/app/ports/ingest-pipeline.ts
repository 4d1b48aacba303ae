/**
 * The ingest's parse → stage → Parquet pipeline port: a private workspace per ingest that streams the
 * stored bytes into staged files and turns them into clean Parquet, with the counts the report needs.
 * The files it names are local working files, handed to the object store as they are.
 */
import type { ExportKind } from '#domain/bucket-layout.ts';
import type { ExportParseSummary } from '#domain/ingest/export-parser.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';

export interface StageRequest {
  /** The stored bytes, possibly gzipped. */
  stored: AsyncIterable<Uint8Array>;
  /** Original file name (last key segment), for format detection and messages. */
  fileName: string;
  config: SourceConfig;
  defaultCurrency: string;
  /** @default 'transactions' */
  kind?: ExportKind;
}

export interface StagedUpload {
  sha256: string;
  gzipped: boolean;
  summary: Pick<ExportParseSummary, 'rowsRead' | 'format' | 'delimiter' | 'encoding' | 'decimal' | 'columns'>;
  /** Rows the parser delivered: accepted + rejected so far (duplicates are still among the accepted). */
  rowsRead: number;
  counts: {
    accepted: number;
    rejected: number;
    rejectReasons: Record<string, number>;
    emptyAmountRows: number;
  };
  acceptedPath: string;
  /** The parser's rejects (JSON Lines). */
  rejectedPath: string;
  parseMs: number;
}

export interface FinishRequest {
  acceptedPath: string;
  stagedRows: number;
  emptyAmountRows: number;
  dedupeExactRows: boolean;
  columns?: Record<string, string>;
  ingestId: string;
  ingestedAt: Date;
  /** SHA-256 hex of erased customers' ids (the suppression list): their rows are dropped, counted. */
  suppressedHashes?: readonly string[];
  /** @default 'transactions' */
  kind?: ExportKind;
}

export interface FinishedUpload {
  accepted: number;
  /** Exact duplicate lines collapsed into their first occurrence. */
  duplicates: number;
  /** Line items rejected by the cross-row rule (every line of their order lacks an amount). */
  lateRejected: number;
  /** Rows of erased customers, dropped. */
  suppressed: number;
  /** Currency → sum of accepted amounts, exact decimal strings ("1234.56"). */
  amountTotals: Record<string, string>;
  /** Local clean Parquet file; null when no row was accepted. */
  parquetPath: string | null;
  /** JSON Lines of the late rejects (same shape as the parser's rejects); null when none. */
  lateRejectsPath: string | null;
  finishMs: number;
}

export interface IngestWorkspace {
  stage(request: StageRequest): Promise<StagedUpload>;
  finish(request: FinishRequest): Promise<FinishedUpload>;
  /** Removes every working file. */
  dispose(): Promise<void>;
}

export interface IngestPipeline {
  open(): Promise<IngestWorkspace>;
}
