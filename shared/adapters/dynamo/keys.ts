/**
 * Single-table key design (see README "DynamoDB key design"). Every item has `pk` and `sk`; items that
 * must be listed in an order other than by primary key also carry `gsi1pk`/`gsi1sk`. `expiresAt`
 * (epoch seconds) is the TTL attribute.
 *
 * | item                 | pk                      | sk                 | gsi1pk                      | gsi1sk                          |
 * |----------------------|-------------------------|--------------------|-----------------------------|---------------------------------|
 * | ingest report        | INGEST#<ingestId>       | REPORT             | INGESTS                     | <startedAt ISO>#<ingestId>      |
 * | run record           | RUN#<runId>             | META               | RUNS                        | <startedAt ISO>#<runId>         |
 * | current-run pointer  | POINTER                 | CURRENT_RUN        | –                           | –                               |
 * | recalculation lock   | LOCK                    | RECALC             | –                           | –                               |
 * | customer score       | CUST#<customerId>       | RUN#<runId>        | SEG#<runId>#<segment>[#<s>] | <clv sort key>#<customerId>     |
 * | (score, GSI2)        |                         |                    | gsi2pk ACT#<runId>#<action>[#<s>] | gsi2sk <value at stake sort key>#<customerId> |
 * | (score, GSI3, sparse)|                         |                    | gsi3pk LIST#<runId>#<list>  | gsi3sk <signed net CLV sort key>#<customerId> |
 * | suppressed customer  | SUPPRESS#<sha256(id)>   | ERASED             | –                           | –                               |
 *
 * `#<s>` is the index shard of a run written with `indexShards` S > 1 in its run record: s =
 * {@link indexShardOf}(customerId, S), 0 ≤ s < S, so one segment's writes spread over S partitions
 * (shared/domain/recalc/index-shards.ts). Runs with S = 1, and runs written before sharding (no
 * `indexShards`), have the key without a suffix.
 *
 * Reads this serves: one customer's current score = pointer (cached briefly) + one GetItem;
 * a customer's history = Query pk=CUST#id; a segment's customers by CLV = Query GSI1 descending on
 * each shard, merged by sort key (read-model.ts); a playbook audience by value at stake = the same
 * on GSI2 (a score is in one segment and one audience, so each listing needs its own index);
 * a run list (the high-value detractors) by net CLV = Query GSI3 descending (sparse, not sharded:
 * only listed scores carry gsi3pk, so the index holds just them, and erasing the score item removes
 * the customer from the list);
 * run metadata = GetItem; ingest reports newest first = Query GSI1 pk=INGESTS descending.
 */
import { HIGH_VALUE_DETRACTORS_LIST } from '#domain/economics/satisfaction.ts';

export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  gsi1Name: 'gsi1',
  gsi1PartitionKey: 'gsi1pk',
  gsi1SortKey: 'gsi1sk',
  gsi2Name: 'gsi2',
  gsi2PartitionKey: 'gsi2pk',
  gsi2SortKey: 'gsi2sk',
  gsi3Name: 'gsi3',
  gsi3PartitionKey: 'gsi3pk',
  gsi3SortKey: 'gsi3sk',
  ttlAttribute: 'expiresAt',
} as const;

export const ingestKey = (ingestId: string) => ({ pk: `INGEST#${ingestId}`, sk: 'REPORT' });
export const ingestListKey = (startedAt: string, ingestId: string) => ({
  gsi1pk: 'INGESTS',
  gsi1sk: `${startedAt}#${ingestId}`,
});

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'META' });
export const runListKey = (startedAt: string, runId: string) => ({
  gsi1pk: 'RUNS',
  gsi1sk: `${startedAt}#${runId}`,
});

export const currentRunPointerKey = () => ({ pk: 'POINTER', sk: 'CURRENT_RUN' });
export const recalcLockKey = () => ({ pk: 'LOCK', sk: 'RECALC' });

export const scoreKey = (customerId: string, runId: string) => ({
  pk: `CUST#${customerId}`,
  sk: `RUN#${runId}`,
});
export const customerPartition = (customerId: string) => `CUST#${customerId}`;

/** Largest CLV (in cents) the sort key can order; larger values sort as this value. */
const MAX_CLV_CENTS = 999_999_999_999_999;

/** `<zero-padded cents>#<customerId>`: string order equals numeric order, the id breaks ties. */
const amountSortKey = (amount: number, customerId: string) => {
  const cents = Math.min(MAX_CLV_CENTS, Math.max(0, Math.round(amount * 100)));
  return `${String(cents).padStart(15, '0')}#${customerId}`;
};

