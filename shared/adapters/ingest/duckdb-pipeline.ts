/**
 * The ingest's staging pipeline on the local file system and DuckDB: a private temporary directory
 * per ingest, the streaming parser's staged files in it, and DuckDB's rules and Parquet `COPY` over them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestPipeline, IngestWorkspace } from '#app/ports/ingest-pipeline.ts';
import { finishAttributesWithDuckDb, stageAttributes } from './attributes-ingest.ts';
import { finishWithDuckDb } from './finish-with-duckdb.ts';
import { stageExport } from './stage-export.ts';
import { finishSubscriptionsWithDuckDb, stageSubscriptions } from './subscriptions-ingest.ts';

export interface DuckDbPipelineOptions {
  /** Parent of the per-ingest working directory. @default os.tmpdir() */
  tmpDir?: string;
}

export function duckDbIngestPipeline(options: DuckDbPipelineOptions = {}): IngestPipeline {
  return {
    async open(): Promise<IngestWorkspace> {
      const workDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'cvm-ingest-'));
      return {
        stage: (request) =>
          request.kind === 'customers'
            ? stageAttributes({ ...request, workDir })
            : request.kind === 'subscriptions'
              ? stageSubscriptions({ ...request, workDir })
              : stageExport({ ...request, workDir }),
        finish: (request) =>
          request.kind === 'customers'
            ? finishAttributesWithDuckDb({ ...request, workDir })
            : request.kind === 'subscriptions'
              ? finishSubscriptionsWithDuckDb({ ...request, workDir })
              : finishWithDuckDb({ ...request, workDir }),
        dispose: () => rm(workDir, { recursive: true, force: true }),
      };
    },
  };
}
