/**
 * DynamoDB side of the recalculation: the run lock, run records, the current-run pointer, score
 * snapshots, the suppression list and erasure. Keys come from `keys.ts`.
 *
 * No transactions (the local stand-in has none, and a run writes millions of items anyway): a run
 * writes all its score items under its own run id first, then its run record, and only then flips
 * the pointer with one conditional write. Readers follow the pointer, so they see either the whole
 * previous run or the whole new one.
 */

import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { hashCustomerId } from '../../app/customer-id-hash.ts';
import { CvmError } from '../../domain/errors.ts';
import { type RunRecord, runRecordSchema } from '../../domain/run.ts';
import { type ChurnRisk, type CustomerScore, customerScoreSchema } from '../../domain/score.ts';
import {
  currentRunPointerKey,
  customerPartition,
  recalcLockKey,
  runKey,
  runListKey,
  scoreKey,
  segmentMemberKey,
  suppressionKey,
  TABLE_KEYS,
} from './keys.ts';

/**
 * GSI1 listing of the suppression list, so a run reads every suppressed hash with one Query instead
 * of a table scan or a lookup per customer. Follows the INGESTS/RUNS listing pattern of `keys.ts`.
 */
export const suppressionListKey = (customerIdHash: string) => ({
  gsi1pk: 'SUPPRESSED',
  gsi1sk: customerIdHash,
});

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

/** The pointer moved since this run read it: another run published in between. */
export class PointerMovedError extends CvmError {
  override readonly name = 'PointerMovedError';
  readonly code = 'pointer_moved';
}

export interface BatchWriteStats {
  items: number;
  /** BatchWriteItem calls, retries included. */
  calls: number;
  /** Calls repeated because of UnprocessedItems or throttling. */
  retries: number;
}

