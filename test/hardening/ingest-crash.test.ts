/**
 * Ingest after a crash: a `cvm ingest` killed with SIGKILL at seeded points is taken over by the next
 * attempt (no wait for the lease, no hang, no "duplicate of" an ingest that never finished), every row
 * lands exactly once, and a second CLI on a busy home is told so instead of crashing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import { ingestIdFor } from '#app/ingest/ingest-id.ts';
import { CLEAN_TRANSACTIONS_PREFIX } from '#domain/bucket-layout.ts';
import { inProgressIngestReport } from '#domain/ingest-report.ts';
import { ingestFile } from '#infra/local/ingest-file.ts';
import { isDeadLocalProcess } from '#infra/local/process-lock.ts';
import { type LocalStack, startLocalStack, useLocalStack } from '#infra/local/stack.ts';
import { readCleanParquet, upload } from '../integration/ingest/support.ts';
import { CVM_BIN, PROJECT_ROOT } from '../support/cvm-up.ts';
import { createRandom } from '../support/simulate.ts';

const work = mkdtempSync(join(tmpdir(), 'cvm-ingest-crash-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An export of `rows` distinct orders (no duplicates, nothing rejected). */
function writeExport(name: string, rows: number): string {
  const lines = ['customer_id,order_id,order_date,amount,currency'];
  for (let i = 0; i < rows; i++) {
    lines.push(`c${i % 5000},o${i},2024-${String((i % 12) + 1).padStart(2, '0')}-15,${(i % 997) + 1}.25,EUR`);
  }
  const path = join(work, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** The id of a process that has ended: a lease holder that can no longer finish anything. */
function deadLocalProcessId(): string {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const holder = `local:${hostname()}:${child.stdout}`;
  expect(isDeadLocalProcess(holder)).toBe(true);
  return holder;
}

async function cleanRowCount(
  stack: LocalStack,
  source: string,
): Promise<{ rows: number; orders: Set<string> }> {
  const listed = await stack.clients.s3.send(
    new ListObjectsV2Command({
      Bucket: stack.config.bucket,
      Prefix: `${CLEAN_TRANSACTIONS_PREFIX}source=${source}/`,
    }),
  );
  const orders = new Set<string>();
  let rows = 0;
  for (const object of listed.Contents ?? []) {
    const clean = await readCleanParquet(stack, object.Key!);
    rows += clean.rows.length;
    for (const row of clean.rows) orders.add(row.order_id);
  }
  return { rows, orders };
}

describe('ingest after its worker died', () => {
  it('takes over an ingest whose local holder is gone, and ingests a copy the dead one had marked', async () => {
    const stack = await startLocalStack();
    try {
      const file = writeExport('orders.csv', 2_000);
      const copy = writeExport('orders-copy.csv', 2_000);
      // A killed worker left the upload claimed under its 16-minute lease and its content marked.
      const bytes = readFileSync(file);
      const ref = await upload(stack, 'incoming/shop/orders.csv', bytes);
      const ingestId = ingestIdFor(ref);
      const dead = new IngestReportRepository(stack.clients.dynamo, stack.config.table, {
        leaseHolder: deadLocalProcessId(),
      });
      const now = new Date();
      const report = inProgressIngestReport({ ingestId, key: ref.key, source: 'shop', startedAt: now });
      expect((await dead.claim(report, now, 16 * 60_000)).claimed).toBe(true);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect(await dead.markContent({ source: 'shop', sha256, ingestId, now })).toBe(true);

      const first = await ingestFile(stack, 'shop', copy);
      expect(first.status).toBe('succeeded');
      expect(first.accepted).toBe(2_000);
      const again = await ingestFile(stack, 'shop', file);
      expect(again.status).toBe('succeeded');
      expect(again.duplicates).toBe(2_000);
      expect((await cleanRowCount(stack, 'shop')).rows).toBe(2_000);
    } finally {
      await stack.stop();
    }
  }, 120_000);
});

describe('cvm ingest killed at seeded points', () => {
  const ROWS = 60_000;
  const POINTS = 20;

  function runCli(home: string, args: string[], killAfterMs?: number) {
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [CVM_BIN, ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CVM_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const timer =
        killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, output });
      });
    });
  }

  it('completes on the next attempt after each kill, every row exactly once', async () => {
    const file = writeExport('big.csv', ROWS);
    const random = createRandom(20261206);
    const outcomes: string[] = [];
    for (let point = 0; point < POINTS; point++) {
      const home = mkdtempSync(join(work, 'home-'));
      const killAt = 200 + Math.floor(random() * 2_300);
      const killed = await runCli(home, ['ingest', file, '--source', 'shop', '--json'], killAt);
      const retry = await runCli(home, ['ingest', file, '--source', 'shop', '--json']);
      expect(retry.code, `after a kill at ${killAt} ms:\n${retry.output}`).toBe(0);
      const report = JSON.parse(retry.output.trim().split('\n').at(-1)!);
      expect(['succeeded']).toContain(report.status);
      const stack = await useLocalStack(home);
      try {
        const clean = await cleanRowCount(stack, 'shop');
        expect(clean.rows, `rows after a kill at ${killAt} ms`).toBe(ROWS);
        expect(clean.orders.size).toBe(ROWS);
      } finally {
        await stack.stop();
      }
      outcomes.push(`${killAt} ms: ${killed.signal ?? `exit ${killed.code}`}`);
    }
    expect(outcomes).toHaveLength(POINTS);
  }, 600_000);

  it('tells a second command that the home is busy instead of crashing', async () => {
    const home = mkdtempSync(join(work, 'busy-'));
    const holder = await startLocalStack({ home });
    try {
      const second = await runCli(home, ['ingest', writeExport('small.csv', 10), '--source', 'shop']);
      expect(second.code).toBe(1);
      expect(second.output).toMatch(
        /^cvm: The local stack in .* is in use by another cvm process \(pid \d+\)/m,
      );
      expect(second.output).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      await holder.stop();
    }
    const after = await runCli(home, ['ingest', writeExport('small.csv', 10), '--source', 'shop']);
    expect(after.code, after.output).toBe(0);
  }, 120_000);
});
