/**
 * Synthesized storage: encrypted, private, TLS-only buckets with versioning, access logs and lifecycle
 * rules, and the single table as keys.ts defines it, retained on delete.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS } from '#adapters/dynamo/keys.ts';
import { DATA_PREFIXES } from '#infra/aws/constructs/storage.ts';
import {
  type CfnJson,
  logicalIdOf,
  onlyResource,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

let synth: SynthesizedPipeline;
let resources: Record<string, { Type: string; Properties: Record<string, CfnJson>; DeletionPolicy?: string }>;
beforeAll(() => {
  synth = synthPipeline();
  resources = synth.template.toJSON().Resources;
});
afterAll(() => synth.cleanup());

const bucket = (which: 'dataBucket' | 'accessLogBucket') =>
  resources[logicalIdOf(synth.stack, synth.stack.storage[which])]!;

describe('storage', () => {
  it.each(['dataBucket', 'accessLogBucket'] as const)('%s is encrypted, private and ACL-free', (which) => {
    const { Properties } = bucket(which);
    expect(Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  it.each(['dataBucket', 'accessLogBucket'] as const)('%s denies every request without TLS', (which) => {
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(synth.stack, synth.stack.storage[which]) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('versions the data bucket and logs its access to the access-log bucket', () => {
    const { Properties } = bucket('dataBucket');
    expect(Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalIdOf(synth.stack, synth.stack.storage.accessLogBucket) },
      LogFilePrefix: 'data-bucket/',
    });
  });

  it('expires uploads in incoming/ after 30 days by default, current and earlier versions', () => {
    const rules = bucket('dataBucket').Properties.LifecycleConfiguration.Rules as Array<
      Record<string, CfnJson>
    >;
    const incoming = rules.filter((rule) => rule.Prefix === DATA_PREFIXES.incoming);
    expect(incoming).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        ExpirationInDays: 30,
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      }),
    ]);
  });

  it('takes the incoming/ retention from the deployment config', () => {
    const custom = synthPipeline({ incomingRetentionDays: 7 });
    try {
      const rules = custom.template.toJSON().Resources[
        logicalIdOf(custom.stack, custom.stack.storage.dataBucket)
      ].Properties.LifecycleConfiguration.Rules as Array<Record<string, CfnJson>>;
      expect(rules.find((rule) => rule.Prefix === DATA_PREFIXES.incoming)).toMatchObject({
        ExpirationInDays: 7,
        NoncurrentVersionExpiration: { NoncurrentDays: 7 },
      });
    } finally {
      custom.cleanup();
    }
  });

  it('expires rejected rows, quarantined exports, Athena results and run files, never clean data', () => {
    const rules = bucket('dataBucket').Properties.LifecycleConfiguration.Rules as Array<{
      Prefix?: string;
      ExpirationInDays?: number;
      NoncurrentVersionExpiration?: { NoncurrentDays: number };
    }>;
    const expiryByPrefix = Object.fromEntries(
      rules.filter((rule) => rule.Prefix).map((rule) => [rule.Prefix, rule.ExpirationInDays]),
    );
    expect(expiryByPrefix).toEqual({
      [DATA_PREFIXES.incoming]: 30,
      [DATA_PREFIXES.rejected]: 90,
      [DATA_PREFIXES.quarantine]: 90,
      [DATA_PREFIXES.athenaResults]: 7,
      [DATA_PREFIXES.runs]: 30,
    });
    // Whole-bucket rules only clean up old versions and incomplete uploads.
    const unprefixedExpirations = rules.filter((rule) => !rule.Prefix && rule.ExpirationInDays !== undefined);
    expect(unprefixedExpirations).toEqual([]);
    expect(rules.some((rule) => rule.NoncurrentVersionExpiration?.NoncurrentDays === 30)).toBe(true);
  });

  it('keeps both buckets and the table when the stack is deleted (default retainData)', () => {
    expect(bucket('dataBucket').DeletionPolicy).toBe('Retain');
    expect(bucket('accessLogBucket').DeletionPolicy).toBe('Retain');
    const table = onlyResource(synth.template, 'AWS::DynamoDB::Table');
    expect(resources[table.id]!.DeletionPolicy).toBe('Retain');
    expect(table.properties.DeletionProtectionEnabled).toBe(true);
  });

  it('creates the single table of keys.ts: on demand, PITR, TTL, encrypted, with GSI1', () => {
    const { properties } = onlyResource(synth.template, 'AWS::DynamoDB::Table');
    expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(properties.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE_KEYS.ttlAttribute,
      Enabled: true,
    });
    expect(properties.KeySchema).toEqual([
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ]);
    expect(properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: TABLE_KEYS.gsi1Name,
        KeySchema: [
          { AttributeName: TABLE_KEYS.gsi1PartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.gsi1SortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: TABLE_KEYS.gsi2Name,
        KeySchema: [
          { AttributeName: TABLE_KEYS.gsi2PartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.gsi2SortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: TABLE_KEYS.gsi3Name,
        KeySchema: [
          { AttributeName: TABLE_KEYS.gsi3PartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.gsi3SortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });
});
