/**
 * The scores API's read side of the single table: current run, scores, history, segment members and
 * ingest reports as validated domain values, with a cached run pointer and paged listings.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type IngestReport, ingestReportSchema } from '#domain/ingest-report.ts';
import { type RunRecord, runRecordSchema } from '#domain/run.ts';
import { type CustomerScore, customerScoreSchema } from '#domain/score.ts';
import type { AwsClients } from '../aws-clients.ts';
import {
  actionPartitions,
  currentRunPointerKey,
  customerPartition,
  ingestKey,
  listPartition,
  type RunList,
  runKey,
  scoreKey,
  segmentPartitions,
  TABLE_KEYS,
} from './keys.ts';
import { mergeShardsDescending, type ShardRead } from './shard-merge.ts';

/**
 * Read side of the single table, as the scores API needs it. Items are validated with the domain
 * schemas when they leave DynamoDB (an edge), so callers get plain domain values without key attributes.
 */
export interface ScoreReadModel {
  /** Run id the current-run pointer names, from a short in-memory cache; null before the first publish. */
  currentRunId(): Promise<string | null>;
  getScore(customerId: string, runId: string): Promise<CustomerScore | null>;
  /** Scores of up to 100 customers in one run; ids without a score are absent from the map. */
  getScores(customerIds: readonly string[], runId: string): Promise<Map<string, CustomerScore>>;
  /**
   * The customer's scores of published runs, oldest run first. Scores a run wrote before it failed
   * or was aborted (or while it is still running) are left out: readers never saw that run.
   */
  getCustomerHistory(customerId: string): Promise<CustomerScore[]>;
  getRun(runId: string): Promise<RunRecord | null>;
  getIngest(ingestId: string): Promise<IngestReport | null>;
  /**
   * A segment's customers, CLV descending; `after` is the `position` of the last item already seen.
   * `indexShards` is the run's shard count (`indexShardsOf(run)`): a wrong count misses customers.
   */
  listSegmentMembers(query: {
    runId: string;
    segment: string;
    limit: number;
    after?: string;
    indexShards: number;
  }): Promise<Page<CustomerScore>>;
  /** A playbook audience's customers, value at stake descending; `after` and shards as for segments. */
  listAudienceMembers(query: {
    runId: string;
    action: string;
    limit: number;
    after?: string;
    indexShards: number;
  }): Promise<Page<CustomerScore>>;
  /** A run list's customers (GSI3), net CLV descending; `after` as for segments. */
  listRunListMembers(query: {
    runId: string;
    list: RunList;
    limit: number;
    after?: string;
  }): Promise<Page<CustomerScore>>;
  /** Ingest reports, newest first. */
  listIngests(query: { limit: number; after?: string }): Promise<Page<IngestReport>>;
}

/** The indexes scores are listed by: segments (GSI1), audiences (GSI2), run lists (GSI3). */
type ScoreIndex = 'gsi1' | 'gsi2' | 'gsi3';
const INDEX_KEYS: Record<ScoreIndex, { indexName: string; partitionKey: string; sortKey: string }> = {
  gsi1: {
    indexName: TABLE_KEYS.gsi1Name,
    partitionKey: TABLE_KEYS.gsi1PartitionKey,
    sortKey: TABLE_KEYS.gsi1SortKey,
  },
  gsi2: {
    indexName: TABLE_KEYS.gsi2Name,
    partitionKey: TABLE_KEYS.gsi2PartitionKey,
    sortKey: TABLE_KEYS.gsi2SortKey,
  },
  gsi3: {
    indexName: TABLE_KEYS.gsi3Name,
    partitionKey: TABLE_KEYS.gsi3PartitionKey,
    sortKey: TABLE_KEYS.gsi3SortKey,
  },
};

/**
 * One page of a listing. `nextPosition` is the GSI sort key of the last item returned when more items
 * follow (the caller wraps it into an opaque cursor), and null on the last page.
 */
export interface Page<T> {
  items: T[];
  nextPosition: string | null;
}

export interface ReadModelOptions {
  /** How long the current-run pointer is cached; a publish becomes visible at most this much later. */
  pointerTtlMs?: number;
  /** Clock, for tests of the pointer cache. */
  now?: () => number;
}

/** Pointer cache lifetime: short enough that a publish shows within seconds, long enough to save a read per request. */
export const DEFAULT_POINTER_TTL_MS = 3_000;

const BATCH_GET_LIMIT = 100;

/** Largest page DynamoDB is asked for; listing APIs cap their `limit` below this. */
const MAX_QUERY_PAGE = 1_001;