const UTF8 = new TextEncoder();

/**
 * The index shard of a customer in a run with `shards` shards: FNV-1a (32 bit) of the id's UTF-8
 * bytes, modulo the count. Stable across processes and versions (a reader and every writer of a run
 * must agree), cheap, and spread evenly enough for ids that share long prefixes.
 */
export function indexShardOf(customerId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of UTF8.encode(customerId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** The index partition of one shard: unsuffixed for an unsharded run (S = 1, or written before shards). */
const shardedPartition = (partition: string, shard: number, shards: number) =>
  shards > 1 ? `${partition}#${shard}` : partition;

/** Every index partition of a listing, one per shard (one, unsuffixed, when `shards` is 1). */
const allShards = (partition: string, shards: number) =>
  shards > 1 ? Array.from({ length: shards }, (_, shard) => `${partition}#${shard}`) : [partition];

/**
 * GSI1 key of a score: segment members sorted by CLV. The CLV is written as zero-padded cents so that
 * string order equals numeric order; the customer id breaks ties so pagination is stable. `shards` is
 * the run's index shard count (1 = the unsharded key).
 */
export const segmentMemberKey = (
  runId: string,
  segment: string,
  clv: number,
  customerId: string,
  shards = 1,
) => ({
  gsi1pk: shardedPartition(segmentPartition(runId, segment), indexShardOf(customerId, shards), shards),
  gsi1sk: amountSortKey(clv, customerId),
});
/** The segment's unsharded GSI1 key (the whole key of runs with one shard). */
export const segmentPartition = (runId: string, segment: string) => `SEG#${runId}#${segment}`;
/** The GSI1 keys of a segment, one per shard of the run. */
export const segmentPartitions = (runId: string, segment: string, shards: number) =>
  allShards(segmentPartition(runId, segment), shards);

/**
 * GSI2 key of a score: the members of a playbook audience sorted by value at stake, written like the
 * segment key (zero-padded cents, then the customer id, sharded alike), so the same cursor conventions
 * apply.
 */
export const actionMemberKey = (
  runId: string,
  action: string,
  valueAtStake: number,
  customerId: string,
  shards = 1,
) => ({
  gsi2pk: shardedPartition(actionPartition(runId, action), indexShardOf(customerId, shards), shards),
  gsi2sk: amountSortKey(valueAtStake, customerId),
});
/** The audience's unsharded GSI2 key (the whole key of runs with one shard). */
export const actionPartition = (runId: string, action: string) => `ACT#${runId}#${action}`;
/** The GSI2 keys of an audience, one per shard of the run. */
export const actionPartitions = (runId: string, action: string, shards: number) =>
  allShards(actionPartition(runId, action), shards);

/** The run lists a score can be on (GSI3). */
export const RUN_LISTS = [HIGH_VALUE_DETRACTORS_LIST] as const;
export type RunList = (typeof RUN_LISTS)[number];

/** Offset that makes a signed amount in cents a non-negative number of 16 digits. */
const SIGNED_OFFSET_CENTS = 1_000_000_000_000_000;

/**
 * GSI3 key of a score on a run list, sorted by net CLV. Net CLV may be negative, so the cents are
 * offset by 10^15 and zero-padded to 16 digits (string order = numeric order over ±10^15 cents); the
 * customer id breaks ties, as in the other listings.
 */
export const listMemberKey = (runId: string, list: RunList, netClv: number, customerId: string) => {
  const cents = Math.min(MAX_CLV_CENTS, Math.max(-MAX_CLV_CENTS, Math.round(netClv * 100)));
  return {
    gsi3pk: listPartition(runId, list),
    gsi3sk: `${String(cents + SIGNED_OFFSET_CENTS).padStart(16, '0')}#${customerId}`,
  };
};
export const listPartition = (runId: string, list: RunList) => `LIST#${runId}#${list}`;

export const suppressionKey = (customerIdHash: string) => ({
  pk: `SUPPRESS#${customerIdHash}`,
  sk: 'ERASED',
});

/** TTL value: epoch seconds `weeks` after `from` (a domain rule, re-exported for item writers). */
export { expiresAfterWeeks } from '#domain/recalc/settings.ts';

/**
 * Content marker: the first ingest of a given export content for a source. A second upload of the
 * same bytes (under any name, on any day) finds it and is recorded as a duplicate of that ingest.
 */
export const contentKey = (source: string, contentSha256: string) => ({
  pk: `CONTENT#${source}#${contentSha256}`,
  sk: 'INGEST',
});
