/**
 * Batch access shared by the DynamoDB repositories: BatchWriteItem and BatchGetItem with
 * UnprocessedItems/UnprocessedKeys and throttling retried (exponential backoff, full jitter), and
 * paged queries.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BatchWriteStats } from '#app/ports/score-repository.ts';
import { CvmError } from '#domain/errors.ts';

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

/** What every repository is built from. */
export interface DynamoTable {
  dynamo: DynamoDBDocumentClient;
  table: string;
  retry?: RetryOptions;
}

export type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

export const isThrottling = (error: unknown) =>
  THROTTLING_ERRORS.has((error as { name?: string }).name ?? '');
export const isConditionFailed = (error: unknown) =>
  (error as { name?: string }).name === 'ConditionalCheckFailedException';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * DynamoDB kept throttling a batch through every retry. Its name is what Step Functions sees as the
 * error, so the state machine can retry the whole (repeatable) step later.
 */
export class DynamoThrottledError extends CvmError {
  override readonly name = 'DynamoThrottledError';
  readonly code = 'dynamo_throttled';
}

export function createBatchAccess({ dynamo, table, retry }: DynamoTable) {
  const maxAttempts = retry?.maxAttempts ?? 12;
  const baseDelayMs = retry?.baseDelayMs ?? 50;
  const concurrency = retry?.concurrency ?? 4;
  const sleep = retry?.sleep ?? defaultSleep;
  const backoff = (attempt: number) => sleep(Math.random() * Math.min(5000, baseDelayMs * 2 ** attempt));

  /** One BatchWriteItem batch (≤ 25), repeated until nothing is left unprocessed. */
  async function writeBatch(requests: WriteRequest[], stats: BatchWriteStats): Promise<void> {
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) {
        throw new DynamoThrottledError(
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

  return {
    /** Writes in batches of 25, a few batches in flight at once. */
    async batchWrite(requests: WriteRequest[]): Promise<BatchWriteStats> {
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
    },

    /** One BatchGetItem (≤ 100 keys), unprocessed keys and throttling retried; returns the items. */
    async batchGet(
      keys: Record<string, unknown>[],
      projection: { ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> },
      what: string,
    ): Promise<Record<string, unknown>[]> {
      const items: Record<string, unknown>[] = [];
      let pending = keys;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= maxAttempts) {
          throw new DynamoThrottledError(
            `DynamoDB table ${table}: ${what} still unprocessed after ${maxAttempts} attempts (throttled)`,
          );
        }
        if (attempt > 0) await backoff(attempt);
        try {
          const result = await dynamo.send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ...projection } } }),
          );
          items.push(...((result.Responses?.[table] ?? []) as Record<string, unknown>[]));
          pending = (result.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
        } catch (error) {
          if (!isThrottling(error)) throw error;
        }
      }
      return items;
    },

    /** Pages through a query, following LastEvaluatedKey. */
    async queryAll(input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>) {
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await dynamo.send(
          new QueryCommand({ ...input, TableName: table, ExclusiveStartKey: startKey }),
        );
        items.push(...((page.Items ?? []) as Record<string, unknown>[]));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return items;
    },
  };
}
