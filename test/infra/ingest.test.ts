/**
 * Synthesized ingest: S3 notifications of `incoming/` only, an encrypted queue with a dead-letter queue,
 * the function's sizing, and grants limited to its prefixes and table items.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#adapters/config.ts';
import { TABLE_KEYS } from '#adapters/dynamo/keys.ts';
import { DUCKDB_EXTERNAL_MODULES } from '#infra/aws/constructs/ingest.ts';
import { DATA_PREFIXES } from '#infra/aws/constructs/storage.ts';
import {
  type CfnJson,
  logicalIdOf,
  resourcesOfType,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

let synth: SynthesizedPipeline;
let resources: Record<string, { Type: string; Properties: Record<string, CfnJson> }>;
beforeAll(() => {
  synth = synthPipeline();
  resources = synth.template.toJSON().Resources;
});
afterAll(() => synth.cleanup());

const ids = () => ({
  bucket: logicalIdOf(synth.stack, synth.stack.storage.dataBucket),
  queue: logicalIdOf(synth.stack, synth.stack.ingest.queue),
  deadLetterQueue: logicalIdOf(synth.stack, synth.stack.ingest.deadLetterQueue),
  function: logicalIdOf(synth.stack, synth.stack.ingest.handler.function),
  role: logicalIdOf(synth.stack, synth.stack.ingest.handler.role),
});

/** The ingest role's policy statements, with the bucket ARN written as `BUCKET`. */
function ingestStatements(): Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  const policies = Object.values(resourcesOfType(synth.template, 'AWS::IAM::Policy')).filter((policy) =>
    JSON.stringify(policy.Properties?.Roles).includes(ids().role),
  );
  const text = JSON.stringify(
    policies.flatMap((policy) => (policy.Properties as CfnJson).PolicyDocument.Statement),
  );
  return JSON.parse(text.replaceAll(`{"Fn::GetAtt":["${ids().bucket}","Arn"]}`, '"BUCKET"'));
}

/** Object prefixes on which the ingest role may perform `action`. */
function prefixesAllowed(action: string): string[] {
  return ingestStatements()
    .filter((statement) => [statement.Action].flat().includes(action))
    .flatMap((statement) => [statement.Resource].flat())
    .map((resource) => {
      const [base, suffix] = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [];
      if (base !== 'BUCKET') throw new Error(`unexpected resource ${JSON.stringify(resource)}`);
      return String(suffix).replace(/^\//, '');
    })
    .sort();
}

describe('ingest: S3 → SQS → Lambda', () => {
  it('notifies the queue of objects created under incoming/ only', () => {
    synth.template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: ids().bucket },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            QueueArn: { 'Fn::GetAtt': [ids().queue, 'Arn'] },
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: DATA_PREFIXES.incoming }] } },
          },
        ],
      },
    });
  });

  it('lets only S3 notifications from the data bucket send to the queue', () => {
    synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ids().queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids().bucket, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('encrypts both queues, requires TLS and sends poison messages to the dead-letter queue', () => {
    const queue = resources[ids().queue]!.Properties;
    const deadLetterQueue = resources[ids().deadLetterQueue]!.Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(deadLetterQueue.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ids().deadLetterQueue, 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(deadLetterQueue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    for (const id of [ids().queue, ids().deadLetterQueue]) {
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('hides a message longer than the function may run (visibility timeout > Lambda timeout)', () => {
    const timeout = resources[ids().function]!.Properties.Timeout as number;
    const visibility = resources[ids().queue]!.Properties.VisibilityTimeout as number;
    expect(visibility).toBeGreaterThan(timeout);
    expect(visibility).toBe(timeout * 6);
  });

  it('consumes the queue one message at a time with partial batch responses and bounded concurrency', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids().queue, 'Arn'] },
      FunctionName: { Ref: ids().function },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  it('runs the DuckDB ingest on x86_64 with 2 GB memory and 4 GB /tmp', () => {
    const fn = resources[ids().function]!.Properties;
    expect(fn.Architectures).toEqual(['x86_64']);
    expect(fn.MemorySize).toBe(2048);
    expect(fn.EphemeralStorage).toEqual({ Size: 4096 });
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Handler).toBe('index.handler');
    expect(DUCKDB_EXTERNAL_MODULES).toContain('@duckdb/node-bindings-linux-x64');
  });

  it('configures the handler with the shared runtime variables and Powertools', () => {
    const variables = resources[ids().function]!.Properties.Environment.Variables;
    expect(variables[ENV.bucket]).toEqual({ Ref: ids().bucket });
    expect(variables[ENV.table]).toEqual({ Ref: logicalIdOf(synth.stack, synth.stack.storage.table) });
    expect(variables[ENV.defaultCurrency]).toBe('EUR');
    expect(variables[ENV.retentionWeeks]).toBe('26');
    expect(variables.POWERTOOLS_SERVICE_NAME).toBe('cvm-ingest');
    expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('CvmPipeline');
  });

  it('may read incoming/ and config/, write clean/, rejected/, quarantine/ and delete only in incoming/', () => {
    expect(prefixesAllowed('s3:GetObject')).toEqual(['config/*', 'incoming/*']);
    expect(prefixesAllowed('s3:PutObject')).toEqual(['clean/*', 'incoming/*', 'quarantine/*', 'rejected/*']);
    expect(prefixesAllowed('s3:DeleteObject')).toEqual(['incoming/*']);
    expect(prefixesAllowed('s3:DeleteObjectVersion')).toEqual(['incoming/*']);
    // Its one write under incoming/ removes erased customers from an ingested upload, in the statement
    // that says so; the ingest that write triggers is a duplicate (privacy-erasure.test.ts).
    const incomingWrites = ingestStatements().filter(
      (statement) =>
        [statement.Action].flat().includes('s3:PutObject') &&
        JSON.stringify(statement.Resource).includes('incoming/'),
    );
    expect(incomingWrites.map((statement) => (statement as { Sid?: string }).Sid)).toEqual([
      'ScrubErasedCustomersFromUploads',
    ]);
    const listVersions = ingestStatements().find((statement) =>
      [statement.Action].flat().includes('s3:ListBucketVersions'),
    );
    expect(listVersions?.Condition).toEqual({ StringLike: { 's3:prefix': [`${DATA_PREFIXES.incoming}*`] } });
    expect(JSON.stringify(ingestStatements())).not.toContain('"s3:*"');
  });

  it('uses the table only for its reports and content markers, and reads the suppression list', () => {
    const tableArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.storage.table), 'Arn'] };
    const dynamo = ingestStatements().filter((statement) =>
      JSON.stringify(statement.Action).includes('dynamodb:'),
    );
    expect(dynamo).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: tableArn,
      }),
      // Erased customers' rows are dropped at ingest: one Query of the suppression list's index.
      expect.objectContaining({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [tableArn, `/index/${TABLE_KEYS.gsi1Name}`]] },
      }),
    ]);
  });
});
