/**
 * Uploads a local export to `incoming/<source>/<file name>` in the local stack's bucket and ingests it
 * with the same `ingestObject` the Lambda runs: what `cvm ingest` and the `cvm up` inbox share.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ingestKey } from '../../shared/adapters/dynamo/keys.ts';
import { ingestObject } from '../../shared/adapters/ingest/ingest-object.ts';
import { incomingKey } from '../../shared/domain/bucket-layout.ts';
import { type IngestReport, ingestReportSchema } from '../../shared/domain/ingest-report.ts';
import type { LocalStack } from './stack.ts';

export async function ingestFile(stack: LocalStack, source: string, file: string): Promise<IngestReport> {
  const key = incomingKey(source, basename(file));
  const { size } = await stat(file);
  const put = await stack.clients.s3.send(
    new PutObjectCommand({
      Bucket: stack.config.bucket,
      Key: key,
      Body: createReadStream(file),
      ContentLength: size,
    }),
  );
  const ref = { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) };
  const report = await ingestObject({ config: stack.config, clients: stack.clients }, ref);
  // A running `cvm up` may have picked the same upload from its inbox first; wait for its outcome.
  return report.status === 'in_progress' ? waitForReport(stack, report.ingestId) : report;
}

async function waitForReport(stack: LocalStack, ingestId: string): Promise<IngestReport> {
  for (;;) {
    const item = await stack.clients.dynamo.send(
      new GetCommand({ TableName: stack.config.table, Key: ingestKey(ingestId), ConsistentRead: true }),
    );
    const report = ingestReportSchema.parse(item.Item);
    if (report.status !== 'in_progress') return report;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
