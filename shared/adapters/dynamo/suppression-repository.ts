/**
 * The suppression list (erased customers, by hashed id) and erasure on DynamoDB: suppress first,
 * then delete the customer's score items in every run.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { hashCustomerId } from '#app/customer-id-hash.ts';
import type { SuppressionRepository } from '#app/ports/suppression-repository.ts';
import { createBatchAccess, type DynamoTable } from './batch.ts';
import { customerPartition, suppressionKey, TABLE_KEYS } from './keys.ts';

/**
 * GSI1 listing of the suppression list, so a run reads every suppressed hash with one Query instead
 * of a table scan or a lookup per customer. Follows the INGESTS/RUNS listing pattern of `keys.ts`.
 */
export const suppressionListKey = (customerIdHash: string) => ({
  gsi1pk: 'SUPPRESSED',
  gsi1sk: customerIdHash,
});

export function createSuppressionRepository(target: DynamoTable): SuppressionRepository {
  const { dynamo, table } = target;
  const batch = createBatchAccess(target);
  return {
    async listSuppressedHashes() {
      const items = await batch.queryAll({
        IndexName: TABLE_KEYS.gsi1Name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'SUPPRESSED' },
      });
      return items.map((item) => item.customerIdHash as string);
    },

    async isSuppressed(customerId) {
      const got = await dynamo.send(
        new GetCommand({ TableName: table, Key: suppressionKey(hashCustomerId(customerId)) }),
      );
      return got.Item !== undefined;
    },

    async hasScores(customerId) {
      const found = await dynamo.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': customerPartition(customerId) },
          ProjectionExpression: 'pk',
          Limit: 1,
        }),
      );
      return (found.Items?.length ?? 0) > 0;
    },

    async eraseCustomer(customerId, now) {
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
      const items = await batch.queryAll({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': customerPartition(customerId) },
        ProjectionExpression: 'pk, sk',
      });
      await batch.batchWrite(items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })));
      return { customerIdHash, deletedScores: items.length };
    },
  };
}
