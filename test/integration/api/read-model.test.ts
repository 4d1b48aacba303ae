/**
 * The read model's single-item reads go through the low-level client (cached middleware) and convert
 * attribute values themselves; they must return exactly what the document client returns for the same
 * items, including nested maps and lists, nulls and numbers.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRunPointerKey, runKey, scoreKey } from '#adapters/dynamo/keys.ts';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { runRecordSchema } from '#domain/run.ts';
import { customerScoreSchema } from '#domain/score.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { seedRun, syntheticRun } from '#test-support/seed-scores.ts';

describe('score read model: single-item reads', () => {
  let stack: LocalStack;
  const seeded = syntheticRun({
    runId: 'read-model-run',
    asOf: '2026-10-31',
    startedAt: '2026-11-01T00:00:00.000Z',
    customers: 40,
  });

  const viaDocumentClient = async (key: Record<string, string>) =>
    (await stack.clients.dynamo.send(new GetCommand({ TableName: stack.config.table, Key: key }))).Item;

  beforeAll(async () => {
    stack = await startLocalStack();
    await seedRun({ dynamo: stack.clients.dynamo, table: stack.config.table }, seeded);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('returns every score exactly as the document client reads it', async () => {
    const readModel = createScoreReadModel(stack.clients, stack.config.table);
    // Null next-purchase dates and whole-number amounts are where conversions tend to differ.
    expect(seeded.scores.some((score) => score.expectedNextPurchaseDate === null)).toBe(true);
    for (const score of seeded.scores) {
      const read = await readModel.getScore(score.customerId, seeded.run.runId);
      const expected = customerScoreSchema.parse(
        await viaDocumentClient(scoreKey(score.customerId, seeded.run.runId)),
      );
      expect(read).toStrictEqual(expected);
      expect(read).toEqual(score);
    }
  });

  it('returns the run record (nested segments, migration, parameters) as the document client does', async () => {
    const readModel = createScoreReadModel(stack.clients, stack.config.table);
    const read = await readModel.getRun(seeded.run.runId);
    expect(read).toStrictEqual(runRecordSchema.parse(await viaDocumentClient(runKey(seeded.run.runId))));
    expect(read).toEqual(seeded.run);
  });

  it('reads the current-run pointer and answers null for missing items', async () => {
    const readModel = createScoreReadModel(stack.clients, stack.config.table);
    expect((await viaDocumentClient(currentRunPointerKey()))?.runId).toBe(seeded.run.runId);
    expect(await readModel.currentRunId()).toBe(seeded.run.runId);
    expect(await readModel.getScore('no-such-customer', seeded.run.runId)).toBeNull();
    expect(await readModel.getRun('no-such-run')).toBeNull();
    expect(await readModel.getIngest('no-such-ingest')).toBeNull();
  });
});
