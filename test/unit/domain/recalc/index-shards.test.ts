/**
 * The index shard count of a run: the arithmetic of docs/scale.md (partition write limit, the Map's
 * write rate, the table's throughput) and the properties the writers and readers rely on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CUSTOMERS_PER_PART,
  indexShardCount,
  KEY_WRITE_BUDGET_PER_SECOND,
  MAX_INDEX_SHARDS,
  PARTITION_WRITE_UNITS_PER_SECOND,
  peakKeyWritesPerSecond,
  SCORE_PART_WRITES_PER_SECOND,
  TABLE_SCORE_WRITES_PER_SECOND,
} from '#domain/recalc/index-shards.ts';

describe('index shard count', () => {
  it('uses the figures docs/scale.md derives them from', () => {
    expect(PARTITION_WRITE_UNITS_PER_SECOND).toBe(1_000);
    expect(KEY_WRITE_BUDGET_PER_SECOND).toBe(500);
    // 4 batches of 25 items in flight, ~25 ms each.
    expect(SCORE_PART_WRITES_PER_SECOND).toBe(4_000);
    expect(CUSTOMERS_PER_PART).toBe(100_000);
    // 40,000 write units of warm throughput ÷ 3 units per score item (item, GSI1, GSI2).
    expect(TABLE_SCORE_WRITES_PER_SECOND).toBe(13_333);
  });

  it.each([
    // customers, Map concurrency, worst-case writes/s on one key, shards
    [10_000_000, 4, 13_333, 27], // 4 parts × 4,000/s = 16,000/s, capped by the table at 13,333/s
    [10_000_000, 100, 13_333, 27], // more parts in flight do not beat the table's throughput
    [10_000_000, 1, 4_000, 8],
    [1_000_000, 4, 13_333, 27],
    [250_000, 4, 12_000, 24], // 3 parts
    [100_000, 4, 4_000, 8], // one part
    [2_357, 4, 2_357, 5], // the bundled sample: never more writes than customers
    [500, 4, 500, 1],
    [1, 4, 1, 1],
    [0, 4, 0, 1],
  ])(
    '%i customers with Map concurrency %i: %i writes/s on one key → %i shards',
    (customers, concurrency, rate, shards) => {
      const input = { customers, scoreConcurrency: concurrency };
      expect(peakKeyWritesPerSecond(input)).toBe(rate);
      expect(indexShardCount(input)).toBe(shards);
    },
  );

  it('keeps every shard within the per-key budget, grows with the run and stays within bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        (a, b, concurrency) => {
          const small = indexShardCount({ customers: Math.min(a, b), scoreConcurrency: concurrency });
          const large = indexShardCount({ customers: Math.max(a, b), scoreConcurrency: concurrency });
          expect(Number.isInteger(large)).toBe(true);
          expect(small).toBeGreaterThanOrEqual(1);
          expect(large).toBeLessThanOrEqual(MAX_INDEX_SHARDS);
          expect(large).toBeGreaterThanOrEqual(small);
          const rate = peakKeyWritesPerSecond({ customers: Math.max(a, b), scoreConcurrency: concurrency });
          expect(rate / large).toBeLessThanOrEqual(KEY_WRITE_BUDGET_PER_SECOND);
        },
      ),
    );
  });
});
