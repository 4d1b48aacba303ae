import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AwsClients, createAwsClients } from '../../shared/adapters/aws-clients.ts';
import { configFromEnv, type RuntimeConfig } from '../../shared/adapters/config.ts';
import {
  type IngestLogger,
  type IngestObjectRef,
  ingestObject,
} from '../../shared/adapters/ingest/ingest-object.ts';
import { type IngestMetricsSink, recordIngestMetrics } from '../../shared/adapters/ingest-metrics.ts';
import { parseIncomingKey } from '../../shared/domain/bucket-layout.ts';
import { decodeS3EventKey } from '../../shared/domain/s3-key.ts';

export interface IngestHandlerDeps {
  config: RuntimeConfig;
  clients: AwsClients;
  now?: () => Date;
  tmpDir?: string;
  logger?: IngestLogger;
  /** Receives each report's counts (Powertools Metrics in AWS; flushed by the Lambda entry point). */
  metrics?: IngestMetricsSink;
}

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
 * SQS-triggered ingest: each record's body is an S3 event notification. Records are processed one
 * after another (each ingest already uses the function's memory and temporary storage); only records
 * that hit a transient error are reported as batch item failures, so SQS redelivers just those.
 */
export function createIngestHandler(deps: IngestHandlerDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        await handleRecord(deps, record);
      } catch (error) {
        deps.logger?.warn('record failed, SQS will redeliver it', {
          messageId: record.messageId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

async function handleRecord(deps: IngestHandlerDeps, record: SQSRecord) {
  let refs: IngestObjectRef[];
  try {
    refs = objectsInMessage(record.body);
  } catch {
    // Not an S3 notification: retrying cannot make it one (the queue's DLQ policy does not apply).
    deps.logger?.error('ignoring an SQS message that is not an S3 event notification', {
      messageId: record.messageId,
    });
    return;
  }
  for (const ref of refs) {
    const report = await ingestObject(deps, ref);
    if (deps.metrics) recordIngestMetrics(deps.metrics, report);
    deps.logger?.info('ingest report', {
      ingestId: report.ingestId,
      key: report.key,
      status: report.status,
      rowsRead: report.rowsRead,
      accepted: report.accepted,
      rejected: report.rejected,
      duplicates: report.duplicates,
    });
  }
}

let lambdaHandler: ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined;
// Namespace and service come from POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME set by the CDK app.
let lambdaMetrics: Metrics | undefined;

/** Lambda entry point: dependencies are built once per execution environment, on first use. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  if (!lambdaHandler) {
    const config = configFromEnv();
    const logger = new Logger({ serviceName: 'cvm-ingest' });
    lambdaMetrics = new Metrics({ serviceName: 'cvm-ingest' });
    lambdaHandler = createIngestHandler({
      config,
      clients: createAwsClients(config),
      metrics: lambdaMetrics,
      logger: {
        info: (message, attributes) => logger.info(message, attributes ?? {}),
        warn: (message, attributes) => logger.warn(message, attributes ?? {}),
        error: (message, attributes) => logger.error(message, attributes ?? {}),
      },
    });
  }
  try {
    return await lambdaHandler(event);
  } finally {
    lambdaMetrics?.publishStoredMetrics();
  }
};
