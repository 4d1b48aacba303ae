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

/** The lock item as it stands: who took it last, and whether it was released since. */
export interface LockHolding {
  runId: string;
  /** Who runs `runId`: a local process or a Step Functions execution ARN; absent when not recorded. */
  holder?: string;
  leaseUntil: string;
  released: boolean;
}

export interface RecalcLock {
  /**
   * Takes (or renews) the lock for `runId`; throws {@link RecalcLockedError} when another run holds
   * it. `holder` names who runs it (default: the adapter's own, e.g. the local process). `tookOverFrom`
   * names a run that held the lock without releasing it: its holder was known to be gone, or its
   * lease had run out. That run ended without finishing.
   */
  acquire(
    runId: string,
    now: Date,
    leaseMinutes: number,
    holder?: string,
  ): Promise<{ tookOverFrom?: string; tookOverBecause?: 'holder-gone' | 'lease-expired' }>;
  /** Releases the lock if `runId` holds it; returns whether it did. */
  release(runId: string): Promise<boolean>;
  /** The lock item, or null when no run ever took it. */
  current(): Promise<LockHolding | null>;
}
