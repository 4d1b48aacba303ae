/**
 * The run repository port: run records (running, published, failed) and the current-run pointer
 * readers follow. The pointer flip is one conditional write, so readers see a whole run or none.
 */
import { CvmError } from '#domain/errors.ts';
import type { RunRecord } from '#domain/run.ts';

/** The pointer moved since this run read it: another run published in between. */
export class PointerMovedError extends CvmError {
  override readonly name = 'PointerMovedError';
  readonly code = 'pointer_moved';
}

export interface RunRepository {
  getCurrentRunId(): Promise<string | null>;
  /**
   * Points readers at `runId`, provided the pointer still names `expectedPreviousRunId`; a retried
   * flip that finds its own run current succeeds. Throws {@link PointerMovedError} otherwise.
   */
  flipCurrentRun(runId: string, expectedPreviousRunId: string | null, publishedAt: Date): Promise<void>;
  /** Stores a run record (validated) with its TTL (epoch seconds). */
  putRunRecord(record: RunRecord, expiresAt: number): Promise<void>;
  getRunRecord(runId: string): Promise<RunRecord | null>;
}
