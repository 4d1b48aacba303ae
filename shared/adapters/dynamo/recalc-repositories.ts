/** The DynamoDB repositories of the recalculation, built together over one table. */
import type { DynamoTable } from './batch.ts';
import { createIngestCatalog } from './ingest-catalog.ts';
import { createRecalcLock, type RecalcLockOptions } from './recalc-lock.ts';
import { createRunRepository } from './run-repository.ts';
import { createScoreRepository } from './score-repository.ts';
import { createSuppressionRepository } from './suppression-repository.ts';

export function createRecalcRepositories(table: DynamoTable, lockOptions: RecalcLockOptions = {}) {
  return {
    lock: createRecalcLock(table, lockOptions),
    runs: createRunRepository(table),
    scores: createScoreRepository(table),
    suppression: createSuppressionRepository(table),
    ingests: createIngestCatalog(table),
  };
}

export type RecalcRepositories = ReturnType<typeof createRecalcRepositories>;
export type { DynamoTable, RetryOptions } from './batch.ts';
