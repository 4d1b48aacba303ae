/**
 * A recalculation whose process was killed: the next run on the local stack takes the lock over at
 * once (no wait for the lease) and records the abandoned run as failed instead of "running" forever.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecalcRepositories } from '#adapters/dynamo/recalc-repositories.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample } from './sample.ts';

/** The id of a local process that has ended. */
function deadProcess(): string {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return `local:${hostname()}:${child.stdout}`;
}

describe('a recalculation killed mid-run', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('is taken over by the next run at once and recorded as failed', async () => {
    const first = await runLocalRecalculation(stack, { asOf: '1998-06-30', config: { currency: 'USD' } });
    expect(first.record.status).toBe('published');

    // A run started by a process that was then killed: it holds the lock (a fresh 90-minute lease)
    // and its record says running.
    const table = { dynamo: stack.clients.dynamo, table: stack.config.table };
    const killed = createRecalcRepositories(table, { holder: deadProcess() });
    const now = new Date();
    await killed.lock.acquire('killed-run', now, 90);
    await killed.runs.putRunRecord(
      {
        ...first.record,
        runId: 'killed-run',
        status: 'running',
        finishedAt: null,
        startedAt: now.toISOString(),
      },
      Math.floor(now.getTime() / 1000) + 86_400,
    );

    const next = await runLocalRecalculation(stack, { asOf: '1998-06-30', config: { currency: 'USD' } });
    expect(next.record.status).toBe('published');
    const abandoned = await killed.runs.getRunRecord('killed-run');
    expect(abandoned?.status).toBe('failed');
    expect(abandoned?.message).toMatch(/aborted: the process running it ended without finishing/);
  });

  it('still refuses a second run while the holder lives', async () => {
    const table = { dynamo: stack.clients.dynamo, table: stack.config.table };
    const live = createRecalcRepositories(table, { holder: `local:${hostname()}:${process.pid}` });
    await live.lock.acquire('live-run', new Date(), 90);
    await expect(
      runLocalRecalculation(stack, { asOf: '1998-06-30', config: { currency: 'USD' } }),
    ).rejects.toThrow(/Another recalculation is running: run live-run/);
    await live.lock.release('live-run');
  });
});
