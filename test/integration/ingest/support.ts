/**
 * Test support for the ingest integration tests: fixtures, uploads and source configs on the local
 * stack, clean Parquet and rejects read back, and SQS events as AWS sends them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { sourceConfigKey } from '#domain/bucket-layout.ts';
import { encodeS3EventKey } from '#domain/s3-key.ts';
import type { LocalStack } from '#infra/local/stack.ts';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/exports');

export const fixture = (name: string): Buffer => readFileSync(join(fixturesDir, name));

/** Uploads bytes and returns the object reference an S3 event would carry (decoded key). */
export async function upload(stack: LocalStack, key: string, body: Buffer | string) {
  const put = await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: body }),
  );
  return { bucket: stack.config.bucket, key, eTag: put.ETag?.replace(/"/g, '') ?? '' };
}

export async function putSourceConfig(stack: LocalStack, source: string, config: unknown) {
  await stack.clients.s3.send(
    new PutObjectCommand({
      Bucket: stack.config.bucket,
      Key: sourceConfigKey(source),
      Body: typeof config === 'string' ? config : JSON.stringify(config),
    }),
  );
}

export async function getObjectBytes(stack: LocalStack, key: string): Promise<Buffer> {
  const got = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.config.bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

export async function objectExists(stack: LocalStack, key: string): Promise<boolean> {
  try {
    await getObjectBytes(stack, key);
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return false;
    throw error;
  }
}

export interface CleanRow {
  customer_id: string;
  order_id: string;
  order_ts: string;
  amount: string;
  currency: string;
  channel: string | null;
  quantity: string | null;
  line_number: string;
}

/**
 * Downloads a clean Parquet object and reads it back with DuckDB: rows in line order with UTC
 * timestamps (ISO, `Z`) and decimals as exact strings, plus the column types.
 */
export async function readCleanParquet(stack: LocalStack, key: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cvm-parquet-test-'));
  const path = join(dir, 'clean.parquet');
  writeFileSync(path, await getObjectBytes(stack, key));
  const db = await openDuckDb({ threads: 1, memoryLimit: '64MB' });
  try {
    const rows = await db.connection.runAndReadAll(
      `SELECT customer_id, order_id, strftime(order_ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS order_ts,
              amount::VARCHAR AS amount, currency, channel, quantity, line_number
       FROM read_parquet(${sqlLiteral(path)}) ORDER BY line_number`,
    );
    const types = await db.connection.runAndReadAll(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlLiteral(path)}))`,
    );
    const meta = await db.connection.runAndReadAll(
      `SELECT DISTINCT ingest_id, strftime(ingested_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS ingested_at FROM read_parquet(${sqlLiteral(path)})`,
    );
    return {
      rows: rows.getRowObjectsJson() as unknown as CleanRow[],
      types: Object.fromEntries(types.getRowsJson().map(([name, type]) => [String(name), String(type)])),
      meta: meta.getRowObjectsJson() as unknown as Array<{ ingest_id: string; ingested_at: string }>,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RejectLine {
  line: number;
  reason: string;
  message: string;
  raw: Record<string, string | null> | string;
}

export async function readRejects(stack: LocalStack, key: string): Promise<RejectLine[]> {
  const text = (await getObjectBytes(stack, key)).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RejectLine)
    .sort((a, b) => a.line - b.line);
}

/** An SQS event whose message bodies are S3 notifications, keys encoded the way AWS encodes them. */
export function sqsEvent(
  messages: Array<{
    messageId: string;
    objects?: Array<{ bucket: string; key: string; eTag?: string }>;
    body?: string;
  }>,
): SQSEvent {
  return {
    Records: messages.map(({ messageId, objects, body }) => ({
      messageId,
      receiptHandle: `receipt-${messageId}`,
      body:
        body ??
        JSON.stringify({
          Records: (objects ?? []).map((o) => ({
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            s3: {
              bucket: { name: o.bucket },
              object: { key: encodeS3EventKey(o.key), eTag: o.eTag, sequencer: '0062E99A88DC407460' },
            },
          })),
        }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:ingest',
      awsRegion: 'eu-west-1',
    })),
  };
}
