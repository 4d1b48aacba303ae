/**
 * CDK construct of the pipeline's storage: the data bucket with its lifecycle rules and access-log
 * bucket, the single DynamoDB table, and grants scoped to key prefixes.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '#adapters/dynamo/keys.ts';
import { BUCKET_PREFIXES } from '#domain/bucket-layout.ts';
import { acknowledgeWildcardResources, PREFIX_WILDCARD_REASON } from '../nag.ts';

const S3_ACCESS_LOGS_USE_BUCKET_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

/** Top-level prefixes of the data bucket (the one layout module). */
export const DATA_PREFIXES = BUCKET_PREFIXES;

export interface StorageProps {
  /**
   * Keep the data bucket, the access-log bucket and the table when the stack is deleted.
   * @default true
   */
  readonly retainData?: boolean;
  /**
   * Days uploaded exports are kept in `incoming/`, current and earlier versions alike: the raw rows
   * of every customer, erased ones included (erasure rewrites them; this bounds what a missed copy
   * could keep).
   * @default 30
   */
  readonly incomingRetentionDays?: number;
  /** Days rejected-row files are kept. @default 90 */
  readonly rejectedRetentionDays?: number;
  /** Days quarantined exports are kept. @default 90 */
  readonly quarantineRetentionDays?: number;
  /** Days Athena query results are kept (they are re-creatable). @default 7 */
  readonly athenaResultsRetentionDays?: number;
  /** Days run artefacts (UNLOAD parts, models) are kept; the scores themselves live in DynamoDB. @default 30 */
  readonly runArtifactsRetentionDays?: number;
  /** Days overwritten or deleted object versions are kept. @default 30 */
  readonly noncurrentVersionRetentionDays?: number;
  /** Days S3 server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
}

/**
 * Where the pipeline keeps its data: one versioned, encrypted, TLS-only, private bucket (with server
 * access logging to a second bucket) and the single DynamoDB table of `shared/adapters/dynamo/keys.ts`.
 */
export class Storage extends Construct {
  readonly dataBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    // Let S3 logging deliver through a bucket policy on the log bucket instead of the legacy
    // LogDeliveryWrite ACL, so both buckets keep ACLs disabled (BucketOwnerEnforced). Set on this
    // construct so it holds whatever feature flags the app has.
    this.node.setContext(S3_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;
    const days = (value: number | undefined, fallback: number) => Duration.days(value ?? fallback);

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // S3 server access logging delivers only to buckets with SSE-S3 (not SSE-KMS) encryption.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: days(props.accessLogRetentionDays, 365) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects,
    });

    this.dataBucket = new s3.Bucket(this, 'DataBucket', {
      // SSE-S3 rather than SSE-KMS: S3 notifications, Athena and Step Functions' item reader all work
      // without key policies, and there is no per-request KMS charge on every Parquet read.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'expire-incoming',
          prefix: DATA_PREFIXES.incoming,
          expiration: days(props.incomingRetentionDays, 30),
          noncurrentVersionExpiration: days(props.incomingRetentionDays, 30),
        },
        {
          id: 'expire-rejected-rows',
          prefix: DATA_PREFIXES.rejected,
          expiration: days(props.rejectedRetentionDays, 90),
        },
        {
          id: 'expire-quarantine',
          prefix: DATA_PREFIXES.quarantine,
          expiration: days(props.quarantineRetentionDays, 90),
        },
        {
          id: 'expire-athena-results',
          prefix: DATA_PREFIXES.athenaResults,
          expiration: days(props.athenaResultsRetentionDays, 7),
        },
        {
          id: 'expire-run-artifacts',
          prefix: DATA_PREFIXES.runs,
          expiration: days(props.runArtifactsRetentionDays, 30),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: days(props.noncurrentVersionRetentionDays, 30),
          expiredObjectDeleteMarker: true,
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      // On demand: nothing to pay while idle, and weekly score publishing is a short burst.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.gsi1Name,
      partitionKey: { name: TABLE_KEYS.gsi1PartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.gsi1SortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Playbook audiences by value at stake (a score is listed in its segment and in its audience).
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.gsi2Name,
      partitionKey: { name: TABLE_KEYS.gsi2PartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.gsi2SortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Run lists (high-value detractors) by net CLV: sparse, only listed scores carry its key.
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.gsi3Name,
      partitionKey: { name: TABLE_KEYS.gsi3PartitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.gsi3SortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** ARN of objects under `prefix` of the data bucket, e.g. `arn:…:bucket/clean/*`. */
  objectsUnder(prefix: string): string {
    return this.dataBucket.arnForObjects(`${prefix}*`);
  }

  /**
   * Grants object `actions` under the given key prefixes only (and acknowledges the prefix wildcards
   * in cdk-nag: they are the narrowest grant possible). The one way roles get object access here.
   */
  grantObjects(role: iam.IRole, sid: string, actions: string[], prefixes: readonly string[]): void {
    const resources = prefixes.map((prefix) => this.objectsUnder(prefix));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    acknowledgeWildcardResources(role, resources, PREFIX_WILDCARD_REASON);
  }

  /**
   * Grants ListBucket for keys under the given prefixes. Without it a missing key answers 403 instead
   * of 404, and listing is how steps find their parts.
   */
  grantList(role: iam.IRole, sid: string, prefixes: readonly string[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['s3:ListBucket'],
        resources: [this.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
      }),
    );
  }

  /** ARN of the table's GSI1 (named, not `index/*`, so grants stay exact). */
  get gsi1Arn(): string {
    return `${this.table.tableArn}/index/${TABLE_KEYS.gsi1Name}`;
  }

  /** ARN of the table's GSI2 (playbook audiences). */
  get gsi2Arn(): string {
    return `${this.table.tableArn}/index/${TABLE_KEYS.gsi2Name}`;
  }

  /** ARN of the table's GSI3 (run lists). */
  get gsi3Arn(): string {
    return `${this.table.tableArn}/index/${TABLE_KEYS.gsi3Name}`;
  }
}
