/**
 * A recalculation killed with SIGKILL at seeded points while the API reads: the next attempt takes
 * the lock over at once and publishes, no run stays "running", the killed run's scores never show
 * in a customer's history, and readers see a published run with all its scores throughout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { pipelineStepNames } from '#app/recalc/pipeline.ts';
import type { RunRecord } from '#domain/run.ts';
import { advertiseLocalStack, type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { CVM_BIN, PROJECT_ROOT } from '../support/cvm-up.ts';
import { createRandom } from '../support/simulate.ts';
import { ingestSmallSample, RUN_SETTINGS, watchReaders } from './recalc-support.ts';

const POINTS = 20;
const home = mkdtempSync(join(tmpdir(), 'cvm-recalc-crash-'));

/** The recalculation's steps, as `cvm recalc` announces each when it starts ("… <step>"). */
const STEPS = pipelineStepNames().length;

/**
 * Runs `cvm recalc`. With `kill`, sends SIGKILL `delayMs` after the `step`-th step (1-based) was
 * announced, so the seeded points land inside every step, not mostly in the start-up.
 */
function runRecalc(kill?: { step: number; delayMs: number }) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        CVM_BIN,
        'recalc',
        '--as-of',
        RUN_SETTINGS.asOf,
        '--currency',
        RUN_SETTINGS.config.currency,
        ...(kill ? [] : ['--json']),
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, CVM_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    const collect = (chunk: Buffer) => {
      output += chunk;
      const announced = output.split('\n').filter((line) => line.startsWith('… ')).length;
      if (kill && timer === undefined && announced >= kill.step) {
        timer = setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe('cvm recalc killed at seeded points', () => {
  let stack: LocalStack;
  let unadvertise: () => void;
  let customers: string[];
  beforeAll(async () => {
    // The stack runs in this process (as under `cvm up`); each `cvm recalc` connects to it, so the
    // readers below watch the same tables while runs are killed.
    stack = await startLocalStack({ home });
    unadvertise = advertiseLocalStack(stack);
    customers = await ingestSmallSample(stack);
  }, 120_000);
  afterAll(async () => {
    unadvertise?.();
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  async function runRecords(): Promise<RunRecord[]> {
    const records: RunRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await stack.clients.dynamo.send(
        new ScanCommand({
          TableName: stack.config.table,
          FilterExpression: 'begins_with(pk, :run) AND sk = :meta',
          ExpressionAttributeValues: { ':run': 'RUN#', ':meta': 'META' },
          ExclusiveStartKey: start,
        }),
      );
      records.push(...((page.Items ?? []) as RunRecord[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }

  it('publishes on the next attempt after each kill; nothing stays running or leaks into history', async () => {
    const first = await runRecalc();
    expect(first.code, first.output).toBe(0);
    const runs = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const readModel = createScoreReadModel(stack.clients, stack.config.table, { pointerTtlMs: 0 });
    const readers = watchReaders(stack, customers.slice(0, 5));
    const random = createRandom(20261206);
    const killedAt: string[] = [];
    const outcomes: string[] = [];
    try {
      for (let point = 0; point < POINTS; point++) {
        const kill = { step: 1 + (point % STEPS), delayMs: Math.floor(random() * 400) };
        killedAt.push(`step ${kill.step} + ${kill.delayMs} ms`);
        const killed = await runRecalc(kill);
        const killedIn = killed.output
          .split('\n')
          .filter((line) => line.startsWith('… '))
          .at(-1);
        outcomes.push(`${killedAt.at(-1)}: ${killed.signal ?? `exit ${killed.code}`} in ${killedIn}`);
        const retry = await runRecalc();
        expect(retry.code, `after ${outcomes.at(-1)}:\n${retry.output}`).toBe(0);
        const published = JSON.parse(retry.output.slice(retry.output.indexOf('{'))) as RunRecord;
        expect(published.status).toBe('published');
        expect(await runs.getCurrentRunId()).toBe(published.runId);
      }
    } finally {
      const watched = await readers.stop();
      expect(watched.violations).toEqual([]);
      expect(watched.reads).toBeGreaterThan(0);
    }

    const records = await runRecords();
    const withStatus = (status: RunRecord['status']) => records.filter((r) => r.status === status);
    expect(withStatus('running'), 'no run stays running').toEqual([]);
    // The retries published, and so did any killed run that got past its pointer flip.
    expect(withStatus('published').length).toBeGreaterThanOrEqual(POINTS + 1);
    // Every other killed run never recorded itself (killed before Prepare) or was recorded as
    // failed by the run that took its lock over.
    for (const failed of withStatus('failed')) expect(failed.message).toMatch(/^aborted: /);
    const publishedIds = new Set(withStatus('published').map((r) => r.runId));
    for (const customer of customers.slice(0, 20)) {
      const history = await readModel.getCustomerHistory(customer);
      for (const score of history) expect(publishedIds.has(score.runId), score.runId).toBe(true);
    }
    expect(killedAt).toHaveLength(POINTS);
    // The seeded points must actually interrupt runs after they recorded themselves, or the test
    // proves little: kills in Prepare and later steps leave a run record the next run marks failed.
    const interrupted = withStatus('failed').length;
    console.info(`recalc kills (${interrupted} recorded as failed):\n${outcomes.join('\n')}`);
    expect(interrupted).toBeGreaterThanOrEqual(POINTS / 4);
  }, 900_000);
});