export function createScoreReadModel(
  clients: Pick<AwsClients, 'dynamo' | 'rawDynamo'>,
  table: string,
  options: ReadModelOptions = {},
): ScoreReadModel {
  const { dynamo, rawDynamo } = clients;

  /**
   * Single-item reads are one per API request, so they go through the low-level client with its
   * middleware stack resolved once (about a sixth of the API's CPU per request, measured), converting
   * attribute values exactly as the document client does (`unmarshall` with its default options).
   */
  async function getItem(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    const got = await rawDynamo.send(new GetItemCommand({ TableName: table, Key: marshall(key) }));
    return got.Item ? unmarshall(got.Item) : undefined;
  }

  const pointer = createPointerCache(
    async () => {
      const runId = (await getItem(currentRunPointerKey()))?.runId;
      return typeof runId === 'string' && runId !== '' ? runId : null;
    },
    options.pointerTtlMs ?? DEFAULT_POINTER_TTL_MS,
    options.now ?? Date.now,
  );

  /**
   * Queries GSI1 descending until `limit` items are collected or the partition ends. One item more than
   * asked is read so that the last page is known to be last (no empty trailing page); DynamoDB may stop a
   * page early at 1 MB, hence the loop.
   */
  async function queryGsiDescending(
    partition: string,
    limit: number,
    startKey: Record<string, string> | undefined,
    index: ScoreIndex = 'gsi1',
  ): Promise<{ items: Record<string, unknown>[]; more: boolean }> {
    const { indexName, partitionKey } = INDEX_KEYS[index];
    const items: Record<string, unknown>[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined = startKey;
    do {
      const page = await dynamo.send(
        new QueryCommand({
          TableName: table,
          IndexName: indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': partitionKey },
          ExpressionAttributeValues: { ':pk': partition },
          ScanIndexForward: false,
          Limit: Math.min(MAX_QUERY_PAGE, limit + 1 - items.length),
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey && items.length <= limit);
    const more = items.length > limit;
    return { items: items.slice(0, limit), more };
  }

  const lastPosition = (
    items: Record<string, unknown>[],
    more: boolean,
    sortKey: string = TABLE_KEYS.gsi1SortKey,
  ) => (more ? String(items[items.length - 1]?.[sortKey]) : null);

  /**
   * One page of a run's scores listed by an index (a segment by CLV on GSI1, an audience by value at
   * stake on GSI2), descending: every shard's partition is read from just below `after` (the index
   * sort key of the last item seen) and the shards are merged by sort key, so a page is the same
   * whether the run has one shard or many.
   */
  async function listRunScores(
    index: ScoreIndex,
    partitions: readonly string[],
    limit: number,
    after: string | undefined,
  ): Promise<Page<CustomerScore>> {
    const { indexName, partitionKey, sortKey } = INDEX_KEYS[index];
    const readShard =
      (partition: string): ShardRead<Record<string, unknown>, Record<string, unknown>> =>
      async (size, next) => {
        const page = await dynamo.send(
          new QueryCommand({
            TableName: table,
            IndexName: indexName,
            // Sort keys are unique within a listing (they end with the customer id), so "below the
            // cursor's sort key" is the same position in every shard.
            KeyConditionExpression: after === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :after',
            ExpressionAttributeNames: {
              '#pk': partitionKey,
              ...(after === undefined ? {} : { '#sk': sortKey }),
            },
            ExpressionAttributeValues: {
              ':pk': partition,
              ...(after === undefined ? {} : { ':after': after }),
            },
            ScanIndexForward: false,
            Limit: Math.min(MAX_QUERY_PAGE, size),
            ExclusiveStartKey: next,
          }),
        );
        return {
          items: page.Items ?? [],
          ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
        };
      };
    const { items, more } = await mergeShardsDescending(partitions.map(readShard), limit, (item) =>
      String(item[sortKey]),
    );
    return {
      items: items.map((item) => customerScoreSchema.parse(item)),
      nextPosition: lastPosition(items, more, sortKey),
    };
  }

  /** Which of these runs are published (their run record says so), read in batches of 100. */
  async function publishedRuns(runIds: ReadonlySet<string>): Promise<Set<string>> {
    const published = new Set<string>();
    const ids = [...runIds];
    for (let start = 0; start < ids.length; start += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = ids.slice(start, start + BATCH_GET_LIMIT).map((id) => runKey(id));
      while (keys.length > 0) {
        const got = await dynamo.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ProjectionExpression: 'runId, #status',
                ExpressionAttributeNames: { '#status': 'status' },
              },
            },
          }),
        );
        for (const item of got.Responses?.[table] ?? []) {
          if (item.status === 'published' && typeof item.runId === 'string') published.add(item.runId);
        }
        keys = got.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
    return published;
  }

  return {
    currentRunId: () => pointer.get(),

    async getScore(customerId, runId) {
      const item = await getItem(scoreKey(customerId, runId));
      return item ? customerScoreSchema.parse(item) : null;
    },

    async getScores(customerIds, runId) {
      if (customerIds.length > BATCH_GET_LIMIT) {
        throw new Error(`getScores takes at most ${BATCH_GET_LIMIT} ids, got ${customerIds.length}`);
      }
      // BatchGetItem rejects duplicate keys, so each id is asked for once.
      let keys: Record<string, unknown>[] = [...new Set(customerIds)].map((id) => scoreKey(id, runId));
      const found = new Map<string, CustomerScore>();
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1_000, 25 * 2 ** attempt));
        if (attempt > 8) throw new Error('DynamoDB kept returning unprocessed keys for a batch of scores');
        const got = await dynamo.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }));
        for (const item of got.Responses?.[table] ?? []) {
          const score = customerScoreSchema.parse(item);
          found.set(score.customerId, score);
        }
        keys = got.UnprocessedKeys?.[table]?.Keys ?? [];
      }
      return found;
    },

    async getCustomerHistory(customerId) {
      const scores: CustomerScore[] = [];
      let exclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await dynamo.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :run)',
            ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey, '#sk': TABLE_KEYS.sortKey },
            ExpressionAttributeValues: { ':pk': customerPartition(customerId), ':run': 'RUN#' },
            ExclusiveStartKey: exclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) scores.push(customerScoreSchema.parse(item));
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey);
      const published = await publishedRuns(new Set(scores.map((s) => s.runId)));
      // Run ids need not sort by time; the as-of date and scoring time do.
      return scores
        .filter((s) => published.has(s.runId))
        .sort((a, b) => a.asOf.localeCompare(b.asOf) || a.computedAt.localeCompare(b.computedAt));
    },

    async getRun(runId) {
      const item = await getItem(runKey(runId));
      return item ? runRecordSchema.parse(item) : null;
    },

    async getIngest(ingestId) {
      const item = await getItem(ingestKey(ingestId));
      return item ? ingestReportSchema.parse(item) : null;
    },

    listSegmentMembers({ runId, segment, limit, after, indexShards }) {
      return listRunScores('gsi1', segmentPartitions(runId, segment, indexShards), limit, after);
    },

    listAudienceMembers({ runId, action, limit, after, indexShards }) {
      return listRunScores('gsi2', actionPartitions(runId, action, indexShards), limit, after);
    },

    listRunListMembers({ runId, list, limit, after }) {
      return listRunScores('gsi3', [listPartition(runId, list)], limit, after);
    },

    async listIngests({ limit, after }) {
      const startKey =
        after === undefined
          ? undefined
          : {
              ...ingestKey(idAfterFirstHash(after)),
              [TABLE_KEYS.gsi1PartitionKey]: 'INGESTS',
              [TABLE_KEYS.gsi1SortKey]: after,
            };
      const { items, more } = await queryGsiDescending('INGESTS', limit, startKey);
      return {
        items: items.map((item) => ingestReportSchema.parse(item)),
        nextPosition: lastPosition(items, more),
      };
    },
  };
}

