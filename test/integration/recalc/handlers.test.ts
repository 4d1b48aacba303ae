import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECALC_PIPELINE } from '#app/recalc/pipeline.ts';
import { runWarehouseQueriesStep } from '#app/recalc/unload-summaries.ts';
import { createRecalcHandlers, type RecalcHandlers } from '#functions/recalc/handler.ts';
import { localRecalcDeps } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample, sampleTransactions } from './sample.ts';

describe('recalculation Lambda handlers, as Step Functions calls them', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  let deps: ReturnType<typeof localRecalcDeps>;
  let handlers: {
    [K in keyof RecalcHandlers]: (event: Parameters<RecalcHandlers[K]>[0]) => ReturnType<RecalcHandlers[K]>;
  };
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    stack = await startLocalStack();
    // As in AWS: the Lambda steps leave every query to the state machine's warehouse (Athena) tasks.
    deps = localRecalcDeps(stack, {
      logger: {
        info: (message, attributes) => lines.push({ level: 'info', message, ...attributes }),
        warn: (message, attributes) => lines.push({ level: 'warn', message, ...attributes }),
        error: (message, attributes) => lines.push({ level: 'error', message, ...attributes }),
      },
    });
    const raw = createRecalcHandlers(deps, []);
    const context = {} as Context;
    handlers = {
      acquireLock: (event) => raw.acquireLock(event, context),
      prepare: (event) => raw.prepare(event, context),
      selectData: (event) => raw.selectData(event, context),
      planRun: (event) => raw.planRun(event, context),
      fitModels: (event) => raw.fitModels(event, context),
      scorePart: (event) => raw.scorePart(event, context),
      finalize: (event) => raw.finalize(event, context),
      sendChangeEvents: (event) => raw.sendChangeEvents(event, context),
      releaseLock: (event) => raw.releaseLock(event, context),
      executionEnded: (event) => raw.executionEnded(event, context),
    };
    await ingestSample(stack);
  }, 120_000);
  /** What the state machine's warehouse step `name` does, through the warehouse port (DuckDB). */
  const warehouseTask = (name: string, state: { runId: string; queries: Record<string, string> }) => {
    const step = RECALC_PIPELINE.body.steps.find((s) => s.name === name);
    if (step?.kind !== 'warehouse') throw new Error(`no warehouse step ${name}`);
    return runWarehouseQueriesStep(deps, state, step);
  };
  afterAll(async () => {
    await deps?.close();
    await stack?.stop();
  });

  it('run the steps with JSON-only state, a Distributed Map item per summary part', async () => {
    const locked = await handlers.acquireLock({ asOf: '1998-06-30', config: { currency: 'USD' } });
    const sources = await handlers.prepare(JSON.parse(JSON.stringify(locked)));
    expect(sources.queries.sourceProfile).toMatch(/^UNLOAD \(/);
    await warehouseTask('profileSources', sources);
    const selected = await handlers.selectData(JSON.parse(JSON.stringify(sources)));
    expect(selected.queries.runProfile).toContain(`/runs/${locked.runId}/run-profile/'`);
    await warehouseTask('profileRun', selected);
    const prepared = await handlers.planRun(JSON.parse(JSON.stringify(selected)));
    expect(prepared.queries.customerSummaries).toMatch(/^UNLOAD \(/);
    expect(prepared.queries.customerSummaries).toContain(`/runs/${locked.runId}/customer-summaries/'`);
    expect(prepared.summaryPartKeys).toEqual([]);
    // The Athena tasks' part: the UNLOAD texts of the state, run on DuckDB to the prefixes they name.
    await warehouseTask('unloadSummaries', prepared);
    const fitted = await handlers.fitModels(JSON.parse(JSON.stringify(prepared)));
    // The state stays small and survives JSON: what Step Functions passes between states.
    expect(fitted.summaryPartKeys.length).toBeGreaterThan(0);
    const state = JSON.stringify(fitted);
    expect(state.length).toBeLessThan(256 * 1024);
    expect(JSON.parse(state)).toEqual(fitted);
    // The ItemReader's S3 listing entry passes the part as `Key`.
    for (const Key of fitted.summaryPartKeys) await handlers.scorePart({ run: JSON.parse(state), Key });
    const { record } = await handlers.finalize(JSON.parse(state));
    expect(record.status).toBe('published');
    expect(await handlers.releaseLock({ runId: locked.runId })).toEqual({
      runId: locked.runId,
      released: true,
      recordedFailure: false,
    });
    // One structured line per step: name, run id, duration, counts; no customer ids or amounts.
    const ofRun = lines.filter((line) => line.runId === locked.runId);
    expect(ofRun.map((line) => line.step)).toEqual([
      'acquireLock',
      'prepare',
      'profileSources',
      'selectData',
      'profileRun',
      'planRun',
      'unloadSummaries',
      'fitModels',
      ...fitted.summaryPartKeys.map(() => 'scorePart'),
      'finalize',
      'releaseLock',
    ]);
    for (const line of ofRun) {
      expect(line.level).toBe('info');
      expect(typeof line.durationMs).toBe('number');
    }
    expect(ofRun.find((line) => line.step === 'finalize')).toMatchObject({ customers: record.customers });
    const customerIds = new Set(sampleTransactions().map((t) => t.customerId));
    for (const line of ofRun) {
      for (const [key, value] of Object.entries(line)) {
        expect(key).not.toMatch(/customerId|clv|revenue|amount/i);
        // Counts may equal a numeric id; no text value is a customer id.
        if (typeof value === 'string') expect(customerIds.has(value)).toBe(false);
      }
    }
  });

  it('record a failed run with the Catch output’s message and release its lock', async () => {
    const locked = await handlers.acquireLock({ asOf: '1990-01-01', config: { currency: 'USD' } });
    let caught: Error | undefined;
    const sources = await handlers.prepare(locked);
    await warehouseTask('profileSources', sources);
    const selected = await handlers.selectData(sources);
    await warehouseTask('profileRun', selected);
    await handlers.planRun(selected).catch((error: Error) => {
      caught = error;
    });
    expect(caught?.message).toMatch(
      /Nothing to score as of 1990-01-01 in USD: the warehouse holds 6919 transaction rows \(0 in other currencies, 6919 dated after 1990-01-01\)/,
    );
    const released = await handlers.releaseLock({
      runId: locked.runId,
      startedAt: locked.startedAt,
      error: { Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', errorMessage: caught!.message }) },
    });
    expect(released).toEqual({ runId: locked.runId, released: true, recordedFailure: true });
    const record = await deps.runs.getRunRecord(locked.runId);
    expect(record).toMatchObject({ status: 'failed', asOf: '', segments: [] });
    expect(record?.message).toMatch(/^Error: Nothing to score as of 1990-01-01/);
    // The lock is free again.
    const next = await handlers.acquireLock({});
    await handlers.releaseLock({ runId: next.runId });
  });
});
