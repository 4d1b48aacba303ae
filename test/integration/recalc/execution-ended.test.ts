/**
 * Runs that end without their own release: a state machine execution that timed out or was
 * stopped (its status-change event reaches the `executionEnded` handler), and a run whose lease ran
 * out and whose lock the next run took. Neither leaves the lock held nor its record "running".
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecalcRepositories } from '#adapters/dynamo/recalc-repositories.ts';
import { acquireLockStep } from '#app/recalc/acquire-lock.ts';
import { releaseLockStep } from '#app/recalc/release-lock.ts';
import type { PreparedRun } from '#app/recalc/types.ts';
import { createRecalcHandlers } from '#functions/recalc/handler.ts';
import { executeBodyUntil, localExecutor, localRecalcDeps } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample } from './sample.ts';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:cvm-recalc:weekly-0001';
const statusChange = (executionArn: string, status: 'FAILED' | 'TIMED_OUT' | 'ABORTED') => ({
  'detail-type': 'Step Functions Execution Status Change' as const,
  source: 'aws.states',
  detail: { executionArn, status, stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:cvm' },
});

describe('runs that end without their own release', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('an execution that timed out: its end releases the lock and records the run failed', async () => {
    const deps = localRecalcDeps(stack, {});
    const handlers = createRecalcHandlers(deps, []);
    try {
      // What the state machine does: the execution ARN comes with the request as the lock holder.
      const locked = await acquireLockStep(deps, {
        asOf: '1998-06-30',
        config: { currency: 'USD' },
        lockHolder: EXECUTION,
      });
      expect(locked.lockHolder).toBe(EXECUTION);
      // The steps up to the summaries (the run record says running from planRun on).
      const prepared = (await executeBodyUntil(
        localExecutor(stack, deps),
        locked,
        'unloadSummaries',
      )) as PreparedRun;
      expect((await deps.lock.current())?.holder).toBe(EXECUTION); // kept when the lease was renewed
      expect((await deps.runs.getRunRecord(prepared.runId))?.status).toBe('running');

      // The end of another execution is not this lock's: nothing changes.
      const other = await handlers.executionEnded(
        statusChange(`${EXECUTION}-other`, 'ABORTED'),
        {} as Context,
      );
      expect(other).toMatchObject({ runId: null, released: false });

      const ended = await handlers.executionEnded(statusChange(EXECUTION, 'TIMED_OUT'), {} as Context);
      expect(ended).toEqual({
        executionArn: EXECUTION,
        runId: locked.runId,
        released: true,
        recordedFailure: true,
      });
      const record = await deps.runs.getRunRecord(locked.runId);
      expect(record?.status).toBe('failed');
      expect(record?.message).toMatch(/^aborted: the state machine execution timed out before run/);
      expect(await deps.lock.current()).toMatchObject({ runId: locked.runId, released: true });

      // The event arrives again (EventBridge delivers at least once): nothing more happens.
      const again = await handlers.executionEnded(statusChange(EXECUTION, 'TIMED_OUT'), {} as Context);
      expect(again).toMatchObject({ runId: null, released: false, recordedFailure: false });

      // The next run gets the lock at once.
      const next = await acquireLockStep(deps, { asOf: '1998-06-30' });
      await releaseLockStep(deps, { runId: next.runId });
    } finally {
      await deps.close();
    }
  });

  it('refuses an event that is not an unfinished execution end, naming the field', async () => {
    const deps = localRecalcDeps(stack, {});
    try {
      const handlers = createRecalcHandlers(deps, []);
      await expect(
        handlers.executionEnded(statusChange(EXECUTION, 'SUCCEEDED' as 'FAILED') as never, {} as Context),
      ).rejects.toThrow(/status/);
    } finally {
      await deps.close();
    }
  });

  it('a run whose lease ran out: the run that takes its lock over records it as failed', async () => {
    const table = { dynamo: stack.clients.dynamo, table: stack.config.table };
    const repos = createRecalcRepositories(table);
    const started = new Date(Date.now() - 3 * 60 * 60_000);
    await repos.lock.acquire('stalled-run', started, 90, EXECUTION);
    await repos.runs.putRunRecord(
      {
        runId: 'stalled-run',
        status: 'running',
        asOf: '1998-06-30',
        startedAt: started.toISOString(),
        finishedAt: null,
        timeUnit: 'weeks',
        currency: 'USD',
        customers: 0,
        model: null,
        spendModel: null,
        clvSettings: { horizonMonths: 12, annualDiscountRate: 0.1, margin: 1, periodDays: 30.4375 },
        holdout: null,
        segments: [],
        previousRunId: null,
        migration: null,
      },
      Math.floor(Date.now() / 1000) + 86_400,
    );
    const deps = localRecalcDeps(stack, {});
    try {
      const next = await acquireLockStep(deps, { asOf: '1998-06-30' });
      const stalled = await deps.runs.getRunRecord('stalled-run');
      expect(stalled?.status).toBe('failed');
      expect(stalled?.message).toMatch(
        new RegExp(
          `^aborted: its lock lease ran out without being renewed or released .*run ${next.runId} took the lock over`,
        ),
      );
      await releaseLockStep(deps, { runId: next.runId });
      // A released lock taken by a new run is not a takeover: nothing is recorded about the old one.
      const after = await acquireLockStep(deps, { asOf: '1998-06-30' });
      expect((await deps.runs.getRunRecord(next.runId))?.status).not.toBe('failed');
      await releaseLockStep(deps, { runId: after.runId });
    } finally {
      await deps.close();
    }
  });
});
