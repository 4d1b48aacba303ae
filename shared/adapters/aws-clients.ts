/**
 * The AWS SDK clients of the pipeline, built in one place from the runtime configuration, pointed at AWS
 * or at the local stand-ins alike.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RuntimeConfig } from './config.ts';

/** Credentials the local stand-ins accept; never used against AWS. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface AwsClients {
  s3: S3Client;
  /** Document client: plain JS values in and out, `undefined` attributes dropped. */
  dynamo: DynamoDBDocumentClient;
  /**
   * Low-level DynamoDB client (attribute values in and out) that resolves its middleware stack once per
   * command type instead of on every call (`cacheMiddleware`), which the document client cannot do. For
   * the API's per-request item reads; middleware added to it after its first call is not applied.
   */
  rawDynamo: DynamoDBClient;
  athena: AthenaClient;
  eventBridge: EventBridgeClient;
  sfn: SFNClient;
}

/** Region and, for the local stand-ins, their credentials: what every client shares. */
function baseClientConfig(config: RuntimeConfig) {
  const credentials = config.localCredentials ? LOCAL_CREDENTIALS : undefined;
  return { region: config.region, ...(credentials ? { credentials } : {}) };
}

/**
 * The DynamoDB clients alone, for code that needs nothing else (the API Lambda): a bundle that imports
 * only this and {@link createSfnClient} leaves the S3, Athena and EventBridge clients out.
 */
export function createDynamoClients(config: RuntimeConfig): Pick<AwsClients, 'dynamo' | 'rawDynamo'> {
  const dynamoConfig = {
    ...baseClientConfig(config),
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  };
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoConfig), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { dynamo, rawDynamo: new DynamoDBClient({ ...dynamoConfig, cacheMiddleware: true }) };
}

export function createSfnClient(config: RuntimeConfig): SFNClient {
  return new SFNClient(baseClientConfig(config));
}

/**
 * The one place that builds SDK clients. Handlers call it at module scope (so clients are reused
 * across invocations) and tests/the local stack call it with the stand-ins' endpoints.
 */
export function createAwsClients(config: RuntimeConfig): AwsClients {
  const base = baseClientConfig(config);
  const s3 = new S3Client({
    ...base,
    ...(config.s3Endpoint
      ? {
          endpoint: config.s3Endpoint,
          // s3rver only understands path-style URLs and predates the SDK's default CRC32 checksums.
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  return {
    s3,
    ...createDynamoClients(config),
    athena: new AthenaClient(base),
    eventBridge: new EventBridgeClient(base),
    sfn: createSfnClient(config),
  };
}
