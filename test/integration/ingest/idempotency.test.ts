/**
 * Ingest idempotency through the SQS handler: repeated and concurrent deliveries do the work once, a
 * re-upload of the same bytes is a duplicate, and a dead worker's lease is taken over.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '#adapters/aws-clients.ts';
import { TABLE_KEYS } from '#adapters/dynamo/keys.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import { ingestIdFor } from '#app/ingest/ingest-id.ts';
import { type IngestReport, inProgressIngestReport } from '#domain/ingest-report.ts';
import { createIngestHandler } from '#functions/ingest/handler.ts';
import { type LocalObjectCreated, type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { fixture, putSourceConfig, readCleanParquet, sqsEvent, upload } from './support.ts';

/** Records log calls so tests can count how many deliveries actually did the work. */
function recordingLogger() {
  const entries: Array<{ level: string; message: string; attributes?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    entries.push({ level, message, ...(attributes ? { attributes } : {}) });
  };
  return { entries, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('ingest idempotency and the SQS handler on the local stand-ins', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  async function reportsFor(ingestId: string): Promise<IngestReport[]> {
    const result = await stack.clients.dynamo.send(
      new QueryCommand({
        TableName: stack.config.table,
        IndexName: TABLE_KEYS.gsi1Name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'INGESTS' },
      }),
    );
    return (result.Items ?? []).filter((item) => item.ingestId === ingestId) as IngestReport[];
  }

  async function cleanObjects(source: string): Promise<string[]> {
    const listed = await stack.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: stack.config.bucket,
        Prefix: `clean/transactions/source=${source}/`,
      }),
    );
    return (listed.Contents ?? []).map((o) => o.Key!);
  }

  it('records a re-upload of the same bytes under another key as a duplicate of the first ingest', async () => {
    const deps = { config: stack.config, clients: stack.clients };
    const first = await ingestObject(
      deps,
      await upload(stack, 'incoming/reup/orders.csv', fixture('clean.csv')),
    );
    const second = await ingestObject(
      deps,
      await upload(stack, 'incoming/reup/orders (copy).csv', fixture('clean.csv')),
    );
    expect(first).toMatchObject({ status: 'succeeded', accepted: 6, duplicates: 0 });
    expect(second).toMatchObject({
      status: 'succeeded',
      rowsRead: 6,
      accepted: 0,
      rejected: 0,
      duplicates: 6,
      duplicateOfIngestId: first.ingestId,
      cleanKey: null,
      amountTotals: {},
      sha256: first.sha256,
    });
    expect(second.ingestId).not.toBe(first.ingestId);
    expect(await cleanObjects('reup')).toEqual([first.cleanKey]);
  });

  it('ingests a re-upload again when the first ingest of that content was quarantined', async () => {
    const deps = { config: stack.config, clients: stack.clients };
    await putSourceConfig(stack, 'retry', { maxRejectRatio: 0.1 });
    const quarantined = await ingestObject(
      deps,
      await upload(stack, 'incoming/retry/orders.csv', fixture('quarantine.csv')),
    );
    expect(quarantined.status).toBe('quarantined');
    // The data team relaxes the source config and drops the same file again.
    await putSourceConfig(stack, 'retry', { maxRejectRatio: 0.5 });
    const ok = await ingestObject(
      deps,
      await upload(stack, 'incoming/retry/orders again.csv', fixture('quarantine.csv')),
    );
    expect(ok).toMatchObject({ status: 'succeeded', accepted: 5, rejected: 5, duplicates: 0 });
    expect(ok.duplicateOfIngestId ?? null).toBeNull();
  });

  it('does the work once when the same event is delivered twice', async () => {
    const { entries, logger } = recordingLogger();
    const deps = { config: stack.config, clients: stack.clients, logger };
    const ref = await upload(stack, 'incoming/twice/orders.csv', fixture('duplicates.csv'));
    const first = await ingestObject(deps, ref);
    const second = await ingestObject(deps, ref);
    expect(second).toEqual(first);
    expect(entries.filter((e) => e.message === 'ingest started')).toHaveLength(1);
    expect(await reportsFor(first.ingestId)).toHaveLength(1);
    expect(await cleanObjects('twice')).toHaveLength(1);
  });

  it('does the work once when the same event arrives three times concurrently through SQS', async () => {
    const { entries, logger } = recordingLogger();
    const handler = createIngestHandler({ config: stack.config, clients: stack.clients, logger });
    const ref = await upload(stack, 'incoming/thrice/orders.csv', fixture('rejects.csv'));
    const responses = await Promise.all(
      ['m1', 'm2', 'm3'].map((id) => handler(sqsEvent([{ messageId: id, objects: [ref] }]))),
    );
    expect(responses).toEqual([
      { batchItemFailures: [] },
      { batchItemFailures: [] },
      { batchItemFailures: [] },
    ]);
    expect(entries.filter((e) => e.message === 'ingest started')).toHaveLength(1);
    expect(entries.filter((e) => e.message === 'ingest already done or in progress elsewhere')).toHaveLength(
      2,
    );
    const reports = await reportsFor(ingestIdFor(ref));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ status: 'succeeded', rowsRead: 49, accepted: 40, rejected: 9 });
    expect(await cleanObjects('thrice')).toHaveLength(1);
  });

  it('decodes keys the way AWS encodes them (spaces and +) from a real ObjectCreated event', async () => {
    const handler = createIngestHandler({ config: stack.config, clients: stack.clients });
    const key = 'incoming/encoded/orders 2025+Q1 (final).csv';
    const created = new Promise<LocalObjectCreated>((resolve) => {
      const off = stack.onObjectCreated((event) => {
        off();
        resolve(event);
      });
    });
    await upload(stack, key, fixture('refunds.csv'));
    const event = await created;
    expect(event.encodedKey).toBe('incoming/encoded/orders+2025%2BQ1+(final).csv');
    const response = await handler(
      sqsEvent([
        {
          messageId: 'encoded',
          body: JSON.stringify({
            Records: [
              {
                eventName: 'ObjectCreated:Put',
                s3: { bucket: { name: event.bucket }, object: { key: event.encodedKey, eTag: event.eTag } },
              },
            ],
          }),
        },
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    const [report] = await reportsFor(ingestIdFor({ bucket: event.bucket, key, eTag: event.eTag }));
    expect(report).toMatchObject({ key, source: 'encoded', status: 'succeeded', accepted: 5 });
    const { rows } = await readCleanParquet(stack, report!.cleanKey!);
    expect(rows).toHaveLength(5);
  });

  it('ignores s3:TestEvent messages and keys outside incoming/', async () => {
    const { entries, logger } = recordingLogger();
    const handler = createIngestHandler({ config: stack.config, clients: stack.clients, logger });
    const response = await handler(
      sqsEvent([
        { messageId: 'test-event', body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }) },
        {
          messageId: 'elsewhere',
          objects: [{ bucket: stack.config.bucket, key: 'clean/x.parquet', eTag: 'e' }],
        },
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(entries.filter((e) => e.message === 'ingest started')).toHaveLength(0);
  });

  it('reports only records that hit a transient error as batch item failures', async () => {
    const ref = await upload(stack, 'incoming/transient/orders.csv', fixture('clean.csv'));
    // DynamoDB unreachable (nothing listens on port 9): a network error, retried by SQS.
    const unreachable = createAwsClients({
      ...stack.config,
      dynamoEndpoint: 'http://127.0.0.1:9',
    });
    const failing = createIngestHandler({
      config: stack.config,
      clients: { ...stack.clients, dynamo: unreachable.dynamo },
    });
    const response = await failing(
      sqsEvent([
        { messageId: 'bad-body', body: 'not json' },
        { messageId: 'unreachable', objects: [ref] },
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'unreachable' }] });
    unreachable.dynamo.destroy();
    // The retried delivery, with DynamoDB back, does the work.
    const handler = createIngestHandler({ config: stack.config, clients: stack.clients });
    expect(await handler(sqsEvent([{ messageId: 'unreachable', objects: [ref] }]))).toEqual({
      batchItemFailures: [],
    });
    const [report] = await reportsFor(ingestIdFor(ref));
    expect(report).toMatchObject({ status: 'succeeded', accepted: 6 });
  });

  it('lets a redelivery take over an ingest whose worker died (lease expired), not a live one', async () => {
    const repository = new IngestReportRepository(stack.clients.dynamo, stack.config.table);
    const ref = await upload(stack, 'incoming/lease/orders.csv', fixture('refunds.csv'));
    const ingestId = ingestIdFor(ref);
    const t0 = new Date('2025-10-01T00:00:00.000Z');
    const abandoned = inProgressIngestReport({ ingestId, source: 'lease', key: ref.key, startedAt: t0 });
    expect(await repository.claim(abandoned, t0, 60_000)).toMatchObject({ claimed: true });

    // Within the lease: the worker may still be running, so a redelivery does nothing.
    const early = await ingestObject(
      { config: stack.config, clients: stack.clients, now: () => new Date(t0.getTime() + 30_000) },
      ref,
    );
    expect(early).toMatchObject({ status: 'in_progress', rowsRead: 0 });

    // After the lease: the redelivery takes over and finishes; the dead worker can no longer write.
    const late = await ingestObject(
      { config: stack.config, clients: stack.clients, now: () => new Date(t0.getTime() + 120_000) },
      ref,
    );
    expect(late).toMatchObject({ status: 'succeeded', accepted: 5 });
    await expect(
      repository.save({ ...abandoned, status: 'failed' }, 'stale-token', { final: true }),
    ).rejects.toThrow(/Lease on ingest/);
    expect(await reportsFor(ingestId)).toHaveLength(1);
  });
});
