/** Score items of the runs on DynamoDB: batch writes, previous scores for migration, deletes. */
import type { PreviousScore, ScoreRepository } from '#app/ports/score-repository.ts';
import { HIGH_VALUE_DETRACTORS_LIST } from '#domain/economics/satisfaction.ts';
import type { LadderState } from '#domain/playbook/playbook-config.ts';
import type { ChurnRisk } from '#domain/score.ts';
import { createBatchAccess, type DynamoTable } from './batch.ts';
import { actionMemberKey, listMemberKey, scoreKey, segmentMemberKey, TABLE_KEYS } from './keys.ts';

export function createScoreRepository(table: DynamoTable): ScoreRepository {
  const batch = createBatchAccess(table);
  return {
    writeScores(scores, expiresAt, indexShards = 1) {
      return batch.batchWrite(
        scores.map((score) => ({
          PutRequest: {
            Item: {
              ...scoreKey(score.customerId, score.runId),
              ...segmentMemberKey(score.runId, score.segment, score.clv, score.customerId, indexShards),
              ...(score.action === undefined
                ? {}
                : actionMemberKey(
                    score.runId,
                    score.action,
                    score.valueAtStake ?? 0,
                    score.customerId,
                    indexShards,
                  )),
              // Sparse GSI3: only listed customers carry the key, so the list is erased with the item.
              ...(score.economics?.highValueDetractor
                ? listMemberKey(
                    score.runId,
                    HIGH_VALUE_DETRACTORS_LIST,
                    score.economics.netClv,
                    score.customerId,
                  )
                : {}),
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
            // `segment` and `action` are DynamoDB reserved words.
            ProjectionExpression: 'customerId, #segment, churnRisk, clv, rung, ladderState, #action',
            ExpressionAttributeNames: { '#segment': 'segment', '#action': 'action' },
          },
          'previous scores',
        );
        for (const item of items) {
          found.set(item.customerId as string, {
            segment: item.segment as string,
            churnRisk: item.churnRisk as ChurnRisk,
            ...playbookFieldsOf(item),
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

/** The previous score's playbook fields, when it has them. */
function playbookFieldsOf(item: Record<string, unknown>): Omit<PreviousScore, 'segment' | 'churnRisk'> {
  if (typeof item.rung !== 'string' || typeof item.ladderState !== 'string') return {};
  return {
    rung: item.rung,
    ladderState: item.ladderState as LadderState,
    ...(typeof item.action === 'string' ? { action: item.action } : {}),
    ...(typeof item.clv === 'number' ? { clv: item.clv } : {}),
  };
}
