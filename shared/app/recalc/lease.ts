/**
 * The run lock's lease: shorter than the state machine's execution limit, and renewed at the start of
 * every Lambda step, so a run that dies (or is stopped, or times out) frees the lock within one lease
 * while a live run, however long, keeps it.
 */
import type { RecalcDeps } from './types.ts';

/**
 * Minutes a lease lasts without renewal. Longer than any one step (a Lambda runs at most 15 minutes;
 * the summary queries run on Athena between two Lambda steps), shorter than the 4-hour execution limit.
 */
export const DEFAULT_LEASE_MINUTES = 90;

/**
 * Renews the lease of `run` (the lock's conditional write accepts its own run id). Throws
 * `RecalcLockedError` when another run took the lock over after this one's lease had run out: this
 * run must then stop rather than publish over the other.
 */
export async function renewLease(
  deps: Pick<RecalcDeps, 'lock' | 'now'>,
  run: { runId: string; leaseMinutes?: number; lockHolder?: string },
): Promise<void> {
  await deps.lock.acquire(run.runId, deps.now(), run.leaseMinutes ?? DEFAULT_LEASE_MINUTES, run.lockHolder);
}
