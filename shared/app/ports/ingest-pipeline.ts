/**
 * The ingest's parse → stage → Parquet pipeline port: a private workspace per ingest that streams the
 * stored bytes into staged files and turns them into clean Parquet, with the counts the report needs.
 * The files it names are local working files, handed to the object store as they are.
 */
import type { SourceConfig } from '../../domain/ingest/source-config.ts';

export interface StageRequest {
  /** The stored bytes, possibly gzipped. */
  stored: AsyncIterable<Uint8Array>;
  /** Original file name (last key segment), for format detection and messages. */
  fileName: string;
  config: SourceConfig;
  defaultCurrency: string;
}

export interface StagedUpload {
  sha256: string;
  gzipped: boolean;
  summary: {
    rowsRead: number;
    format: 'csv' | 'jsonl';
    delimiter?: string;
    encoding: string;
    decimal: '.' | ',';
    columns: Record<string, string>;
  };
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
}

export interface FinishedUpload {
  accepted: number;
  duplicates: number;
  lateRejected: number;
  amountTotals: Record<string, string>;
  /** Clean Parquet file; null when no row was accepted. */
  parquetPath: string | null;
  /** JSON Lines of the cross-row rule's rejects; null when none. */
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
