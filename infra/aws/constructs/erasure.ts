/**
 * CDK construct of the erasure job: the DuckDB function that rewrites every stored object without the
 * rows of suppressed customers (and deletes earlier versions holding them), and the state machine
 * `DELETE /customers/{id}` starts it through (retries, execution history without any customer id).
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { PERSONAL_DATA_PREFIXES } from '#domain/bucket-layout.ts';
import { duckDbBundling, type LambdaArchitecture } from '../lambda-native-binding.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { Storage } from './storage.ts';

const PROJECT_DIR = fileURLToPath(new URL('../../../', import.meta.url));

export interface ErasureProps {
  readonly storage: Storage;
  /** Runtime variables of the handler (bucket, table …). */
  readonly environment: Record<string, string>;
  /** Prefix of the state machine's name, e.g. `cvm-dev`. */
  readonly namePrefix: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Time budget of one pass over the bucket (Lambda's maximum). A bucket too large for one pass needs
   * the job split by prefix; docs/privacy.md has the measured rewrite speeds.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /** @default lambda.Architecture.X86_64 (the architecture the ingest's DuckDB figures were measured on) */
  readonly architecture?: lambda.Architecture;
}

export class Erasure extends Construct {
  readonly handler: PipelineFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ErasureProps) {
    super(scope, id);
    const { storage } = props;
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const lambdaArchitecture = architecture.name as LambdaArchitecture;

    this.handler = new PipelineFunction(this, 'Handler', {
      entry: 'functions/erasure/handler.ts',
      description: 'Erasure job: rewrites stored files without the rows of erased customers',
      serviceName: 'cvm-erasure',
      architecture,
      // Objects are rewritten one at a time: a Parquet object through DuckDB in /tmp, a text export in
      // memory (gunzipped), so memory must hold the largest export.
      memorySize: 2048,
      ephemeralStorageSize: Size.mebibytes(4096),
      timeout: props.timeout ?? Duration.minutes(15),
      // One job at a time: two passes rewriting the same object could put back rows the other removed.
      reservedConcurrentExecutions: 1,
      environment: props.environment,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...duckDbBundling(lambdaArchitecture, PROJECT_DIR),
    });
    this.grantErasure(storage);

    const erase = new tasks.LambdaInvoke(this, 'EraseStoredFiles', {
      comment: 'Every stored object without the rows of every suppressed customer',
      lambdaFunction: this.handler.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    }).addRetry({
      // The job is safe to repeat (a second pass finds less to do); throttling (concurrency 1 while
      // another erasure runs) and timeouts are worth waiting out.
      errors: ['States.ALL'],
      interval: Duration.minutes(1),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.namePrefix}-erasure`,
      comment: 'Erasure of suppressed customers from stored files',
      definitionBody: sfn.DefinitionBody.fromChainable(erase),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }

  /**
   * Read, rewrite and delete versions of objects under every prefix that can hold customer rows (the
   * bucket layout's list, so a new prefix is covered), list them with their versions, read the
   * suppression list and the ingest's content markers (a rewritten upload is marked as ingested).
   */
  private grantErasure(storage: Storage) {
    const role = this.handler.role;
    const prefixes = PERSONAL_DATA_PREFIXES;
    storage.grantObjects(role, 'ReadStoredFiles', ['s3:GetObject', 's3:GetObjectVersion'], prefixes);
    storage.grantObjects(role, 'RewriteStoredFiles', ['s3:PutObject', 's3:AbortMultipartUpload'], prefixes);
    storage.grantObjects(role, 'DeleteVersionsHoldingErasedCustomers', ['s3:DeleteObjectVersion'], prefixes);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListStoredFilesAndVersions',
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [storage.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSuppressionList',
        actions: ['dynamodb:Query'],
        resources: [storage.gsi1Arn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MarkRewrittenUploads',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [storage.table.tableArn],
      }),
    );
  }
}
