/**
 * Wiring of the ingest service to its adapters (S3 objects, the DynamoDB report repository, the
 * DuckDB staging pipeline): what the Lambda handler builds once, and a one-call ingest for tests.
 */

import { type IngestService, ingestObject as ingestWith } from '#app/ingest/ingest-object.ts';
import type { IngestObjectRef } from '#app/ports/ingest-objects.ts';
import type { AppLogger } from '#app/ports/logger.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import type { AwsClients } from '../aws-clients.ts';
import type { RuntimeConfig } from '../config.ts';
import { createSuppressionRepository } from '../dynamo/suppression-repository.ts';
import { duckDbIngestPipeline } from './duckdb-pipeline.ts';
import { isTransientError } from './errors.ts';
import { IngestReportRepository, type ReportRepositoryOptions } from './report-repository.ts';
import { S3IngestObjects } from './s3-ingest-objects.ts';

export interface IngestDeps {
  config: RuntimeConfig;
  clients: Pick<AwsClients, 's3' | 'dynamo'>;
  now?: () => Date;
  /** Parent of the per-ingest working directory. @default os.tmpdir() */
  tmpDir?: string;
  logger?: AppLogger;
  /** @default `DEFAULT_LEASE_MS` */
  leaseMs?: number;
  /** Who takes the leases, and how to tell a holder is gone (local processes; see report-repository.ts). */
  leases?: ReportRepositoryOptions;
}

/** The ingest service over the S3, DynamoDB and DuckDB adapters. */
export function ingestService(deps: IngestDeps): IngestService {
  return {
    objects: new S3IngestObjects(deps.clients.s3, deps.config.bucket),
    reports: new IngestReportRepository(deps.clients.dynamo, deps.config.table, deps.leases),
    pipeline: duckDbIngestPipeline(deps.tmpDir !== undefined ? { tmpDir: deps.tmpDir } : {}),
    defaultCurrency: deps.config.defaultCurrency,
    isTransient: isTransientError,
    suppressedHashes: () =>
      createSuppressionRepository({
        dynamo: deps.clients.dynamo,
        table: deps.config.table,
      }).listSuppressedHashes(),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.leaseMs !== undefined ? { leaseMs: deps.leaseMs } : {}),
  };
}

/** Ingests one uploaded object with freshly wired adapters (tests and scripts). */
export function ingestObject(deps: IngestDeps, ref: IngestObjectRef): Promise<IngestReport> {
  return ingestWith(ingestService(deps), ref);
}
