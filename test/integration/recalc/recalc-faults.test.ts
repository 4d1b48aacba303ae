import type { BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { RecalcLockedError } from '#app/ports/recalc-lock.ts';
import { acquireLockStep } from '#app/recalc/acquire-lock.ts';
import { fitModelsStep } from '#app/recalc/fit-models.ts';
import { scorePartStep } from '#app/recalc/score-part.ts';
import type { PreparedRun } from '#app/recalc/types.ts';
import { migrationRowSums } from '#domain/migration.ts';
import {
  executeBodyUntil,
  localExecutor,
  localRecalcDeps,
  runLocalRecalculation,
} from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample, scoresOfRun } from './sample.ts';

const AS_OF = '1998-06-30';
const SETTINGS = { asOf: AS_OF, config: { currency: 'USD', holdoutWeeks: 39 } };

// Each full run writes ~2,350 items to dynalite (~500 items/s in-process): allow minutes, not seconds.
describe('recalculation faults', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a run killed between writing items and flipping the pointer leaves readers on the previous run; the next run completes', async () => {
    const store = {
      ...createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table }),
      getScore: createScoreReadModel(stack.clients, stack.config.table).getScore,
    };
    const published = await runLocalRecalculation(stack, SETTINGS);
    const before = await store.getScore('0001', published.record.runId);

    // The killed run: lock, summarize, fit, and every score item written — then nothing (no
    // finalize, no lock release), as when the process dies before the pointer flip.
    const killedAt = new Date();
    const deps = localRecalcDeps(stack, { now: () => killedAt });
    try {
      const locked = await acquireLockStep(deps, {
        ...SETTINGS,
        leaseMinutes: 30,
        config: { ...SETTINGS.config, clv: { margin: 0.5 } },
      });
      // Every step up to the fit, warehouse tasks included, as the pipeline runs them.
      const prepared = (await executeBodyUntil(
        localExecutor(stack, deps),
        locked,
        'fitModels',
      )) as PreparedRun;
      const fitted = await fitModelsStep(deps, prepared);
      for (const partKey of fitted.summaryPartKeys) await scorePartStep(deps, { run: fitted, partKey });
      const orphan = await store.getScore('0001', locked.runId);
      expect(orphan?.clv).toBeCloseTo(before!.clv / 2, 1);
    } finally {
      await deps.close();
    }

    // Readers follow the pointer: still the published run, with its scores.
    const current = await store.getCurrentRunId();
    expect(current).toBe(published.record.runId);
    expect(await store.getScore('0001', current!)).toEqual(before);

    // While the dead run's lease lasts, a new run is refused; after it, the next run completes.
    await expect(
      runLocalRecalculation(stack, { ...SETTINGS, now: () => new Date(killedAt.getTime() + 60_000) }),
    ).rejects.toThrow(RecalcLockedError);
    const next = await runLocalRecalculation(stack, {
      ...SETTINGS,
      now: () => new Date(killedAt.getTime() + 31 * 60_000),
    });
    expect(await store.getCurrentRunId()).toBe(next.record.runId);
    expect(next.record.previousRunId).toBe(published.record.runId);
    const sums = migrationRowSums(next.record.migration!);
    for (const segment of published.record.segments) {
      if (segment.customers > 0) expect(sums[segment.segment]).toBe(segment.customers);
    }
  });

  it('two concurrent runs: one publishes, the other is refused with a message naming the holder', async () => {
    const results = await Promise.allSettled([
      runLocalRecalculation(stack, SETTINGS),
      runLocalRecalculation(stack, SETTINGS),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(RecalcLockedError);
    expect((rejected[0]!.reason as Error).message).toMatch(
      /Another recalculation is running: run \S+ holds the lock since/,
    );
    // The refused run did not release the winner's lock or publish anything.
    const store = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const winner = (fulfilled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof runLocalRecalculation>>>)
      .value;
    expect(await store.getCurrentRunId()).toBe(winner.record.runId);
  });

  it('loses no score when DynamoDB returns UnprocessedItems and throttles (injected at the SDK layer)', async () => {
    let calls = 0;
    let throttled = 0;
    let deferred = 0;
    // Every third BatchWriteItem call is throttled; the others write only half their items and hand
    // the rest back as UnprocessedItems, as DynamoDB does under load.
    stack.clients.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        calls++;
        if (calls % 3 === 0) {
          throttled++;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ThrottlingException',
            $metadata: {},
          });
        }
        const input = args.input as BatchWriteItemCommandInput;
        const [table, requests] = Object.entries(input.RequestItems ?? {})[0]!;
        if (requests.length < 2) return next(args);
        const keep = requests.slice(0, Math.ceil(requests.length / 2));
        const unprocessed = requests.slice(keep.length);
        deferred += unprocessed.length;
        const result = await next({ ...args, input: { ...input, RequestItems: { [table]: keep } } });
        (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: unprocessed };
        return result;
      },
      { step: 'initialize', name: 'injectUnprocessedItems' },
    );
    try {
      const result = await runLocalRecalculation(stack, { ...SETTINGS, retry: { sleep: async () => {} } });
      expect(throttled).toBeGreaterThan(0);
      expect(deferred).toBeGreaterThan(0);
      expect(result.parts.reduce((n, p) => n + p.writes.retries, 0)).toBeGreaterThan(0);
      const items = await scoresOfRun(
        stack,
        result.record.runId,
        result.record.segments.map((s) => s.segment),
      );
      expect(items).toHaveLength(result.record.customers);
      expect(new Set(items.map((item) => item.customerId)).size).toBe(result.record.customers);
    } finally {
      stack.clients.dynamo.middlewareStack.remove('injectUnprocessedItems');
    }
  });
});
