/** The recalculation lock on DynamoDB: one conditional item `LOCK / RECALC` with a lease. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type RecalcLock, RecalcLockedError } from '#app/ports/recalc-lock.ts';
import { type DynamoTable, isConditionFailed } from './batch.ts';
import { recalcLockKey, TABLE_KEYS } from './keys.ts';

export interface RecalcLockOptions {
  /** Recorded with the lock, e.g. `local:<host>:<pid>`. */
  holder?: string;
  /** Whether a recorded holder is known to be gone (a killed local process): its lock is taken over. */
  isHolderGone?: (holder: string) => boolean;
}

export function createRecalcLock(
  { dynamo, table }: DynamoTable,
  options: RecalcLockOptions = {},
): RecalcLock {
  return {
    async acquire(runId, now, leaseMinutes, holder = options.holder) {
      const leaseUntil = new Date(now.getTime() + leaseMinutes * 60_000);
      // The lock item as this run holds it: the same whether taken, renewed or taken over.
      const held = {
        ...recalcLockKey(),
        runId,
        acquiredAt: now.toISOString(),
        leaseUntil: leaseUntil.toISOString(),
        leaseUntilEpoch: Math.floor(leaseUntil.getTime() / 1000),
        [TABLE_KEYS.ttlAttribute]: Math.floor(leaseUntil.getTime() / 1000) + 86_400,
        ...(holder ? { holder } : {}),
      };
      try {
        const put = await dynamo.send(
          new PutCommand({
            TableName: table,
            Item: held,
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntilEpoch < :now OR runId = :runId',
            ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000), ':runId': runId },
            ReturnValues: 'ALL_OLD',
          }),
        );
        // Another run's lock whose lease ran out without a release: that run ended unfinished
        // (killed, timed out, stopped), and its record must not say "running" forever.
        const before = put.Attributes as { runId?: string; releasedAt?: string } | undefined;
        if (before?.runId && before.runId !== runId && !before.releasedAt) {
          return { tookOverFrom: before.runId, tookOverBecause: 'lease-expired' };
        }
        return {};
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const current = await dynamo.send(
          new GetCommand({ TableName: table, Key: recalcLockKey(), ConsistentRead: true }),
        );
        const item = current.Item as
          | { runId: string; acquiredAt: string; leaseUntil: string; holder?: string }
          | undefined;
        if (item?.holder && options.isHolderGone?.(item.holder)) {
          // The process that holds the lock was killed: take it over now, conditional on that same
          // holder still holding it, instead of waiting out its lease.
          try {
            await dynamo.send(
              new PutCommand({
                TableName: table,
                Item: held,
                ConditionExpression: 'runId = :held AND holder = :holder',
                ExpressionAttributeValues: { ':held': item.runId, ':holder': item.holder },
              }),
            );
            return { tookOverFrom: item.runId, tookOverBecause: 'holder-gone' };
          } catch (takeoverError) {
            if (!isConditionFailed(takeoverError)) throw takeoverError;
          }
        }
        throw new RecalcLockedError(
          item ? { runId: item.runId, acquiredAt: item.acquiredAt, leaseUntil: item.leaseUntil } : null,
          runId,
        );
      }
    },

    async current() {
      const got = await dynamo.send(
        new GetCommand({ TableName: table, Key: recalcLockKey(), ConsistentRead: true }),
      );
      const item = got.Item as
        | { runId: string; holder?: string; leaseUntil: string; releasedAt?: string }
        | undefined;
      if (!item) return null;
      return {
        runId: item.runId,
        ...(item.holder ? { holder: item.holder } : {}),
        leaseUntil: item.leaseUntil,
        released: item.releasedAt !== undefined,
      };
    },

    async release(runId) {
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
  };
}
