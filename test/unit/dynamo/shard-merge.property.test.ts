/**
 * Sharded listings read back in exactly the order one unsharded index gives: every shard is read
 * descending from just below the cursor, the shards are merged by sort key, and paging by the last
 * sort key returned neither repeats nor skips a customer, whatever the ties, shard count, page size
 * or early page ends DynamoDB makes. The shards here are an in-memory model of a DynamoDB Query on
 * one index partition (descending, `sk < :after`, `Limit`, pages that stop early with a
 * LastEvaluatedKey); the same reads against dynalite are in test/integration/api/sharded-listings.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexShardOf, segmentMemberKey } from '#adapters/dynamo/keys.ts';
import {
  compareSortKeys,
  firstReadSize,
  mergeShardsDescending,
  type ShardRead,
} from '#adapters/dynamo/shard-merge.ts';

interface Entry {
  customerId: string;
  sk: string;
}

/** DynamoDB's order of string keys, stated independently: their UTF-8 bytes. */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * One index partition as DynamoDB's Query sees it: items descending by sort key, those below
 * `after` only, at most `limit` per call, and sometimes fewer (DynamoDB stops a page at 1 MB) with
 * a continuation key. Counts the items each call returns.
 */
function shardModel(
  entries: Entry[],
  after: string | undefined,
  shortPages: (limit: number) => number,
  reads: { items: number; calls: number },
): ShardRead<Entry, number> {
  const sorted = entries
    .filter((entry) => after === undefined || byUtf8(entry.sk, after) < 0)
    .sort((a, b) => byUtf8(b.sk, a.sk));
  return async (limit, next) => {
    const from = next ?? 0;
    const size = Math.max(1, Math.min(limit, shortPages(limit)));
    const items = sorted.slice(from, from + size);
    reads.calls++;
    reads.items += items.length;
    // Like DynamoDB, a page that fills its limit carries a continuation key even when nothing follows.
    const end = from + items.length;
    return end < sorted.length || items.length === limit ? { items, next: end } : { items };
  };
}

const customerIds = fc.uniqueArray(
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 6 }),
    // Full Unicode, surrogate pairs included: where UTF-16 and UTF-8 order differ.
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
    fc.nat({ max: 5_000 }).map((n) => `C${String(n).padStart(6, '0')}`),
  ),
  { minLength: 0, maxLength: 180 },
);

describe('sharded listing merge', () => {
  it('pages through the shards in the unsharded order: no customer twice, none skipped, with ties', async () => {
    await fc.assert(
      fc.asyncProperty(
        customerIds,
        // Few distinct amounts: many customers tie on the amount and are ordered by id.
        fc.array(fc.constantFrom(0, 0.01, 1.5, 1.5, 20, 999.99), { minLength: 180, maxLength: 180 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 25 }),
        fc.func(fc.integer({ min: 1, max: 30 })),
        async (ids, amounts, shards, limit, shortPage) => {
          const entries = ids.map((customerId, i) => {
            const key = segmentMemberKey('run-1', 'Champions', amounts[i]!, customerId, shards);
            return { customerId, sk: key.gsi1sk, partition: key.gsi1pk };
          });
          const byPartition = new Map<string, Entry[]>();
          for (const entry of entries) {
            byPartition.set(entry.partition, [...(byPartition.get(entry.partition) ?? []), entry]);
          }
          const partitions =
            shards === 1
              ? ['SEG#run-1#Champions']
              : Array.from({ length: shards }, (_, s) => `SEG#run-1#Champions#${s}`);
          expect([...byPartition.keys()].every((p) => partitions.includes(p))).toBe(true);
          const expected = [...entries].sort((a, b) => byUtf8(b.sk, a.sk)).map((e) => e.customerId);

          const seen: string[] = [];
          let after: string | undefined;
          for (let page = 0; page <= expected.length + 1; page++) {
            const reads = { items: 0, calls: 0 };
            const readers = partitions.map((p) =>
              shardModel(byPartition.get(p) ?? [], after, (n) => shortPage(n), reads),
            );
            const result = await mergeShardsDescending(readers, limit, (entry) => entry.sk);
            seen.push(...result.items.map((e) => e.customerId));
            // A page is full unless it is the last; the last page says so (no empty trailing page).
            if (result.more) expect(result.items).toHaveLength(limit);
            else expect(seen).toHaveLength(expected.length);
            // Never more read from any shard in all than the page could need (limit + 1 per shard).
            expect(reads.items).toBeLessThanOrEqual(partitions.length * (limit + 1));
            if (!result.more) break;
            after = result.items.at(-1)!.sk;
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('orders sort keys as DynamoDB does (UTF-8 bytes), also where UTF-16 code units disagree', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareSortKeys(a, b))).toBe(Math.sign(byUtf8(a, b)));
      }),
      { numRuns: 2_000 },
    );
    // U+FF5E sorts before U+1F600 in UTF-8 although its UTF-16 unit is larger than the surrogate's.
    expect(compareSortKeys('\uff5e', '\u{1f600}')).toBeLessThan(0);
    expect('\uff5e' < '\u{1f600}').toBe(false);
  });

  it('asks each shard for about its share of a page first, all of it when unsharded', () => {
    expect(firstReadSize(101, 1)).toBe(101);
    expect(firstReadSize(101, 8)).toBe(Math.ceil((1.5 * 101) / 8) + 4);
    expect(firstReadSize(3, 8)).toBe(3);
  });
});

describe('index shard of a customer', () => {
  it('is FNV-1a of the UTF-8 bytes modulo the shard count, the same in every process', () => {
    // Reference values of 32-bit FNV-1a: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(indexShardOf('', 1_000_003)).toBe(0x811c9dc5 % 1_000_003);
    expect(indexShardOf('a', 1_000_003)).toBe(0xe40c292c % 1_000_003);
    expect(indexShardOf('foobar', 1_000_003)).toBe(0xbf9cf968 % 1_000_003);
    expect(indexShardOf('anything', 1)).toBe(0);
  });

  it('spreads sequential customer ids evenly over the shards', () => {
    for (const shards of [5, 8, 27]) {
      const counts = new Array<number>(shards).fill(0);
      for (let i = 0; i < 27_000; i++) counts[indexShardOf(`C${String(i).padStart(6, '0')}`, shards)]!++;
      const mean = 27_000 / shards;
      for (const count of counts) expect(Math.abs(count - mean) / mean).toBeLessThan(0.1);
    }
  });
});
