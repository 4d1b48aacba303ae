/**
 * The recalculation lock port: one run at a time, with a lease so a run that dies without
 * releasing it blocks others only until the lease ends.
 */
import { CvmError } from '#domain/errors.ts';

/** A second run while one holds the lock. */
export class RecalcLockedError extends CvmError {
  override readonly name = 'RecalcLockedError';
  readonly code = 'recalc_locked';
  constructor(
    readonly holder: { runId: string; acquiredAt: string; leaseUntil: string } | null,
    readonly requestedBy: string,
  ) {
    super(
      holder
        ? `Another recalculation is running: run ${holder.runId} holds the lock since ${holder.acquiredAt}. ` +
            `Run ${requestedBy} was refused. Wait for it to finish; if it died, the lock frees itself at ${holder.leaseUntil}.`
        : `Another recalculation holds the lock; run ${requestedBy} was refused.`,
    );
  }
}

export interface RecalcLock {
  /**
   * Takes (or renews) the lock for `runId`; throws {@link RecalcLockedError} when another run holds
   * it. `tookOverFrom` names a run whose holder was known to be gone (a killed local process).
   */
  acquire(runId: string, now: Date, leaseMinutes: number): Promise<{ tookOverFrom?: string }>;
  /** Releases the lock if `runId` holds it; returns whether it did. */
  release(runId: string): Promise<boolean>;
}
