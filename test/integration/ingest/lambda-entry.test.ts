/**
 * The ingest Lambda entry point builds its dependencies from the environment, ingests a file, and logs
 * counts, never customer data.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import { ingestIdFor } from '#app/ingest/ingest-id.ts';
import { handler } from '#functions/ingest/handler.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { fixture, sqsEvent, upload } from './support.ts';

describe('ingest Lambda entry point', () => {
  let stack: LocalStack;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    stack = await startLocalStack();
    for (const [name, value] of Object.entries(stack.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await stack.stop();
  });

  it('builds its dependencies from the environment and logs counts, never customer data', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    vi.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      const ref = await upload(stack, 'incoming/lambda/orders.csv', fixture('clean.csv'));
      const response = await handler(sqsEvent([{ messageId: 'm1', objects: [ref] }]));
      expect(response).toEqual({ batchItemFailures: [] });
      const report = await new IngestReportRepository(stack.clients.dynamo, stack.config.table).get(
        ingestIdFor(ref),
      );
      expect(report).toMatchObject({ status: 'succeeded', accepted: 6 });
    } finally {
      vi.restoreAllMocks();
    }
    const logged = lines.join('\n');
    expect(logged).toContain('"accepted":6');
    for (const secret of ['C001', 'C002', '19.99', '1234.56']) expect(logged).not.toContain(secret);
  });
});
