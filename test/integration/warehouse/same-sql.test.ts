/**
 * Proves that the Athena adapter submits exactly the SQL text that runs on DuckDB, and that its
 * result path (UNLOAD to Parquet in S3, read back with hyparquet) returns what DuckDB returns.
 *
 * Athena cannot run here, so its client is replaced with aws-sdk-client-mock: StartQueryExecution
 * captures the QueryString, and — to exercise the real read path — performs the UNLOAD by running the
 * captured inner text on DuckDB and writing the Parquet parts to the requested location in the local
 * S3 stand-in. Everything after that (polling, listing, hyparquet decoding) is the adapter's own code.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AthenaWarehouse } from '#adapters/warehouse/athena-warehouse.ts';
import { listCleanSources } from '#adapters/warehouse/clean-sources.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { readParquetParts } from '#adapters/warehouse/parquet-parts.ts';
import { recalcStatements } from '#adapters/warehouse/queries.ts';
import { runOutputPrefix } from '#domain/bucket-layout.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { type AthenaOverDuckDb, athenaOverDuckDb } from './athena-over-duckdb.ts';
import { cdnowCleanRows, putCleanFile } from './clean-files.ts';

const PARAMS = {
  asOf: '1998-06-30',
  calibrationEnd: '1998-03-31',
  timeUnit: 'weeks',
  currency: 'USD',
  // What the recalculation passes in AWS (listCleanSources): Athena needs static source values.
  sources: ['cdnow'] as string[],
} as const;

describe('Athena and DuckDB run the same SQL text', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let duck: DuckDbWarehouse;
  let athenaWarehouse: AthenaWarehouse;
  /** Texts DuckDB executed (adapter hook) and texts Athena was asked to run inside UNLOAD. */
  const ranOnDuckDb: string[] = [];
  let submittedToAthena: string[] = [];
  let athenaStandIn: AthenaOverDuckDb;

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-same-sql-'));
    const text = await readFile(new URL('../../fixtures/cdnow/CDNOW_sample.txt', import.meta.url), 'utf8');
    await putCleanFile(stack.clients.s3, stack.config.bucket, {
      source: 'cdnow',
      ingestDate: '2024-01-01',
      rows: cdnowCleanRows(text, 'ingest-a', '2024-01-01T00:00:00Z'),
    });
    duck = await createDuckDbWarehouse({
      s3: stack.clients.s3,
      bucket: stack.config.bucket,
      cacheDirectory,
      onStatement: (_name, sql) => ranOnDuckDb.push(sql),
    });

    athenaStandIn = athenaOverDuckDb(stack, duck);
    submittedToAthena = athenaStandIn.submitted;
    athenaWarehouse = athenaStandIn.warehouse;
  });
  afterAll(async () => {
    athenaStandIn?.restore();
    await duck?.close();
    await stack?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('lists the ingested sources the statements must name', async () => {
    expect(await listCleanSources(stack.clients.s3, stack.config.bucket)).toEqual([...PARAMS.sources]);
  });

  it('gives the same rows for every recalculation statement, from the same text', async () => {
    for (const [key, statement] of Object.entries(recalcStatements(PARAMS))) {
      ranOnDuckDb.length = 0;
      submittedToAthena.length = 0;
      const fromDuckDb = await duck.query(statement as never);
      const fromAthena = await athenaWarehouse.query(statement as never);
      expect(submittedToAthena, key).toEqual([statement.sql]);
      expect(ranOnDuckDb[0], key).toBe(statement.sql);
      expect(fromAthena, key).toEqual(fromDuckDb);
      expect((fromAthena as unknown[]).length, key).toBeGreaterThan(0);
    }
  });

  it('unloads the customer summaries to the run prefix for the scoring parts', async () => {
    const statement = recalcStatements(PARAMS).customerSummaries;
    const prefix = runOutputPrefix('test-run', statement.name);
    const parts = await athenaWarehouse.unload(statement, { bucket: stack.config.bucket, prefix });
    expect(parts.keys.length).toBeGreaterThan(0);
    const rows = [];
    for await (const batch of readParquetParts(
      stack.clients.s3,
      parts.bucket,
      parts.prefix,
      statement.decode,
    )) {
      rows.push(...batch);
    }
    expect(rows.sort(statement.compare)).toEqual(await duck.query(statement));
  });
});
