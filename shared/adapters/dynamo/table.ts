/**
 * Creates the single DynamoDB table on the local stand-in and in integration tests, with the same keys
 * and index the CDK app deploys.
 */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from './keys.ts';

/**
 * Creates the single table (on-demand, with GSI1 and GSI2) when it does not exist. Used by the local stack and
 * integration tests; in AWS the CDK app creates the same table from {@link TABLE_KEYS}.
 */
export async function ensureTable(documentClient: DynamoDBDocumentClient, tableName: string) {
  // Table management goes through the base client the document client wraps.
  const client: DynamoDBClient = documentClient as unknown as DynamoDBClient;
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.gsi1PartitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.gsi1SortKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.gsi2PartitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.gsi2SortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: TABLE_KEYS.gsi1Name,
          KeySchema: [
            { AttributeName: TABLE_KEYS.gsi1PartitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.gsi1SortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: TABLE_KEYS.gsi2Name,
          KeySchema: [
            { AttributeName: TABLE_KEYS.gsi2PartitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.gsi2SortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  // dynalite (and AWS) create tables asynchronously; wait until ACTIVE.
  for (let attempt = 0; attempt < 100; attempt++) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`DynamoDB table ${tableName} did not become ACTIVE`);
}