export interface RetryOptions {
  /** Attempts per batch before giving up. @default 12 */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt with full jitter, capped at 5 s. @default 50 */
  baseDelayMs?: number;
  /** Batches in flight at once. @default 4 */
  concurrency?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RunStoreDeps {
  dynamo: DynamoDBDocumentClient;
  table: string;
  retry?: RetryOptions;
}

/** The part of a previous score that migration and change detection need. */
export interface PreviousScore {
  segment: string;
  churnRisk: ChurnRisk;
}

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

const isThrottling = (error: unknown) => THROTTLING_ERRORS.has((error as { name?: string }).name ?? '');
const isConditionFailed = (error: unknown) =>
  (error as { name?: string }).name === 'ConditionalCheckFailedException';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRunStore(deps: RunStoreDeps) {
  const { dynamo, table } = deps;
  const maxAttempts = deps.retry?.maxAttempts ?? 12;
  const baseDelayMs = deps.retry?.baseDelayMs ?? 50;
  const concurrency = deps.retry?.concurrency ?? 4;
  const sleep = deps.retry?.sleep ?? defaultSleep;
  const backoff = (attempt: number) => sleep(Math.random() * Math.min(5000, baseDelayMs * 2 ** attempt));

  type WriteRequest =
    | { PutRequest: { Item: Record<string, unknown> } }
    | { DeleteRequest: { Key: Record<string, unknown> } };

  /** One BatchWriteItem batch (≤ 25), repeated until nothing is left unprocessed. */
  async function writeBatch(requests: WriteRequest[], stats: BatchWriteStats): Promise<void> {
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) {
        throw new Error(
          `DynamoDB table ${table}: ${pending.length} items still unprocessed after ${maxAttempts} BatchWriteItem attempts (throttled); nothing was lost, re-run the step to finish`,
        );
      }
      if (attempt > 0) {
        stats.retries++;
        await backoff(attempt);
      }
      stats.calls++;
      try {
        const result = await dynamo.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = (result.UnprocessedItems?.[table] ?? []) as WriteRequest[];
      } catch (error) {
        if (!isThrottling(error)) throw error;
      }
    }
  }

  async function batchWrite(requests: WriteRequest[]): Promise<BatchWriteStats> {
    const stats: BatchWriteStats = { items: requests.length, calls: 0, retries: 0 };
    const batches: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
    let next = 0;
    const workers = Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        await writeBatch(batch, stats);
      }
    });
    await Promise.all(workers);
    return stats;
  }

  /** Pages through a query, following LastEvaluatedKey. */
  async function queryAll(input: ConstructorParameters<typeof QueryCommand>[0]) {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  return {
    /**
     * Takes the recalculation lock for `runId` with a lease: a run that dies without releasing it
     * blocks others only until the lease ends. Throws {@link RecalcLockedError} when it is held.
     */
    async acquireLock(runId: string, now: Date, leaseMinutes: number): Promise<void> {
      const leaseUntil = new Date(now.getTime() + leaseMinutes * 60_000);
      try {
        await dynamo.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...recalcLockKey(),
              runId,
              acquiredAt: now.toISOString(),
              leaseUntil: leaseUntil.toISOString(),
              leaseUntilEpoch: Math.floor(leaseUntil.getTime() / 1000),
              [TABLE_KEYS.ttlAttribute]: Math.floor(leaseUntil.getTime() / 1000) + 86_400,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntilEpoch < :now OR runId = :runId',
            ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000), ':runId': runId },
          }),
        );
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const held = await dynamo.send(new GetCommand({ TableName: table, Key: recalcLockKey() }));
        const item = held.Item as { runId: string; acquiredAt: string; leaseUntil: string } | undefined;
        throw new RecalcLockedError(
          item ? { runId: item.runId, acquiredAt: item.acquiredAt, leaseUntil: item.leaseUntil } : null,
          runId,
        );
      }
    },

    /** Releases the lock if `runId` holds it; returns whether it did. */
    async releaseLock(runId: string): Promise<boolean> {
      try {
        await dynamo.send(
          new PutCommand({
            TableName: table,
            // Overwrite with an already expired lease instead of deleting, keeping who held it last.
            Item: {
              ...recalcLockKey(),
              runId,
              acquiredAt: new Date(0).toISOString(),
              leaseUntil: new Date(0).toISOString(),
              leaseUntilEpoch: 0,
              releasedAt: new Date().toISOString(),
            },
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: { ':runId': runId },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async getCurrentRunId(): Promise<string | null> {
      const got = await dynamo.send(
        new GetCommand({ TableName: table, Key: currentRunPointerKey(), ConsistentRead: true }),
      );
      return (got.Item?.runId as string | undefined) ?? null;
    },

    /**
     * Points readers at `runId`, provided the pointer still names `expectedPreviousRunId` (what the
     * run saw when it started); one conditional PutItem, so it is all or nothing.
     */
    async flipCurrentRun(
      runId: string,
      expectedPreviousRunId: string | null,
      publishedAt: Date,
    ): Promise<void> {
      try {
        await dynamo.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...currentRunPointerKey(),
              runId,
              previousRunId: expectedPreviousRunId,
              publishedAt: publishedAt.toISOString(),
            },
            ...(expectedPreviousRunId === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: 'runId = :previous',
                  ExpressionAttributeValues: { ':previous': expectedPreviousRunId },
                }),
          }),
        );
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        // A retried publish finds its own run already current: done, not a conflict.
        const current = await dynamo.send(
          new GetCommand({ TableName: table, Key: currentRunPointerKey(), ConsistentRead: true }),
        );
        if (current.Item?.runId === runId) return;
        throw new PointerMovedError(
          `Run ${runId} was not published: the current run is no longer ${expectedPreviousRunId ?? '(none)'}; another run published while this one ran.`,
        );
      }
    },

    async putRunRecord(record: RunRecord, expiresAt: number): Promise<void> {
      const valid = runRecordSchema.parse(record);
      await dynamo.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...runKey(valid.runId),
            ...runListKey(valid.startedAt, valid.runId),
            ...valid,
            [TABLE_KEYS.ttlAttribute]: expiresAt,
          },
        }),
      );
    },

    async getRunRecord(runId: string): Promise<RunRecord | null> {
      const got = await dynamo.send(
        new GetCommand({ TableName: table, Key: runKey(runId), ConsistentRead: true }),
      );
      if (!got.Item) return null;
      const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, ...record } = got.Item;
      return runRecordSchema.parse(record);
    },

    /** Writes score items (BatchWriteItem, UnprocessedItems and throttling retried with backoff). */
    async writeScores(scores: readonly CustomerScore[], expiresAt: number): Promise<BatchWriteStats> {
      return batchWrite(
        scores.map((score) => ({
          PutRequest: {
            Item: {
              ...scoreKey(score.customerId, score.runId),
              ...segmentMemberKey(score.runId, score.segment, score.clv, score.customerId),
              ...score,
              [TABLE_KEYS.ttlAttribute]: expiresAt,
            },
          },
        })),
      );
    },

    /** A customer's score in one run, or null. */
    async getScore(customerId: string, runId: string): Promise<CustomerScore | null> {
      const got = await dynamo.send(new GetCommand({ TableName: table, Key: scoreKey(customerId, runId) }));
      if (!got.Item) return null;
      const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, ...score } = got.Item;
      return customerScoreSchema.parse(score);
    },

    /** Segment and churn band of each customer in `runId` (absent when the customer had no score). */
    async getPreviousScores(
      customerIds: readonly string[],
      runId: string,
    ): Promise<Map<string, PreviousScore>> {
      const found = new Map<string, PreviousScore>();
      for (let i = 0; i < customerIds.length; i += 100) {
        let keys: Record<string, unknown>[] = customerIds.slice(i, i + 100).map((id) => scoreKey(id, runId));
        for (let attempt = 0; keys.length > 0; attempt++) {
          if (attempt >= maxAttempts) {
            throw new Error(
              `DynamoDB table ${table}: previous scores still unprocessed after ${maxAttempts} attempts`,
            );
          }
          if (attempt > 0) await backoff(attempt);
          try {
            const result = await dynamo.send(
              new BatchGetCommand({
                RequestItems: {
                  [table]: {
                    Keys: keys,
                    // `segment` is a DynamoDB reserved word.
                    ProjectionExpression: 'customerId, #segment, churnRisk',
                    ExpressionAttributeNames: { '#segment': 'segment' },
                  },
                },
              }),
            );
            for (const item of result.Responses?.[table] ?? []) {
              found.set(item.customerId as string, {
                segment: item.segment as string,
                churnRisk: item.churnRisk as ChurnRisk,
              });
            }
            keys = (result.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
          } catch (error) {
            if (!isThrottling(error)) throw error;
          }
        }
      }
      return found;
    },

    /** Every suppressed customer-id hash (the list is small: erasure requests). */
    async listSuppressedHashes(): Promise<string[]> {
      const items = await queryAll({
        TableName: table,
        IndexName: TABLE_KEYS.gsi1Name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'SUPPRESSED' },
      });
      return items.map((item) => item.customerIdHash as string);
    },

    async isSuppressed(customerId: string): Promise<boolean> {
      const got = await dynamo.send(
        new GetCommand({ TableName: table, Key: suppressionKey(hashCustomerId(customerId)) }),
      );
      return got.Item !== undefined;
    },

    /**
     * Erases a customer: adds the hashed id to the suppression list first (so runs and ingests from
     * now on leave the customer out), then deletes every score item of the customer in every run.
     * Returns how many score items were deleted. Idempotent.
     */
    async eraseCustomer(
      customerId: string,
      now: Date,
    ): Promise<{ customerIdHash: string; deletedScores: number }> {
      if (customerId.trim() === '') throw new Error('customer id to erase must not be empty');
      const customerIdHash = hashCustomerId(customerId);
      await dynamo.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...suppressionKey(customerIdHash),
            ...suppressionListKey(customerIdHash),
            customerIdHash,
            erasedAt: now.toISOString(),
          },
        }),
      );
      const items = await queryAll({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': customerPartition(customerId) },
        ProjectionExpression: 'pk, sk',
      });
      await batchWrite(items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })));
      return { customerIdHash, deletedScores: items.length };
    },

    /** Deletes the given customers' items of one run (erasures that raced with that run). */
    async deleteScores(customerIds: readonly string[], runId: string): Promise<BatchWriteStats> {
      return batchWrite(customerIds.map((id) => ({ DeleteRequest: { Key: scoreKey(id, runId) } })));
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;
