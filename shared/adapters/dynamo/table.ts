/**
 * Creates the single DynamoDB table on the local stand-in and in integration tests, with the same keys
 * and index the CDK app deploys.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createBatchAccess } from './batch.ts';
import { TABLE_KEYS } from './keys.ts';

/** The indexes the table must have; a local table made before one of them existed is rebuilt. */
const INDEXES = [TABLE_KEYS.gsi1Name, TABLE_KEYS.gsi2Name, TABLE_KEYS.gsi3Name];

/**
 * Creates the single table (on-demand, with GSI1, GSI2 and GSI3) when it does not exist, and rebuilds a table
 * that lacks an index (made by an earlier version). Used by the local stack and integration tests; in
 * AWS the CDK app creates the same table from {@link TABLE_KEYS}.
 */
export async function ensureTable(documentClient: DynamoDBDocumentClient, tableName: string) {
  // Table management goes through the base client the document client wraps.
  const client: DynamoDBClient = documentClient as unknown as DynamoDBClient;
  let existing: string[] | undefined;
  try {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    existing = (described.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? '');
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  if (existing && INDEXES.every((name) => existing.includes(name))) return;
  if (existing) {
    // A state directory from before an index existed: the local stand-in cannot add an index to a
    // table, so the table is rebuilt with its items (local data is small: scores of a few runs).
    const items = await scanAll(documentClient, tableName);
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    await waitUntilGone(client, tableName);
    await createTable(client, tableName);
    await createBatchAccess({ dynamo: documentClient, table: tableName }).batchWrite(
      items.map((Item) => ({ PutRequest: { Item } })),
    );
    return;
  }
  await createTable(client, tableName);
}

async function scanAll(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function waitUntilGone(client: DynamoDBClient, tableName: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`DynamoDB table ${tableName} was not deleted`);
}

async function createTable(client: DynamoDBClient, tableName: string) {
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
        { AttributeName: TABLE_KEYS.gsi3PartitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.gsi3SortKey, AttributeType: 'S' },
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
        {
          IndexName: TABLE_KEYS.gsi3Name,
          KeySchema: [
            { AttributeName: TABLE_KEYS.gsi3PartitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEYS.gsi3SortKey, KeyType: 'RANGE' },
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
