import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { readLocalEvents } from '#adapters/events/jsonl-publisher.ts';
import { RECALC_CONFIG_KEY } from '#domain/bucket-layout.ts';
import { serveLocalApi } from '#infra/cli/commands/serve.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ApiClient } from '../integration/api/http-client.ts';
import { scoresOfRun } from '../integration/recalc/sample.ts';
import { injectFaults, injectUnprocessedItems } from '../support/faults.ts';
import { ingestSmallSample, RUN_SETTINGS, watchReaders } from './recalc-support.ts';

/** Plain or marshalled (`{ S }`) item attribute, whichever side of the document client the rule sits on. */
function itemAttribute(input: Record<string, unknown>, name: string): string | undefined {
  const value = (input.Item as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  return (value as { S?: string } | undefined)?.S;
}

const noWait = { sleep: async () => {} };

describe('recalculation and publish under injected SDK faults', { timeout: 120_000 }, () => {
  let stack: LocalStack;
  let customers: string[];
  let watched: string[];
  const store = () => createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });

  beforeAll(async () => {
    stack = await startLocalStack();
    customers = await ingestSmallSample(stack);
    watched = [customers[0]!, customers[Math.floor(customers.length / 2)]!, customers[customers.length - 1]!];
    await runLocalRecalculation(stack, RUN_SETTINGS);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** Every customer has exactly one score item in the run, and the record counts them all. */
  async function expectCompleteRun(runId: string) {
    const record = await store().getRunRecord(runId);
    expect(record?.status).toBe('published');
    const items = await scoresOfRun(
      stack,
      runId,
      record!.segments.map((s) => s.segment),
    );
    expect(items).toHaveLength(customers.length);
    expect(new Set(items.map((item) => item.customerId)).size).toBe(customers.length);
    expect(record?.customers).toBe(customers.length);
  }

  it('throttled and partly unprocessed BatchWriteItem: no score lost or doubled, readers never see a partial run', async () => {
    const readers = watchReaders(stack, watched);
    const throttled = injectFaults(stack.clients.dynamo, [
      { command: 'BatchWriteItemCommand', kind: 'throttling', times: 3 },
    ]);
    const unprocessed = injectUnprocessedItems(stack.clients.dynamo);
    let result: Awaited<ReturnType<typeof runLocalRecalculation>>;
    try {
      result = await runLocalRecalculation(stack, { ...RUN_SETTINGS, retry: noWait });
    } finally {
      unprocessed.remove();
      throttled.remove();
    }
    const seen = await readers.stop();
    expect(throttled.injected[0]).toBe(3);
    expect(unprocessed.deferredItems).toBeGreaterThan(0);
    expect(result.parts.reduce((n, p) => n + p.writes.retries, 0)).toBeGreaterThan(0);
    await expectCompleteRun(result.record.runId);
    expect(await store().getCurrentRunId()).toBe(result.record.runId);
    expect(seen.violations).toEqual([]);
    expect(seen.reads).toBeGreaterThan(0);
  });

  it('a crash between steps (scoring cannot store its part result): readers stay on the previous run, the next run completes', async () => {
    const before = await store().getCurrentRunId();
    const readers = watchReaders(stack, watched);
    const crash = injectFaults(stack.clients.s3, [
      {
        command: 'PutObjectCommand',
        kind: 'server-error',
        times: 1,
        match: (input) => String(input.Key).includes('/parts/'),
      },
    ]);
    let failedRunId: string | undefined;
    try {
      await expect(
        runLocalRecalculation(stack, {
          ...RUN_SETTINGS,
          onProgress: (p) => {
            if (p.step === 'acquireLock' && p.detail) failedRunId = p.detail.replace('run ', '');
          },
        }),
      ).rejects.toThrow(/internal error/);
    } finally {
      crash.remove();
    }
    expect(await store().getCurrentRunId()).toBe(before);
    const failed = await store().getRunRecord(failedRunId!);
    expect(failed?.status).toBe('failed');
    expect(failed?.message).toMatch(/internal error/);

    // The lock was released: the next run starts at once and publishes.
    const next = await runLocalRecalculation(stack, RUN_SETTINGS);
    const seen = await readers.stop();
    expect(await store().getCurrentRunId()).toBe(next.record.runId);
    expect(next.record.previousRunId).toBe(before);
    await expectCompleteRun(next.record.runId);
    expect(seen.violations).toEqual([]);
    // Readers only ever saw the previous run or the new one, never the crashed run.
    expect(seen.runsSeen).toContain(before);
    for (const runId of seen.runsSeen) expect([before, next.record.runId]).toContain(runId);
  });

  it('the pointer flip times out after DynamoDB stored it (SDK retries it): published once, change events sent', async () => {
    const before = await store().getCurrentRunId();
    const lost = injectFaults(
      stack.clients.dynamo,
      [
        {
          command: 'PutItemCommand',
          kind: 'timeout',
          times: 1,
          afterSend: true,
          match: (input) => itemAttribute(input, 'pk') === 'POINTER',
        },
      ],
      { placement: 'inside-retries' },
    );
    let result: Awaited<ReturnType<typeof runLocalRecalculation>>;
    try {
      // Different churn bands than the previous run, so customers change band and events are due.
      result = await runLocalRecalculation(stack, {
        ...RUN_SETTINGS,
        config: { ...RUN_SETTINGS.config, churnBands: { lowRiskMin: 0.95, mediumRiskMin: 0.9 } },
      });
    } finally {
      lost.remove();
    }
    expect(lost.injected[0]).toBe(1);
    expect(await store().getCurrentRunId()).toBe(result.record.runId);
    expect(result.record.previousRunId).toBe(before);
    await expectCompleteRun(result.record.runId);
    expect(result.events).toBeGreaterThan(0);
    const events = readLocalEvents(stack.config.home!, result.record.runId);
    expect(events).toHaveLength(result.events);
    expect(new Set(events.map((event) => event.customerId)).size).toBe(result.events);
    expect(new Set(events.map((event) => event.eventId)).size).toBe(result.events);
  });

  it('the pointer flip fails for good: readers stay on the previous run, and the run is not recorded as published', async () => {
    const before = await store().getCurrentRunId();
    const readers = watchReaders(stack, watched);
    const refused = injectFaults(stack.clients.dynamo, [
      {
        command: 'PutItemCommand',
        kind: 'throttling',
        times: 1,
        match: (input) => itemAttribute(input, 'pk') === 'POINTER',
      },
    ]);
    let runId: string | undefined;
    try {
      await expect(
        runLocalRecalculation(stack, {
          ...RUN_SETTINGS,
          onProgress: (p) => {
            if (p.step === 'acquireLock' && p.detail) runId = p.detail.replace('run ', '');
          },
        }),
      ).rejects.toThrow(/throughput/);
    } finally {
      refused.remove();
    }
    const seen = await readers.stop();
    expect(await store().getCurrentRunId()).toBe(before);
    expect(seen.violations).toEqual([]);
    const next = await runLocalRecalculation(stack, RUN_SETTINGS);
    expect(await store().getCurrentRunId()).toBe(next.record.runId);
    // A run readers never saw must not claim to be published (GET /runs/{id} would say so).
    expect((await store().getRunRecord(runId!))?.status).toBe('failed');
  });
  it('a recalculation started over HTTP while one is running is refused with 409; the running one publishes', async () => {
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.config.bucket,
        Key: RECALC_CONFIG_KEY,
        Body: JSON.stringify(RUN_SETTINGS.config),
      }),
    );
    const before = await store().getCurrentRunId();
    const server = await serveLocalApi(stack, { port: 0, apiKey: 'read', adminKey: 'admin' });
    try {
      const api = new ApiClient(server.url, 'admin');
      await api.loadOpenApi();
      const body = { asOf: RUN_SETTINGS.asOf };
      const responses = await Promise.all([
        api.request('POST', '/runs', { body }),
        api.request('POST', '/runs', { body }),
      ]);
      expect(responses.map((r) => r.status).sort()).toEqual([202, 409]);
      const refused = responses.find((r) => r.status === 409)!.json as { error: string; message: string };
      const started = responses.find((r) => r.status === 202)!.json as { runId: string };
      expect(refused.error).toBe('conflict');
      expect(refused.message).toContain(`run ${started.runId} holds the lock`);
      // The accepted run goes on in the background and publishes.
      const deadline = Date.now() + 90_000;
      while ((await store().getCurrentRunId()) === before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await store().getCurrentRunId()).toBe(started.runId);
      await expectCompleteRun(started.runId);
    } finally {
      await server.close();
      await stack.clients.s3.send(
        new DeleteObjectCommand({ Bucket: stack.config.bucket, Key: RECALC_CONFIG_KEY }),
      );
    }
  });
});