/**
 * GSI1 sort keys are `<ordering prefix>#<id>` (see keys.ts) and the prefixes (zero-padded cents, ISO
 * timestamps) never contain `#`, so the id is everything after the first `#`, even if it holds `#` itself.
 */
export function idAfterFirstHash(sortKey: string): string {
  const at = sortKey.indexOf('#');
  if (at < 0) throw new Error(`Not a GSI1 sort key: ${sortKey}`);
  return sortKey.slice(at + 1);
}

export interface PointerCache {
  get(): Promise<string | null>;
}

/**
 * Caches the current-run pointer for `ttlMs`. Concurrent misses share one read, so a burst of requests
 * after expiry costs one GetItem, not one per request. A failed read is not cached.
 */
export function createPointerCache(
  load: () => Promise<string | null>,
  ttlMs: number,
  now: () => number = Date.now,
): PointerCache {
  let value: string | null = null;
  let loadedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<string | null> | undefined;
  return {
    get() {
      if (now() - loadedAt < ttlMs) return Promise.resolve(value);
      if (!inFlight) {
        inFlight = load().then(
          (loaded) => {
            value = loaded;
            loadedAt = now();
            inFlight = undefined;
            return loaded;
          },
          (error: unknown) => {
            inFlight = undefined;
            throw error;
          },
        );
      }
      return inFlight;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
