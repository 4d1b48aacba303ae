/** Score items of the runs on DynamoDB: batch writes, previous scores for migration, deletes. */
import type { PreviousScore, ScoreRepository } from '#app/ports/score-repository.ts';
import type { ChurnRisk } from '#domain/score.ts';
import { createBatchAccess, type DynamoTable } from './batch.ts';
import { scoreKey, segmentMemberKey, TABLE_KEYS } from './keys.ts';

export function createScoreRepository(table: DynamoTable): ScoreRepository {
  const batch = createBatchAccess(table);
  return {
    writeScores(scores, expiresAt) {
      return batch.batchWrite(
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

    async getPreviousScores(customerIds, runId) {
      const found = new Map<string, PreviousScore>();
      for (let i = 0; i < customerIds.length; i += 100) {
        const items = await batch.batchGet(
          customerIds.slice(i, i + 100).map((id) => scoreKey(id, runId)),
          {
            // `segment` is a DynamoDB reserved word.
            ProjectionExpression: 'customerId, #segment, churnRisk',
            ExpressionAttributeNames: { '#segment': 'segment' },
          },
          'previous scores',
        );
        for (const item of items) {
          found.set(item.customerId as string, {
            segment: item.segment as string,
            churnRisk: item.churnRisk as ChurnRisk,
          });
        }
      }
      return found;
    },

    deleteScores(customerIds, runId) {
      return batch.batchWrite(customerIds.map((id) => ({ DeleteRequest: { Key: scoreKey(id, runId) } })));
    },
  };
}
