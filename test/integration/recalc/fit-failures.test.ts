/**
 * Fits that fail or are not identified, in a real local run: the run ends as failed with a message
 * saying what to try and the lock released at once; the automatic model choice with one-time buyers.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { acquireLockStep } from '#app/recalc/acquire-lock.ts';
import { fitModelsStep } from '#app/recalc/fit-models.ts';
import { releaseLockStep } from '#app/recalc/release-lock.ts';
import type { PreparedRun } from '#app/recalc/types.ts';
import { formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';
import {
  executeBodyUntil,
  localExecutor,
  localRecalcDeps,
  runLocalRecalculation,
} from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom, sampleGamma } from '#test-support/simulate.ts';

const AS_OF = '2024-06-30';
const HEADER = 'order_id,customer_id,order_date,amount,currency';

async function ingestCsv(stack: LocalStack, key: string, lines: string[]): Promise<void> {
  const put = await stack.clients.s3.send(
    new PutObjectCommand({
      Bucket: stack.config.bucket,
      Key: key,
      Body: `${[HEADER, ...lines].join('\n')}\n`,
    }),
  );
  const report = await ingestObject(
    { config: stack.config, clients: stack.clients },
    { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
  );
  expect(report.status, report.message).toBe('succeeded');
}

/** Every customer bought exactly once: no repeat purchases, nothing a purchase model can fit. */
function oneOrderEach(prefix: string, customers: number): string[] {
  const start = parseEpochDay('2023-01-01');
  return Array.from(
    { length: customers },
    (_, i) =>
      `${prefix}O${i},${prefix}${i},${formatEpochDay(start + (i % 500))},${(20 + (i % 30)).toFixed(2)},USD`,
  );
}

/**
 * Customers who mostly buy once (seeded): first purchase in 2023, purchase rate λ/day ~ Gamma(0.4,
 * rate 80), lifetime ~ Exponential(mean 150 days), observed to the as-of date.
 */
function mostlyOneTimeBuyers(prefix: string, customers: number): string[] {
  const random = createRandom(16);
  const start = parseEpochDay('2023-01-01');
  const end = parseEpochDay(AS_OF);
  const lines: string[] = [];
  let order = 0;
  for (let i = 0; i < customers; i++) {
    const first = start + Math.floor(random() * 365);
    const rate = sampleGamma(random, 0.4, 80);
    const death = first - Math.log(1 - random()) * 150;
    let day = first;
    let time = first;
    while (day <= end) {
      lines.push(
        `${prefix}O${order++},${prefix}${i},${formatEpochDay(day)},${(15 + random() * 60).toFixed(2)},USD`,
      );
      time += -Math.log(1 - random()) / rate;
      if (time > Math.min(death, end + 1)) break;
      day = Math.max(day + 1, Math.floor(time));
    }
  }
  return lines;
}

