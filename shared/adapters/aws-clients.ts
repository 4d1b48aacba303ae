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
  athena: AthenaClient;
  eventBridge: EventBridgeClient;
  sfn: SFNClient;
}

/**
 * The one place that builds SDK clients. Handlers call it at module scope (so clients are reused
 * across invocations) and tests/the local stack call it with the stand-ins' endpoints.
 */
export function createAwsClients(config: RuntimeConfig): AwsClients {
  const credentials = config.localCredentials ? LOCAL_CREDENTIALS : undefined;
  const base = { region: config.region, ...(credentials ? { credentials } : {}) };
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
  const dynamoBase = new DynamoDBClient({
    ...base,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
  });
  const dynamo = DynamoDBDocumentClient.from(dynamoBase, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return {
    s3,
    dynamo,
    athena: new AthenaClient(base),
    eventBridge: new EventBridgeClient(base),
    sfn: new SFNClient(base),
  };
}
