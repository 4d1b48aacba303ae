/**
 * Uploads a local export to `incoming/<source>/<file name>` in the local stack's bucket and runs the
 * real ingest Lambda handler on it, with the SQS message S3 would send (key URL-encoded the AWS way),
 * then reads the report back: what `cvm ingest` and the `cvm up` inbox share.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import { ingestIdFor, normalizeETag } from '#app/ingest/ingest-id.ts';
import type { IngestObjectRef } from '#app/ports/ingest-objects.ts';
import {
  type ExportKind,
  incomingAttributesKey,
  incomingKey,
  incomingSubscriptionsKey,
} from '#domain/bucket-layout.ts';
import { leaseIsLive } from '#domain/ingest/ingest-rules.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import { encodeS3EventKey } from '#domain/s3-key.ts';
import { createIngestHandler, type IngestHandler } from '#functions/ingest/handler.ts';
import { isDeadLocalProcess, localProcessId } from './process-lock.ts';
import type { LocalStack } from './stack.ts';

/** SQS redelivers a record reported as a batch item failure; locally this many deliveries are made. */
const MAX_DELIVERIES = 3;
const REDELIVERY_DELAY_MS = 250;

/**
 * `kind` 'customers' uploads to `incoming/<source>/customers/` (a customer attributes export),
 * 'subscriptions' to `incoming/<source>/subscriptions/` (a subscriptions export).
 */
export async function ingestFile(
  stack: LocalStack,
  source: string,
  file: string,
  kind: ExportKind = 'transactions',
): Promise<IngestReport> {
  const key =
    kind === 'customers'
      ? incomingAttributesKey(source, basename(file))
      : kind === 'subscriptions'
        ? incomingSubscriptionsKey(source, basename(file))
        : incomingKey(source, basename(file));
  const { size } = await stat(file);
  const put = await stack.clients.s3.send(
    new PutObjectCommand({
      Bucket: stack.config.bucket,
      Key: key,
      Body: createReadStream(file),
      ContentLength: size,
    }),
  );
  const eTag = normalizeETag(put.ETag);
  const ref: IngestObjectRef = { bucket: stack.config.bucket, key, ...(eTag ? { eTag } : {}) };
  const ingest = localIngestHandler(stack);
  const ingestId = ingestIdFor(ref);
  // Each round delivers the upload's event to the handler, like SQS, then waits for the outcome. Another
  // round is needed when the ingest's worker died: a killed process (here or a `cvm up`) leaves an
  // `in_progress` report whose lease the repository ends at once, so this process takes it over.
  for (let takeover = 0; ; takeover++) {
    await deliver(ingest, ref, size, key);
    for (;;) {
      const stored = await ingest.reports.getWithLease(ingestId);
      if (!stored) throw new Error(`Ingest of ${key} recorded no report`);
      if (stored.report.status !== 'in_progress') return stored.report;
      if (!leaseIsLive(stored.leaseExpiresAt, new Date())) break;
      // A running `cvm up` may have picked the same upload from its inbox first; wait for its outcome.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (takeover >= MAX_DELIVERIES) {
      throw new Error(`Ingest of ${key} was abandoned by its worker ${takeover + 1} times; giving up`);
    }
  }
}

/** Delivers the upload's event until the handler reports no failure (SQS's redelivery, locally). */
async function deliver(ingest: LocalIngest, ref: IngestObjectRef, size: number, key: string): Promise<void> {
  for (let delivery = 1; ; delivery++) {
    const response = await ingest.handler(objectCreatedMessage(ref, size, `local-${delivery}`));
    if (response.batchItemFailures.length === 0) return;
    if (delivery >= MAX_DELIVERIES) {
      throw new Error(
        `Ingest of ${key} failed ${delivery} times with a transient error: ${ingest.lastFailure()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, REDELIVERY_DELAY_MS * delivery));
  }
}

interface LocalIngest {
  handler: IngestHandler;
  reports: IngestReportRepository;
  /** Why the last record failed (the handler logs it; locally nothing else is logged). */
  lastFailure(): string;
}

const handlers = new WeakMap<LocalStack, LocalIngest>();

/** Local leases name this process, so a later command can tell when their holder was killed. */
const LOCAL_LEASES = { leaseHolder: localProcessId(), isHolderGone: isDeadLocalProcess };

/** The Lambda's handler factory with the local stack's config and clients, built once per stack. */
function localIngestHandler(stack: LocalStack): LocalIngest {
  let found = handlers.get(stack);
  if (!found) {
    let failure = 'unknown error';
    const handler = createIngestHandler({
      config: stack.config,
      clients: stack.clients,
      leases: LOCAL_LEASES,
      logger: {
        info() {},
        error() {},
        warn(message, attributes) {
          if (typeof attributes?.error === 'string') failure = attributes.error;
          else if (message) failure = message;
        },
      },
    });
    found = {
      handler,
      reports: new IngestReportRepository(stack.clients.dynamo, stack.config.table, LOCAL_LEASES),
      lastFailure: () => failure,
    };
    handlers.set(stack, found);
  }
  return found;
}

/** The SQS message S3 sends for one upload: the body is the event notification, the key encoded. */
function objectCreatedMessage(ref: IngestObjectRef, size: number, messageId: string): SQSEvent {
  const notification = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: ref.bucket },
          object: { key: encodeS3EventKey(ref.key), size, ...(ref.eTag ? { eTag: ref.eTag } : {}) },
        },
      },
    ],
  };
  return {
    Records: [
      {
        messageId,
        receiptHandle: messageId,
        body: JSON.stringify(notification),
        attributes: {
          ApproximateReceiveCount: messageId.slice(messageId.lastIndexOf('-') + 1),
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:cvm-ingest',
        awsRegion: 'local',
      },
    ],
  };
}
