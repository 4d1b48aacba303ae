/**
 * The ingest report repository port: reports under a lease (so one delivery of an S3 event does the
 * work) and per-source content markers (so the same bytes are never ingested twice).
 */
import { CvmError } from '#domain/errors.ts';
import type { IngestReport } from '#domain/ingest-report.ts';

export type ClaimResult =
  | { claimed: true; leaseToken: string }
  | { claimed: false; existing: IngestReport; leaseExpiresAt: number | null };

export interface StoredIngestReport {
  report: IngestReport;
  /** Epoch milliseconds; null once the report is final. */
  leaseExpiresAt: number | null;
}

export interface IngestReportStore {
  /**
   * Writes the `in_progress` report with a new lease, atomically, only if no report exists, the
   * existing one may be taken over (`mayTakeOverIngest`) or it is a retryable failure; otherwise
   * returns the existing report.
   */
  claim(report: IngestReport, now: Date, leaseMs: number): Promise<ClaimResult>;
  /**
   * Writes the report; `final` drops the lease. A `retryable` final report (a failure that was not the
   * file's fault) may be claimed again by the next delivery. Throws {@link LeaseLostError} when the
   * lease is gone.
   */
  save(
    report: IngestReport,
    leaseToken: string,
    options: { final: boolean; retryable?: boolean },
  ): Promise<void>;
  /** Gives the lease up at once (best effort) so a retried delivery need not wait for it to expire. */
  release(report: IngestReport, leaseToken: string): Promise<void>;
  get(ingestId: string): Promise<IngestReport | null>;
  /** The report with its lease, read consistently. */
  getWithLease(ingestId: string): Promise<StoredIngestReport | null>;
  /** The final report this worker wrote, when a write whose response was lost did land; else null. */
  ownFinalReport(ingestId: string, leaseToken: string): Promise<IngestReport | null>;

  /**
   * Writes the content marker of `sha256` for `ingestId` if there is none (or it is already its own),
   * or — with `replacing` — only if `replacing` still holds it. False when the condition failed.
   */
  markContent(
    marker: { source: string; sha256: string; ingestId: string; now: Date },
    replacing?: string,
  ): Promise<boolean>;
  /** The ingest holding the content marker, or null. */
  contentHolder(source: string, sha256: string): Promise<string | null>;
  /** Removes the marker if `ingestId` holds it, so a corrected re-upload is ingested. */
  releaseContent(source: string, sha256: string, ingestId: string): Promise<void>;
}

/** Another delivery took the ingest over after this worker's lease expired; its outcome wins. */
export class LeaseLostError extends CvmError {
  readonly code = 'lease_lost';
  constructor(ingestId: string) {
    super(`Lease on ingest ${ingestId} was lost to another worker`);
    this.name = 'LeaseLostError';
  }
}
