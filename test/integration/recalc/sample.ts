/** Test helpers: the CDNOW-derived sample export, ingested through the real ingest pipeline. */
import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { segmentPartitions } from '#adapters/dynamo/keys.ts';
import { createRecalcRepositories } from '#adapters/dynamo/recalc-repositories.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import type { TransactionRecord } from '#domain/rfm-summary.ts';
import { indexShardsOf } from '#domain/run.ts';
import type { LocalStack } from '#infra/local/stack.ts';

export const SAMPLE_FILE = new URL('../../../data/sample/orders.csv', import.meta.url);

export async function ingestSample(stack: LocalStack, key = 'incoming/cdnow/orders.csv'): Promise<void> {
  const put = await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: readFileSync(SAMPLE_FILE) }),
  );
  const report = await ingestObject(
    { config: stack.config, clients: stack.clients },
    { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
  );
  expect(report.status, report.message).toBe('succeeded');
  expect(report.accepted).toBe(6919);
}

/** The sample's rows as the engine's transaction records (UTC date of the order timestamp). */
export function sampleTransactions(): TransactionRecord[] {
  const [, ...lines] = readFileSync(SAMPLE_FILE, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const [, customerId, orderDate, amount] = line.split(',');
    return { customerId: customerId!, date: orderDate!.slice(0, 10), amount: Number(amount) };
  });
}

/**
 * Every score item of a run, read segment by segment through GSI1 (the API's read path), from each
 * index shard the run record names.
 */
export async function scoresOfRun(stack: LocalStack, runId: string, segments: readonly string[]) {
  const { runs } = createRecalcRepositories({ dynamo: stack.clients.dynamo, table: stack.config.table });
  const run = await runs.getRunRecord(runId);
  const items: Record<string, unknown>[] = [];
  for (const segment of segments) {
    for (const partition of segmentPartitions(runId, segment, run ? indexShardsOf(run) : 1)) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await stack.clients.dynamo.send(
          new QueryCommand({
            TableName: stack.config.table,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': partition },
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...((page.Items ?? []) as Record<string, unknown>[]));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
  }
  return items;
}
