// The local stack's ingest runs the real Lambda handler with the SQS message S3 would send.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '#infra/local/ingest-file.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { injectFaults } from '#test-support/faults.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/exports');

describe('local ingest through the Lambda handler', () => {
  let stack: LocalStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startLocalStack();
    dir = mkdtempSync(join(tmpdir(), 'cvm-local-ingest-'));
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the key URL-encoded the AWS way and reads back the report of the decoded key', async () => {
    const file = join(dir, 'orders 2025+Q1 (final).csv');
    copyFileSync(join(fixtures, 'clean.csv'), file);
    const report = await ingestFile(stack, 'local', file);
    expect(report).toMatchObject({
      key: 'incoming/local/orders 2025+Q1 (final).csv',
      source: 'local',
      status: 'succeeded',
      accepted: 6,
    });
    // The same upload again: the handler finds the first report and does no work twice.
    expect(await ingestFile(stack, 'local', file)).toEqual(report);
  });

  it('redelivers a record the handler reports as a transient failure, as SQS would', async () => {
    const file = join(dir, 'throttled.csv');
    copyFileSync(join(fixtures, 'refunds.csv'), file);
    const key = 'incoming/local/throttled.csv';
    const faults = injectFaults(stack.clients.s3, [
      { command: 'GetObjectCommand', kind: 'throttling', times: 2, match: (input) => input.Key === key },
    ]);
    try {
      expect(await ingestFile(stack, 'local', file)).toMatchObject({ key, status: 'succeeded', accepted: 5 });
    } finally {
      faults.remove();
    }
    expect(faults.injected.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('gives up with the transient error after three deliveries', async () => {
    const file = join(dir, 'unreachable.csv');
    copyFileSync(join(fixtures, 'refunds.csv'), file);
    const key = 'incoming/local/unreachable.csv';
    const faults = injectFaults(stack.clients.s3, [
      { command: 'GetObjectCommand', kind: 'throttling', times: 3, match: (input) => input.Key === key },
    ]);
    try {
      await expect(ingestFile(stack, 'local', file)).rejects.toThrow(
        /Ingest of incoming\/local\/unreachable\.csv failed 3 times with a transient error: SlowDown/,
      );
    } finally {
      faults.remove();
    }
  });
});
