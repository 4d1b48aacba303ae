/** The recalculation lock on DynamoDB: one conditional item `LOCK / RECALC` with a lease. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type RecalcLock, RecalcLockedError } from '#app/ports/recalc-lock.ts';
import { type DynamoTable, isConditionFailed } from './batch.ts';
import { recalcLockKey, TABLE_KEYS } from './keys.ts';

export function createRecalcLock({ dynamo, table }: DynamoTable): RecalcLock {
  return {
    async acquire(runId, now, leaseMinutes) {
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
