/**
 * How many shards a run's listing indexes get (segment members on GSI1, playbook audiences on GSI2).
 *
 * DynamoDB serves each partition key from one partition, and a partition takes at most 1,000 write
 * units per second, on a global secondary index as on the table. Every score item of a run writes
 * one entry under its segment's index key and one under its audience's: with one key per segment,
 * a large segment funnels the whole run's writes into one partition, the index falls behind and
 * DynamoDB throttles the table's writes until it catches up (index back-pressure). Splitting each
 * key into `shards` keys (a stable hash of the customer id picks one) divides that rate.
 *
 * The count is decided once per run, before scoring, from the number of customers, and recorded in
 * the run record: the writers put each customer under its shard and the readers query every shard.
 * docs/scale.md walks through the figures at 10 M customers.
 */

/** DynamoDB's write limit of one partition (write units per second), tables and indexes alike. */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1_000;

/**
 * The share of a partition's limit one index key may take: half, leaving room for the uneven spread
 * of a hash over few shards and for partitions that hold more than one key.
 */
export const KEY_WRITE_BUDGET_PER_SECOND = PARTITION_WRITE_UNITS_PER_SECOND / 2;

/**
 * Items one ScorePart writes per second at most: 4 BatchWriteItem calls of 25 items in flight,
 * each about 25 ms (the batch writer's settings; docs/scale.md, "Scoring Lambdas").
 */
export const SCORE_PART_WRITES_PER_SECOND = (4 * 25) / 0.025;

/** Customers per summary part the pipeline aims for (docs/scale.md): how many parts a run has. */
export const CUSTOMERS_PER_PART = 100_000;

/**
 * Items per second the whole table takes at most: 40,000 write units (the warm throughput
 * docs/scale.md asks for before a large run) over 3 units per score item (the item, its GSI1
 * entry and its GSI2 entry, each under 1 KB). The Map cannot write faster than this however many
 * parts run at once.
 */
export const TABLE_SCORE_WRITES_PER_SECOND = Math.floor(40_000 / 3);

/**
 * Upper bound of the shard count: a page reads every shard, so more shards cost reads. Reached only
 * if the table is given far more than the warm throughput above.
 */
export const MAX_INDEX_SHARDS = 64;

export interface IndexShardInput {
  /** Customers the run scores (the data profile's count). */
  customers: number;
  /** ScorePart invocations the Distributed Map runs at once (its MaxConcurrency). */
  scoreConcurrency: number;
}

/**
 * Writes per second one index key can receive in the worst case, when every customer of the run
 * falls into one segment (or one audience): the segment sizes are not known before scoring, and a
 * single segment holding most customers does happen (a "hibernating" majority, a `let-go` audience).
 * That is the Map's write rate, which is the part rate times the parts in flight (no more than the
 * run has parts), capped by the table's throughput — and never more than the run's customers,
 * since each customer is written once.
 */
export function peakKeyWritesPerSecond({ customers, scoreConcurrency }: IndexShardInput): number {
  if (customers <= 0) return 0;
  const parts = Math.ceil(customers / CUSTOMERS_PER_PART);
  const partsInFlight = Math.min(Math.max(1, Math.floor(scoreConcurrency)), parts);
  const mapWritesPerSecond = Math.min(
    partsInFlight * SCORE_PART_WRITES_PER_SECOND,
    TABLE_SCORE_WRITES_PER_SECOND,
  );
  return Math.min(mapWritesPerSecond, customers);
}

/**
 * The shard count of a run: enough shards that the worst-case key rate, split evenly, stays within
 * {@link KEY_WRITE_BUDGET_PER_SECOND}; 1 (the unsharded key) when the run is small enough.
 */
export function indexShardCount(input: IndexShardInput): number {
  const shards = Math.ceil(peakKeyWritesPerSecond(input) / KEY_WRITE_BUDGET_PER_SECOND);
  return Math.min(MAX_INDEX_SHARDS, Math.max(1, shards));
}
