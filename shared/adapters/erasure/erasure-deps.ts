/**
 * The erasure service's dependencies on DynamoDB and S3 (and, for the local stack, its home
 * directory), built the same way for `cvm forget`, the local API and the AWS erasure function.
 */
import type { ErasureDeps } from '#app/erasure/erase-customer.ts';
import type { AppLogger } from '#app/ports/logger.ts';
import type { AwsClients } from '../aws-clients.ts';
import type { RuntimeConfig } from '../config.ts';
import { createSuppressionRepository } from '../dynamo/suppression-repository.ts';
import { IngestReportRepository } from '../ingest/report-repository.ts';
import { createLocalPersonalData } from './local-personal-data.ts';
import { createS3ErasureObjects } from './s3-erasure-objects.ts';

export function createErasureDeps(
  config: Pick<RuntimeConfig, 'bucket' | 'table' | 'home'>,
  clients: Pick<AwsClients, 'dynamo' | 's3'>,
  options: { logger?: AppLogger; inboxDirectory?: string; purgeDeletedItems?: () => void } = {},
): ErasureDeps & { close(): Promise<void> } {
  const suppression = createSuppressionRepository({ dynamo: clients.dynamo, table: config.table });
  const objects = createS3ErasureObjects({ s3: clients.s3, bucket: config.bucket });
  return {
    suppression,
    hasScores: (customerId) => suppression.hasScores(customerId),
    objects,
    contentMarkers: new IngestReportRepository(clients.dynamo, config.table),
    // The local stack's home holds copies outside the bucket; in AWS there is none.
    ...(config.home
      ? {
          local: createLocalPersonalData({
            home: config.home,
            s3: clients.s3,
            bucket: config.bucket,
            ...(options.inboxDirectory ? { inboxDirectory: options.inboxDirectory } : {}),
            ...(options.purgeDeletedItems ? { purgeDeletedItems: options.purgeDeletedItems } : {}),
          }),
        }
      : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    close: () => objects.close(),
  };
}
