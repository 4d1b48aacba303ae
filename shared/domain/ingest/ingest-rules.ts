/**
 * The ingest's file-level business rules, pure: row accounting, the quarantine threshold, the lease
 * that makes a delivery the one worker of an ingest, and when an earlier ingest of the same bytes wins.
 */

/** A file with a larger share of rejected rows is quarantined unless its source config says otherwise. */
export const DEFAULT_MAX_REJECT_RATIO = 0.2;

/** Longer than the ingest Lambda's 15-minute ceiling, so a live worker never loses its lease. */
export const DEFAULT_LEASE_MS = 16 * 60 * 1000;

const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A source name becomes a partition name (`source=<name>`): letters, digits, `.`, `_`, `-`. */
export function isValidSourceName(source: string): boolean {
  return SOURCE_NAME.test(source);
}

export interface RowCounts {
  accepted: number;
  rejected: number;
  duplicates: number;
  /** Rows of erased customers; present only when there were any. */
  suppressed?: number;
  rejectReasons: Record<string, number>;
}

/**
 * The report's counts from the two stages: the parser's rejects plus the line items the cross-row
 * rule rejected later (always `amount_missing`). Throws when rows read ≠ accepted + rejected +
 * duplicates + suppressed: a report that does not add up is a bug, never written.
 */
export function accountRows(
  rowsRead: number,
  staged: { rejected: number; rejectReasons: Record<string, number> },
  finished: { accepted: number; duplicates: number; lateRejected: number; suppressed?: number },
  key: string,
): RowCounts {
  const rejectReasons = { ...staged.rejectReasons };
  if (finished.lateRejected > 0) {
    rejectReasons.amount_missing = (rejectReasons.amount_missing ?? 0) + finished.lateRejected;
  }
  const counts = {
    accepted: finished.accepted,
    rejected: staged.rejected + finished.lateRejected,
    duplicates: finished.duplicates,
    ...(finished.suppressed ? { suppressed: finished.suppressed } : {}),
    rejectReasons,
  };
  const suppressed = counts.suppressed ?? 0;
  if (counts.accepted + counts.rejected + counts.duplicates + suppressed !== rowsRead) {
    throw new Error(
      `Row accounting broken for ${key}: ${rowsRead} read ≠ ${counts.accepted} accepted + ${counts.rejected} rejected + ${counts.duplicates} duplicates + ${suppressed} suppressed`,
    );
  }
  return counts;
}

/** Share of rejected rows; an empty file rejects nothing. */
export function rejectRatio(rejected: number, rowsRead: number): number {
  return rowsRead === 0 ? 0 : rejected / rowsRead;
}

/** Quarantine when the share of rejected rows exceeds `maxRejectRatio` (default {@link DEFAULT_MAX_REJECT_RATIO}). */
export function quarantineDecision(
  rejected: number,
  rowsRead: number,
  maxRejectRatio: number = DEFAULT_MAX_REJECT_RATIO,
): { quarantine: boolean; ratio: number; maxRejectRatio: number } {
  const ratio = rejectRatio(rejected, rowsRead);
  return { quarantine: ratio > maxRejectRatio, ratio, maxRejectRatio };
}

export function quarantineMessage(input: {
  rejected: number;
  rowsRead: number;
  ratio: number;
  maxRejectRatio: number;
  quarantineKey: string;
  rejectedKey: string | null;
}): string {
  return (
    `${input.rejected} of ${input.rowsRead} rows rejected (${(input.ratio * 100).toFixed(1)} %), more than ` +
    `maxRejectRatio ${input.maxRejectRatio}: the file was moved to ${input.quarantineKey} and no clean data was written; ` +
    `see ${input.rejectedKey}`
  );
}

export function duplicateContentMessage(duplicateOf: string, rowsRead: number): string {
  return `Same content as ingest ${duplicateOf}: all ${rowsRead} rows counted as duplicates, nothing ingested twice`;
}

/** A lease is live until its expiry (epoch ms); a missing expiry counts as expired. */
export function leaseIsLive(leaseExpiresAt: number | null | undefined, now: Date): boolean {
  return (leaseExpiresAt ?? 0) >= now.getTime();
}

/**
 * Whether another delivery may take over an ingest: only an `in_progress` one whose worker's lease
 * has expired (the worker died). A finished report, or a live lease, is left alone.
 */
export function mayTakeOverIngest(
  existing: { status: string; leaseExpiresAt: number | null | undefined },
  now: Date,
): boolean {
  return existing.status === 'in_progress' && !leaseIsLive(existing.leaseExpiresAt, now);
}

/**
 * Whether the ingest holding a content marker still owns that content: it succeeded, or it is running
 * under a live lease. A marker left by an ingest that failed, was quarantined, crashed or vanished is
 * taken over by the next upload of the same bytes.
 */
export function contentHolderWins(
  holder: { status: string; leaseExpiresAt: number | null | undefined } | null,
  now: Date,
): boolean {
  if (!holder) return false;
  return (
    holder.status === 'succeeded' ||
    (holder.status === 'in_progress' && leaseIsLive(holder.leaseExpiresAt, now))
  );
}
