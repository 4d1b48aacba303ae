/**
 * The ingest Lambda: SQS records whose bodies are S3 event notifications, one ingest per uploaded
 * object; only records that hit a transient error are reported back for redelivery.
 */

import middy, { type MiddlewareObj } from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createAwsClients } from '#adapters/aws-clients.ts';
import { configFromEnv } from '#adapters/config.ts';
import { createS3ErasureObjects } from '#adapters/erasure/s3-erasure-objects.ts';
import { type IngestDeps, ingestService } from '#adapters/ingest/ingest-object.ts';
import { type IngestMetricsSink, recordIngestMetrics } from '#adapters/ingest-metrics.ts';
import { observability } from '#adapters/observability.ts';
import { scrubSuppressedFromUpload, type UploadScrubDeps } from '#app/erasure/scrub-upload.ts';
import { ingestObject } from '#app/ingest/ingest-object.ts';
import type { IngestObjectRef } from '#app/ports/ingest-objects.ts';
import { parseIncomingKey } from '#domain/bucket-layout.ts';
import { ingestReportCounts } from '#domain/ingest-report.ts';
import { decodeS3EventKey } from '#domain/s3-key.ts';

export interface IngestHandlerDeps extends IngestDeps {
  /** Receives each report's counts (Powertools Metrics in AWS, flushed by its middleware). */
  metrics?: IngestMetricsSink;
  /** Extra middy middlewares run around the batch (observability in AWS). */
  middlewares?: MiddlewareObj[];
}

export type IngestHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

interface S3EventNotification {
  Event?: string;
  Records?: Array<{
    eventName?: string;
    s3?: {
      bucket?: { name?: string };
      object?: { key?: string; versionId?: string; eTag?: string; sequencer?: string };
    };
  }>;
}

/**
 * The object-created events in one SQS message body (an S3 event notification). `s3:TestEvent`
 * bodies, which S3 sends when the notification is configured, and keys outside `incoming/` yield none.
 */
export function objectsInMessage(body: string): IngestObjectRef[] {
  const notification = JSON.parse(body) as S3EventNotification;
  if (notification.Event === 's3:TestEvent') return [];
  const refs: IngestObjectRef[] = [];
  for (const record of notification.Records ?? []) {
    if (record.eventName && !record.eventName.startsWith('ObjectCreated')) continue;
    const bucket = record.s3?.bucket?.name;
    const encodedKey = record.s3?.object?.key;
    if (!bucket || !encodedKey) continue;
    const key = decodeS3EventKey(encodedKey);
    if (!parseIncomingKey(key)) continue;
    const object = record.s3?.object;
    refs.push({
      bucket,
      key,
      ...(object?.versionId ? { versionId: object.versionId } : {}),
      ...(object?.eTag ? { eTag: object.eTag } : {}),
      ...(object?.sequencer ? { sequencer: object.sequencer } : {}),
    });
  }
  return refs;
}

/**
 * The handler over explicit dependencies (the Lambda entry point below, the local stack, tests).
 * Records are processed one after another (each ingest already uses the function's memory and
 * temporary storage). An ingest throws only on a transient error; `@middy/sqs-partial-batch-failure`
 * turns exactly those records into batch item failures, so SQS redelivers just them.
 */
export function createIngestHandler(deps: IngestHandlerDeps): IngestHandler {
  const service = ingestService(deps);
  const log = deps.logger;
  const scrub: UploadScrubDeps = {
    objects: createS3ErasureObjects({ s3: deps.clients.s3, bucket: deps.config.bucket }),
    contentMarkers: service.reports,
    suppressedHashes: service.suppressedHashes ?? (async () => []),
    ...(deps.now ? { now: deps.now } : {}),
  };

  const handleRecord = async (record: SQSRecord) => {
    let refs: IngestObjectRef[];
    try {
      refs = objectsInMessage(record.body);
    } catch {
      // Not an S3 notification: retrying cannot make it one (the queue's DLQ policy does not apply).
      log?.error('ignoring an SQS message that is not an S3 event notification', {
        messageId: record.messageId,
      });
      return;
    }
    for (const ref of refs) {
      const report = await ingestObject(service, ref);
      if (deps.metrics) recordIngestMetrics(deps.metrics, report);
      log?.info('ingest report', ingestReportCounts(report));
      // An ingested upload keeps no rows of erased customers (a re-sent export would otherwise bring
      // them back into the bucket); a quarantined or failed one was not read as rows.
      if (report.status === 'succeeded') {
        const scrubbed = await scrubSuppressedFromUpload(scrub, ref.key);
        if (scrubbed.rowsRemoved > 0 || scrubbed.versionsDeleted > 0) {
          log?.info('erased customers removed from the upload', { key: ref.key, ...scrubbed });
        }
      }
    }
  };

  const batch = middy<SQSEvent, SQSBatchResponse>()
    .use(deps.middlewares ?? [])
    .use(
      sqsPartialBatchFailure({
        logger: (reason: unknown, record: SQSRecord) =>
          log?.warn('record failed, SQS will redeliver it', {
            messageId: record.messageId,
            error: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
          }),
      }),
    )
    .handler(async (event) => {
      // One settled result per record, in order: the middleware reads them into batchItemFailures.
      const settled: PromiseSettledResult<void>[] = [];
      for (const record of event.Records) {
        try {
          await handleRecord(record);
          settled.push({ status: 'fulfilled', value: undefined });
        } catch (reason) {
          settled.push({ status: 'rejected', reason });
        }
      }
      return settled as unknown as SQSBatchResponse;
    });
  return (event, context) => batch(event, context ?? ({} as Context));
}

// Built on first invocation (the environment is read then) and reused by warm containers.
let lambdaHandler: IngestHandler | undefined;

/** Lambda entry point: Powertools logger and metrics of `cvm-ingest`, flushed after each batch. */
export const handler: IngestHandler = (event, context) => {
  if (!lambdaHandler) {
    const config = configFromEnv();
    const { appLogger, metrics, middlewares } = observability('cvm-ingest');
    lambdaHandler = createIngestHandler({
      config,
      clients: createAwsClients(config),
      logger: appLogger,
      metrics,
      middlewares: middlewares(),
    });
  }
  return lambdaHandler(event, context);
};
