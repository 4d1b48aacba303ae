/** Test helper: ingests an export text under a source with its mapping, through the real ingest. */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { incomingKey, sourceConfigKey } from '#domain/bucket-layout.ts';
import type { LocalStack } from '#infra/local/stack.ts';

export async function ingestText(
  stack: LocalStack,
  source: string,
  fileName: string,
  text: string,
  mapping: object,
) {
  const { bucket } = stack.config;
  await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: sourceConfigKey(source), Body: JSON.stringify(mapping) }),
  );
  const key = incomingKey(source, fileName);
  const put = await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
  const report = await ingestObject(
    { config: stack.config, clients: stack.clients },
    { bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
  );
  expect(report.status, report.message).toBe('succeeded');
  return report;
}
