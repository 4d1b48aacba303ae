/**
 * CDK construct of the ingest: S3 notifications of `incoming/` into an SQS queue with a dead-letter
 * queue, and the DuckDB ingest function (native binding bundled) with its grants.
 */
import { fileURLToPath } from 'node:url';
import { Duration, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DUCKDB_EXTERNAL_MODULES,
  duckDbBundling,
  type LambdaArchitecture,
} from '../lambda-native-binding.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { DATA_PREFIXES, type Storage } from './storage.ts';

/** The project root: package-lock.json pins the DuckDB binding of every platform. */
const PROJECT_DIR = fileURLToPath(new URL('../../../', import.meta.url));

export { DUCKDB_EXTERNAL_MODULES };

export interface IngestProps {
  readonly storage: Storage;
  /** Runtime variables of the handler (bucket, table, currency …). */
  readonly environment: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Largest number of concurrent ingests the queue drives. @default 4 */
  readonly maxConcurrency?: number;
  /** Per-file time budget. @default Duration.minutes(10) */
  readonly timeout?: Duration;
  /** Deliveries before a message moves to the dead-letter queue. @default 3 */
  readonly maxReceiveCount?: number;
  /**
   * CPU of the ingest function. Every figure in bench/RESULTS.md was measured on x86_64, and no arm64
   * machine was available to measure the other; Graviton costs about 20 % less per GB-second, so
   * measure a representative export on both in your account before switching. The DuckDB binding of
   * the chosen architecture is bundled either way.
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;
}

/**
 * S3 ObjectCreated under `incoming/` → SQS (with a dead-letter queue) → the ingest function, which
 * reports partial batch failures so one bad file does not redeliver the others.
 */
export class Ingest extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly handler: PipelineFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { storage } = props;
    const timeout = props.timeout ?? Duration.minutes(10);
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const lambdaArchitecture = architecture.name as LambdaArchitecture;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // SSE-SQS (not KMS): S3 can deliver to it without a key policy.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS recommends six times the function timeout, so a message is not redelivered while a
      // (retried, throttled) invocation still works on it.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 3 },
    });

    storage.dataBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: DATA_PREFIXES.incoming,
    });

    this.handler = new PipelineFunction(this, 'Handler', {
      entry: 'functions/ingest/handler.ts',
      description: 'Ingest: validates an uploaded export and writes clean Parquet',
      serviceName: 'cvm-ingest',
      architecture,
      // DuckDB sizes its buffer pool from memory and gets one vCPU per 1769 MB: 2 GB converts a
      // million-row export in seconds. It spills to /tmp and writes the Parquet file there before
      // uploading, so /tmp must hold an export several times over: 4 GB.
      memorySize: 2048,
      ephemeralStorageSize: Size.mebibytes(4096),
      timeout,
      environment: props.environment,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...duckDbBundling(lambdaArchitecture, PROJECT_DIR),
    });

    this.handler.function.addEventSource(
      new lambdaEventSources.SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        // Caps concurrent ingests (and the DynamoDB/S3 pressure they cause) without reserving
        // account concurrency, which a new account with a low limit cannot spare.
        maxConcurrency: props.maxConcurrency ?? 4,
      }),
    );

    // Read the export and per-source config; write outputs outside incoming/; delete from incoming/
    // when quarantining (the object is copied to quarantine/). The one write under incoming/ removes
    // erased customers' rows from an ingested upload; the event it causes finds the content marked as
    // ingested and is recorded as a duplicate (see shared/app/erasure/scrub-upload.ts).
    const role = this.handler.role;
    const { incoming, config, clean, rejected, quarantine } = DATA_PREFIXES;
    storage.grantObjects(
      role,
      'ReadExportsAndConfig',
      ['s3:GetObject', 's3:GetObjectVersion'],
      [incoming, config],
    );
    storage.grantObjects(
      role,
      'WriteOutputs',
      ['s3:PutObject', 's3:AbortMultipartUpload'],
      [clean, rejected, quarantine],
    );
    storage.grantObjects(role, 'RemoveQuarantinedExports', ['s3:DeleteObject'], [incoming]);
    storage.grantObjects(
      role,
      'ScrubErasedCustomersFromUploads',
      ['s3:PutObject', 's3:DeleteObjectVersion'],
      [incoming],
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // The upload's earlier versions, so none keeps an erased customer's rows.
        sid: 'ListUploadVersions',
        actions: ['s3:ListBucketVersions'],
        resources: [storage.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${incoming}*`] } },
      }),
    );
    storage.grantList(role, 'ListReadPrefixes', [incoming, config]);
    role.addToPolicy(
      new iam.PolicyStatement({
        // Ingest reports and content markers (conditional puts; a failed ingest deletes its marker).
        sid: 'RecordIngests',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [storage.table.tableArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        // The suppression list (hashes of erased customers' ids), read once per ingest so their rows
        // never reach clean data.
        sid: 'ReadSuppressionList',
        actions: ['dynamodb:Query'],
        resources: [storage.gsi1Arn],
      }),
    );
  }
}
