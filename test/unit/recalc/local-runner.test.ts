import { describe, expect, it } from 'vitest';
import {
  PART_RETRY,
  RECALC_HANDLERS,
  RECALC_PIPELINE,
  type RecalcHandlerName,
  SUMMARY_STEP_QUERIES,
} from '#app/recalc/pipeline.ts';
import {
  catchOutput,
  executePipeline,
  type InvokableHandler,
  type PipelineExecutor,
} from '#infra/local/recalc.ts';

type Call = { handler: RecalcHandlerName | 'warehouse'; payload: Record<string, unknown> };

/** Fake handlers recording each call; each returns the state plus a marker (JSON-only values). */
function fakeExecutor(
  options: { fail?: RecalcHandlerName; parts?: string[]; flaky?: RecalcHandlerName } = {},
) {
  const calls: Call[] = [];
  let flakyFailed = false;
  const handler =
    (name: RecalcHandlerName): InvokableHandler =>
    async (event: never) => {
      const payload = event as Record<string, unknown>;
      calls.push({ handler: name, payload });
      if (name === options.flaky && !flakyFailed) {
        flakyFailed = true;
        throw Object.assign(new Error('rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
      }
      if (name === options.fail) throw new TypeError(`${name} broke`);
      switch (name) {
        case 'acquireLock':
          return { runId: 'r1', startedAt: '2026-01-05T06:00:00.000Z', request: payload };
        case 'prepare':
          return { ...payload, at: new Date(0) };
        case 'selectData':
          return { ...payload, selected: true };
        case 'planRun':
          return { ...payload, summaryPrefix: 'runs/r1/customer-summaries/' };
        case 'fitModels':
          return { ...payload, model: 'bgnbd' };
        case 'scorePart':
          return { partKey: payload.partKey, customers: 1 };
        case 'finalize':
          return { record: { runId: 'r1' } };
        case 'sendChangeEvents':
          return { done: true, events: 0, filesSent: 0, files: 0 };
        case 'releaseLock':
          return { runId: 'r1', released: true, recordedFailure: payload.error !== undefined };
      }
    };
  const executor: PipelineExecutor = {
    handlers: Object.fromEntries(RECALC_HANDLERS.map((name) => [name, handler(name)])) as Record<
      RecalcHandlerName,
      InvokableHandler
    >,
    async runWarehouseTask(step, state) {
      calls.push({ handler: 'warehouse', payload: state as Record<string, unknown> });
      return Object.fromEntries(
        step.queries.map((q) => [q, { queryExecutionId: 'q', outputLocation: 's3://b/p/' }]),
      );
    },
    listItems: async () => options.parts ?? ['runs/r1/customer-summaries/part-00000.parquet'],
    sleep: async () => {},
  };
  return { executor, calls };
}

/** The calls a successful run makes, read off the definition (a Map step: one call per part). */
function expectedCalls(parts: number): Array<RecalcHandlerName | 'warehouse'> {
  const body = RECALC_PIPELINE.body.steps.flatMap((step) =>
    step.kind === 'lambda'
      ? [step.handler]
      : step.kind === 'warehouse'
        ? (['warehouse'] as const)
        : Array.from({ length: parts }, () => step.handler),
  );
  return [RECALC_PIPELINE.acquire.handler, ...body, RECALC_PIPELINE.release.handler];
}

describe('local runner: executes the pipeline definition', () => {
  it('calls the handlers in the definition’s order, one Map item per listed part', async () => {
    const parts = [
      'runs/r1/customer-summaries/part-00000.parquet',
      'runs/r1/customer-summaries/part-00001.parquet',
    ];
    const { executor, calls } = fakeExecutor({ parts });
    const { outputs } = await executePipeline(executor, { asOf: '2026-01-04' });
    expect(calls.map((c) => c.handler)).toEqual(expectedCalls(parts.length));
    // Map items as the ItemSelector builds them: the whole state as `run`, the listed key as `partKey`.
    const items = calls.filter((c) => c.handler === 'scorePart');
    expect(items.map((c) => c.payload.partKey)).toEqual(parts);
    expect((items[0]!.payload.run as { model: string }).model).toBe('bgnbd');
    expect(outputs.scoreParts).toHaveLength(2);
  });

  it('passes JSON between steps and applies each step’s result path', async () => {
    const { executor, calls } = fakeExecutor();
    await executePipeline(executor, { asOf: '2026-01-04' });
    const fit = calls.find((c) => c.handler === 'fitModels')!;
    // A Date returned by prepare arrives as its JSON string, and the warehouse results under $.athena.
    expect(fit.payload.at).toBe('1970-01-01T00:00:00.000Z');
    expect(fit.payload.selected).toBe(true);
    expect(fit.payload.athena).toEqual(
      Object.fromEntries(
        SUMMARY_STEP_QUERIES.map((query) => [query, { queryExecutionId: 'q', outputLocation: 's3://b/p/' }]),
      ),
    );
    // Finalize's result goes to $.finalized; the Map's results are discarded.
    const release = calls.at(-1)!;
    expect(release.handler).toBe('releaseLock');
    expect(release.payload.finalized).toEqual({ record: { runId: 'r1' } });
    expect(release.payload.model).toBe('bgnbd');
  });

  it('on a failure after the lock: releases the lock with the Catch output of the lock step’s state, then rethrows', async () => {
    const { executor, calls } = fakeExecutor({ fail: 'fitModels' });
    await expect(executePipeline(executor, {})).rejects.toThrow(TypeError);
    const names = calls.map((c) => c.handler);
    const upToFit = expectedCalls(1);
    expect(names).toEqual([...upToFit.slice(0, upToFit.indexOf('fitModels') + 1), 'releaseLock']);
    expect(names.filter((name) => name === 'warehouse')).toHaveLength(3);
    const release = calls.at(-1)!.payload;
    expect(release.runId).toBe('r1');
    expect(release.error).toEqual(catchOutput(new TypeError('fitModels broke')));
    expect(JSON.parse((release.error as { Cause: string }).Cause)).toEqual({
      errorType: 'TypeError',
      errorMessage: 'fitModels broke',
    });
    // The body's input (LockedRun) plus the error, as Step Functions' Catch with ResultPath $.error.
    expect(release.summaryPrefix).toBeUndefined();
  });

  it('does not release anything when the lock is not acquired', async () => {
    const { executor, calls } = fakeExecutor({ fail: 'acquireLock' });
    await expect(executePipeline(executor, {})).rejects.toThrow(/acquireLock broke/);
    expect(calls.map((c) => c.handler)).toEqual(['acquireLock']);
  });

  it('retries the errors the definition retries', async () => {
    const { executor, calls } = fakeExecutor({ flaky: 'prepare' });
    await executePipeline(executor, {});
    expect(calls.filter((c) => c.handler === 'prepare')).toHaveLength(2);
  });

  it('retries a score part that stayed throttled up to the part retry limit; a part that stays failed lets the other parts run and leaves the decision to the part check', async () => {
    const parts = [
      'runs/r1/customer-summaries/part-00000.parquet',
      'runs/r1/customer-summaries/part-00001.parquet',
    ];
    const throttled = (times: number) => {
      const { executor, calls } = fakeExecutor({ parts });
      let failures = 0;
      const scorePart = executor.handlers.scorePart;
      executor.handlers.scorePart = async (event, context) => {
        // Only the first part is throttled.
        if ((event as { partKey: string }).partKey === parts[0] && failures++ < times) {
          throw Object.assign(new Error('still unprocessed (throttled)'), { name: 'DynamoThrottledError' });
        }
        return scorePart(event, context);
      };
      return { executor, calls, attempts: () => failures };
    };
    const recovers = throttled(PART_RETRY.maxAttempts - 1);
    const recovered = await executePipeline(recovers.executor, {});
    expect(recovers.attempts()).toBe(PART_RETRY.maxAttempts);
    expect(recovered.outputs.scoreParts).toHaveLength(2);

    const stays = throttled(PART_RETRY.maxAttempts);
    const { outputs } = await executePipeline(stays.executor, {});
    expect(stays.attempts()).toBe(PART_RETRY.maxAttempts);
    // The other part was scored; the Map (tolerating item failures) went on to Finalize.
    expect(outputs.scoreParts).toEqual([{ partKey: parts[1], customers: 1 }]);
    expect(stays.calls.map((c) => c.handler)).toContain('finalize');
  });

  it('fails the Map when more items fail than its tolerated percentage, after every item ran', async () => {
    const parts = ['p/part-00000.parquet', 'p/part-00001.parquet', 'p/part-00002.parquet'];
    const strict = {
      ...RECALC_PIPELINE,
      body: {
        ...RECALC_PIPELINE.body,
        steps: RECALC_PIPELINE.body.steps.map((step) =>
          step.kind === 'map' ? { ...step, toleratedFailurePercentage: 0 } : step,
        ),
      },
    };
    const { executor, calls } = fakeExecutor({ parts });
    const scorePart = executor.handlers.scorePart;
    executor.handlers.scorePart = async (event, context) => {
      if ((event as { partKey: string }).partKey === parts[1]) throw new TypeError('bad part');
      return scorePart(event, context);
    };
    await expect(executePipeline(executor, {}, { pipeline: strict })).rejects.toMatchObject({
      name: 'States.ExceedToleratedFailureThreshold',
      message: expect.stringMatching(/1 of 3 items failed, first: TypeError: bad part/),
    });
    expect(calls.filter((c) => c.handler === 'scorePart').map((c) => c.payload.partKey)).toEqual([
      parts[0],
      parts[2],
    ]);
    expect(calls.at(-1)!.handler).toBe('releaseLock');
  });

  it('runs Map items up to the given concurrency at once', async () => {
    const parts = Array.from({ length: 6 }, (_, i) => `p/part-0000${i}.parquet`);
    const { executor } = fakeExecutor({ parts });
    let inFlight = 0;
    let most = 0;
    const scorePart = executor.handlers.scorePart;
    executor.handlers.scorePart = async (event, context) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Yield so the other workers can start before this item ends.
      await Promise.resolve();
      await Promise.resolve();
      inFlight--;
      return scorePart(event, context);
    };
    await executePipeline(executor, {}, { mapConcurrency: 3 });
    expect(most).toBe(3);
  });

  it('a resumed run starts at the step its lock state names (the body’s Choice), with that state', async () => {
    const resumed = fakeExecutor();
    resumed.executor.handlers.acquireLock = async () => ({
      runId: 'r1',
      startedAt: '2026-01-05T06:00:00.000Z',
      summaryPrefix: 'runs/r1/customer-summaries/',
      model: 'bgnbd',
      attempt: { number: 2, resumedAt: '2026-01-06T00:00:00.000Z' },
      resumeAt: 'scoreParts',
    });
    const skipped: string[] = [];
    await executePipeline(
      resumed.executor,
      { resume: 'r1' },
      { onStepSkipped: (step) => skipped.push(step.name) },
    );
    const steps = RECALC_PIPELINE.body.steps.map((step) => step.name);
    expect(skipped).toEqual(steps.slice(0, steps.indexOf('scoreParts')));
    // (The replaced lock handler records no call.)
    expect(resumed.calls.map((c) => c.handler)).toEqual([
      'scorePart',
      'finalize',
      'sendChangeEvents',
      'releaseLock',
    ]);
    const item = resumed.calls.find((c) => c.handler === 'scorePart')!.payload.run as Record<string, unknown>;
    expect(item).toMatchObject({ model: 'bgnbd', attempt: { number: 2 } });
  });

  it('fails (releasing the lock) when the state names no step of the definition', async () => {
    const { executor, calls } = fakeExecutor();
    executor.handlers.acquireLock = async () => ({ runId: 'r1', resumeAt: 'noSuchStep' });
    await expect(executePipeline(executor, {})).rejects.toThrow(/ResumeAtStep: no step 'noSuchStep'/);
    expect(calls.map((c) => c.handler)).toEqual(['releaseLock']);
  });
});
