/**
 * The local stack serves S3 and DynamoDB with working paging, round-trips its configuration through the
 * environment, and encodes event keys as AWS does.
 */

import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '#adapters/config.ts';
import { TABLE_KEYS } from '#adapters/dynamo/keys.ts';
import { ensureTable } from '#adapters/dynamo/table.ts';
import { decodeS3EventKey } from '#domain/s3-key.ts';
import { type LocalObjectCreated, type LocalStack, startLocalStack } from '#infra/local/stack.ts';

describe('local stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('serves S3 and DynamoDB on loopback with the SDK clients it builds', async () => {
    await stack.clients.s3.send(
      new PutObjectCommand({ Bucket: stack.config.bucket, Key: 'hello.txt', Body: 'hi' }),
    );
    const got = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: 'hello.txt' }),
    );
    expect(await got.Body?.transformToString()).toBe('hi');

    await stack.clients.dynamo.send(
      new PutCommand({ TableName: stack.config.table, Item: { pk: 'a', sk: 'b', n: 1 } }),
    );
    const item = await stack.clients.dynamo.send(
      new GetCommand({ TableName: stack.config.table, Key: { pk: 'a', sk: 'b' } }),
    );
    expect(item.Item).toEqual({ pk: 'a', sk: 'b', n: 1 });
  });

  it('rebuilds a table made before an index existed, keeping every item', async () => {
    // A state directory from an earlier version: the table has GSI1 only.
    const old = 'table-without-gsi2';
    await stack.clients.rawDynamo.send(
      new CreateTableCommand({
        TableName: old,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: TABLE_KEYS.gsi1PartitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_KEYS.gsi1SortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
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
        ],
      }),
    );
    for (let i = 0; i < 60; i++) {
      await stack.clients.dynamo.send(
        new PutCommand({
          TableName: old,
          Item: {
            pk: `CUST#${i}`,
            sk: 'RUN#r1',
            n: i,
            [TABLE_KEYS.gsi2PartitionKey]: 'ACT#r1#win-back',
            [TABLE_KEYS.gsi2SortKey]: String(1000 + i),
            // A run list's sparse index (GSI3): only some items carry its key.
            ...(i % 3 === 0
              ? {
                  [TABLE_KEYS.gsi3PartitionKey]: 'LIST#r1#high-value-detractors',
                  [TABLE_KEYS.gsi3SortKey]: String(i),
                }
              : {}),
          },
        }),
      );
    }
    await ensureTable(stack.clients.dynamo, old);
    const described = await stack.clients.rawDynamo.send(new DescribeTableCommand({ TableName: old }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(
      [TABLE_KEYS.gsi1Name, TABLE_KEYS.gsi2Name, TABLE_KEYS.gsi3Name].sort(),
    );
    const scanned = await stack.clients.dynamo.send(new ScanCommand({ TableName: old }));
    expect(scanned.Items).toHaveLength(60);
    const audience = await stack.clients.dynamo.send(
      new QueryCommand({
        TableName: old,
        IndexName: TABLE_KEYS.gsi2Name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.gsi2PartitionKey },
        ExpressionAttributeValues: { ':pk': 'ACT#r1#win-back' },
      }),
    );
    expect(audience.Items).toHaveLength(60);
    const list = await stack.clients.dynamo.send(
      new QueryCommand({
        TableName: old,
        IndexName: TABLE_KEYS.gsi3Name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.gsi3PartitionKey },
        ExpressionAttributeValues: { ':pk': 'LIST#r1#high-value-detractors' },
      }),
    );
    expect(list.Items).toHaveLength(20);
    // A table with every index is left as it is.
    await ensureTable(stack.clients.dynamo, old);
    expect((await stack.clients.dynamo.send(new ScanCommand({ TableName: old }))).Items).toHaveLength(60);
  });

  it('pages through listings longer than one page (continuation tokens work on this runtime)', async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      await stack.clients.s3.send(
        new PutObjectCommand({ Bucket: stack.config.bucket, Key: `paged/object-${n}`, Body: String(n) }),
      );
    }
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await stack.clients.s3.send(
        new ListObjectsV2Command({
          Bucket: stack.config.bucket,
          Prefix: 'paged/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    expect(keys).toEqual([1, 2, 3, 4, 5].map((n) => `paged/object-${n}`));
  });

  it('round-trips its configuration through the environment', () => {
    expect(configFromEnv(stack.env)).toEqual(stack.config);
  });

  it('delivers ObjectCreated events with keys encoded the way AWS encodes them', async () => {
    const key = 'incoming/shop/orders 2024+Q1 (final).csv';
    const seen = new Promise<LocalObjectCreated>((resolve) => {
      const off = stack.onObjectCreated((event) => {
        off();
        resolve(event);
      });
    });
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: 'x' }));
    const event = await seen;
    expect(event.encodedKey).toBe('incoming/shop/orders+2024%2BQ1+(final).csv');
    expect(decodeS3EventKey(event.encodedKey)).toBe(key);
  });
});
