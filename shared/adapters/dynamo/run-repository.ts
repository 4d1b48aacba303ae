/**
 * Run records and the current-run pointer on DynamoDB. No transactions (the local stand-in has
 * none, and a run writes millions of items anyway): a run writes its scores, then its record, and
 * only then flips the pointer with one conditional write, so readers see a whole run or none.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PointerMovedError, type RunRepository } from '#app/ports/run-repository.ts';
import { runRecordSchema } from '#domain/run.ts';
import { type DynamoTable, isConditionFailed } from './batch.ts';
import { currentRunPointerKey, runKey, runListKey, TABLE_KEYS } from './keys.ts';

export function createRunRepository({ dynamo, table }: DynamoTable): RunRepository {
  const getCurrentRunId = async (): Promise<string | null> => {
    const got = await dynamo.send(
      new GetCommand({ TableName: table, Key: currentRunPointerKey(), ConsistentRead: true }),
    );
    return (got.Item?.runId as string | undefined) ?? null;
  };
  return {
    getCurrentRunId,

    async flipCurrentRun(runId, expectedPreviousRunId, publishedAt) {
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
        if ((await getCurrentRunId()) === runId) return;
        throw new PointerMovedError(
          `Run ${runId} was not published: the current run is no longer ${expectedPreviousRunId ?? '(none)'}; another run published while this one ran.`,
        );
      }
    },

    async putRunRecord(record, expiresAt) {
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

    async getRunRecord(runId) {
      const got = await dynamo.send(
        new GetCommand({ TableName: table, Key: runKey(runId), ConsistentRead: true }),
      );
      if (!got.Item) return null;
      const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt: _e, ...record } = got.Item;
      return runRecordSchema.parse(record);
    },
  };
}
