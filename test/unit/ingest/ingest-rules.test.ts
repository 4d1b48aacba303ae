/**
 * Ingest rules: late rejects, counts that add up, the quarantine threshold, lease takeover, which
 * earlier ingest of the same bytes wins, and safe source names.
 */
import { describe, expect, it } from 'vitest';
import {
  accountRows,
  contentHolderWins,
  DEFAULT_MAX_REJECT_RATIO,
  isValidSourceName,
  leaseIsLive,
  mayTakeOverIngest,
  quarantineDecision,
  quarantineMessage,
} from '#domain/ingest/ingest-rules.ts';

describe('ingest rules', () => {
  it('adds the late line-item rejects to the parser rejects as amount_missing', () => {
    const counts = accountRows(
      10,
      { rejected: 2, rejectReasons: { order_ts_invalid: 1, amount_missing: 1 } },
      { accepted: 5, duplicates: 1, lateRejected: 2 },
      'incoming/s/a.csv',
    );
    expect(counts).toEqual({
      accepted: 5,
      rejected: 4,
      duplicates: 1,
      rejectReasons: { order_ts_invalid: 1, amount_missing: 3 },
    });
  });

  it('refuses counts that do not add up to the rows read', () => {
    expect(() =>
      accountRows(
        10,
        { rejected: 1, rejectReasons: {} },
        { accepted: 5, duplicates: 0, lateRejected: 0 },
        'k',
      ),
    ).toThrow(/Row accounting broken for k: 10 read ≠ 5 accepted \+ 1 rejected \+ 0 duplicates/);
  });

  it('quarantines only above the reject ratio; an empty file never', () => {
    expect(quarantineDecision(2, 10).quarantine).toBe(false);
    expect(quarantineDecision(3, 10)).toEqual({
      quarantine: true,
      ratio: 0.3,
      maxRejectRatio: DEFAULT_MAX_REJECT_RATIO,
    });
    expect(quarantineDecision(3, 10, 0.5).quarantine).toBe(false);
    expect(quarantineDecision(0, 0, 0).quarantine).toBe(false);
    expect(
      quarantineMessage({
        rejected: 5,
        rowsRead: 10,
        ratio: 0.5,
        maxRejectRatio: 0.1,
        quarantineKey: 'quarantine/s/i/a.csv',
        rejectedKey: 'rejected/s/i.jsonl',
      }),
    ).toBe(
      '5 of 10 rows rejected (50.0 %), more than maxRejectRatio 0.1: the file was moved to quarantine/s/i/a.csv and no clean data was written; see rejected/s/i.jsonl',
    );
  });

  it('takes an ingest over only when it is in progress and its lease expired', () => {
    const now = new Date(100_000);
    expect(leaseIsLive(100_000, now)).toBe(true);
    expect(leaseIsLive(99_999, now)).toBe(false);
    expect(mayTakeOverIngest({ status: 'in_progress', leaseExpiresAt: 99_999 }, now)).toBe(true);
    expect(mayTakeOverIngest({ status: 'in_progress', leaseExpiresAt: 100_001 }, now)).toBe(false);
    expect(mayTakeOverIngest({ status: 'failed', leaseExpiresAt: null }, now)).toBe(false);
  });

  it('lets an earlier ingest of the same bytes win only when it succeeded or is still running', () => {
    const now = new Date(100_000);
    expect(contentHolderWins({ status: 'succeeded', leaseExpiresAt: null }, now)).toBe(true);
    expect(contentHolderWins({ status: 'in_progress', leaseExpiresAt: 200_000 }, now)).toBe(true);
    expect(contentHolderWins({ status: 'in_progress', leaseExpiresAt: 50_000 }, now)).toBe(false);
    expect(contentHolderWins({ status: 'quarantined', leaseExpiresAt: null }, now)).toBe(false);
    expect(contentHolderWins({ status: 'failed', leaseExpiresAt: null }, now)).toBe(false);
    expect(contentHolderWins(null, now)).toBe(false);
  });

  it('accepts source names that are safe as a partition name', () => {
    expect(isValidSourceName('web-shop_2.eu')).toBe(true);
    expect(isValidSourceName('my shop')).toBe(false);
    expect(isValidSourceName('-x')).toBe(false);
  });
});