describe('fit failures in a run', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a data set that cannot be fitted fails the run with what to try, releases the lock, and the next run starts at once', async () => {
    await ingestCsv(stack, 'incoming/once/orders.csv', oneOrderEach('A', 300));
    const now = () => new Date('2024-07-01T06:00:00Z');
    await expect(
      runLocalRecalculation(stack, {
        asOf: AS_OF,
        runId: 'run-unfittable',
        now,
        config: { currency: 'USD' },
      }),
    ).rejects.toThrow(/insufficient-data/);
    const runs = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const failed = await runs.getRunRecord('run-unfittable');
    expect(failed?.status).toBe('failed');
    expect(failed?.message).toMatch(/bgnbd fit on the full period failed \(insufficient-data\)/);
    expect(failed?.message).toMatch(/Try: more history/);
    expect(await runs.getCurrentRunId()).toBeNull();

    // Same clock, no lease to wait out: the next run takes the lock and publishes.
    await ingestCsv(stack, 'incoming/repeat/orders.csv', mostlyOneTimeBuyers('B', 600));
    const next = await runLocalRecalculation(stack, { asOf: AS_OF, now, config: { currency: 'USD' } });
    expect(next.record.status).toBe('published');
    expect(next.record.model?.identified).toBe(true);
    expect(next.record.model?.warnings).toEqual([]);
  });

  it('a fit that runs out of its time budget fails the run naming the setting to raise', async () => {
    await expect(
      runLocalRecalculation(stack, {
        asOf: AS_OF,
        runId: 'run-out-of-time',
        config: { currency: 'USD', fitTimeLimitSeconds: 0.000_001 },
      }),
    ).rejects.toThrow(/time-limit/);
    const runs = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const failed = await runs.getRunRecord('run-out-of-time');
    expect(failed?.status).toBe('failed');
    expect(failed?.message).toMatch(/fitTimeLimitSeconds/);
  });

  it('in the state machine shape: the Catch output of a failed fit step is recorded and the lock freed', async () => {
    const deps = localRecalcDeps(stack, {});
    // Released in `finally` too, so a failed expectation here does not leave the lock to the next test.
    let held: string | undefined;
    try {
      const locked = await acquireLockStep(deps, {
        asOf: AS_OF,
        config: { currency: 'USD', fitTimeLimitSeconds: 0.000_001 },
        leaseMinutes: 360,
      });
      held = locked.runId;
      // Every step up to the fit, warehouse tasks included, as the pipeline runs them.
      const prepared = (await executeBodyUntil(
        localExecutor(stack, deps),
        locked,
        'fitModels',
      )) as PreparedRun;
      const error = (await fitModelsStep(deps, prepared).catch((e: Error) => e)) as Error;
      expect(error.name).toBe('ModelFitError');
      // What Step Functions hands the failure path: the Lambda error as Error + Cause JSON.
      const released = await releaseLockStep(deps, {
        runId: locked.runId,
        startedAt: locked.startedAt,
        error: {
          Error: error.name,
          Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }),
        },
        run: prepared,
      });
      expect(released).toEqual({ runId: locked.runId, released: true, recordedFailure: true });
      held = undefined;
      const record = await deps.runs.getRunRecord(locked.runId);
      expect(record?.status).toBe('failed');
      expect(record?.message).toMatch(/^ModelFitError: Run .* fit on the full period failed \(time-limit\)/);
      // A 6-hour lease was taken, yet the next run gets the lock right away.
      const next = await acquireLockStep(deps, { asOf: AS_OF });
      await releaseLockStep(deps, { runId: next.runId });
    } finally {
      if (held) await releaseLockStep(deps, { runId: held });
      await deps.close();
    }
  });

  it('auto: with mostly one-time buyers MBG/NBD competes, and the identified candidate with the lowest holdout error wins', async () => {
    const deps = localRecalcDeps(stack, {});
    let runId: string | undefined;
    try {
      const locked = await acquireLockStep(deps, {
        asOf: AS_OF,
        model: 'auto',
        config: { currency: 'USD' },
        leaseMinutes: 30,
      });
      runId = locked.runId;
      // Every step up to the fit, warehouse tasks included, as the pipeline runs them.
      const prepared = (await executeBodyUntil(
        localExecutor(stack, deps),
        locked,
        'fitModels',
      )) as PreparedRun;
      const fitted = await fitModelsStep(deps, prepared);
      const notes = fitted.messages.join('\n');
      expect(notes).toMatch(/% of the calibration customers bought once: MBG\/NBD/);
      expect(Object.keys(fitted.candidates).sort()).toEqual(['bgnbd', 'mbgnbd', 'pareto']);
      const unidentified = fitted.messages
        .map((m) => /^holdout fit of (\w+) is not identified/.exec(m)?.[1])
        .filter((m): m is string => m !== undefined);
      const ranked = (
        Object.entries(fitted.candidates).filter(
          ([model, error]) => error !== null && !unidentified.includes(model),
        ) as [string, number][]
      )
        .sort((a, b) => a[1] - b[1])
        .map(([model]) => model);
      // The best identified candidate wins, unless its full-period fit failed (then the next, and
      // the run says why).
      const winner = ranked.indexOf(fitted.model.name);
      expect(winner).toBeGreaterThanOrEqual(0);
      for (const better of ranked.slice(0, winner)) {
        expect(notes).toMatch(new RegExp(`the ${better} fit on the full period failed`));
      }
      expect(fitted.holdout?.model).toBe(fitted.model.name);
      expect(fitted.model.identified).toBeTypeOf('boolean');
    } finally {
      if (runId) await releaseLockStep(deps, { runId });
      await deps.close();
    }
  });
});
