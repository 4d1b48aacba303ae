/**
 * Clean data that went missing or is damaged: the run stops naming the object and the ingest that
 * wrote it (or, with `missingCleanObjects: exclude`, runs without it and says so); a truncated
 * local mirror copy is fetched again instead of being read.
 */
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';

const AS_OF = '2024-06-30';
const SETTINGS = { asOf: AS_OF, config: { currency: 'EUR', holdoutWeeks: 13 } };

/** An export of `customers` customers with a few orders each over 2023–2024 (deterministic). */
function exportOf(prefix: string, customers: number): string {
  const lines = ['order_id,customer_id,order_date,amount,currency'];
  for (let c = 0; c < customers; c++) {
    const orders = 1 + (c % 4);
    for (let o = 0; o < orders; o++) {
      const month = 1 + ((c * 7 + o * 5) % 18);
      const date = `${month > 12 ? 2024 : 2023}-${String(((month - 1) % 12) + 1).padStart(2, '0')}-${String(1 + ((c + o) % 27)).padStart(2, '0')}`;
      lines.push(`${prefix}-${c}-${o},${prefix}${c},${date},${(10 + ((c * 13 + o) % 90)).toFixed(2)},EUR`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function ingest(stack: LocalStack, key: string, body: string): Promise<IngestReport> {
  const put = await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: body }),
  );
  const report = await ingestObject(
    { config: stack.config, clients: stack.clients },
    { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
  );
  expect(report.status, report.message).toBe('succeeded');
  return report;
}

/** Local mirror files (CVM_HOME/warehouse/data/...) of the clean objects. */
function mirrorFiles(stack: LocalStack): string[] {
  const root = join(stack.config.home!, 'warehouse', 'data');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.parquet')) files.push(path);
    }
  };
  walk(root);
  return files;
}

describe('missing and damaged clean objects', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  let first: IngestReport;
  let second: IngestReport;
  let allRows: number;
  beforeAll(async () => {
    stack = await startLocalStack();
    first = await ingest(stack, 'incoming/shop/a.csv', exportOf('A', 150));
    second = await ingest(stack, 'incoming/shop/b.csv', exportOf('B', 150));
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('reads every clean object, and fetches a truncated local copy again', async () => {
    const run = await runLocalRecalculation(stack, SETTINGS);
    expect(run.record.status).toBe('published');
    allRows = run.record.dataRange!.rows;
    expect(allRows).toBe(first.accepted + second.accepted);

    const [copy] = mirrorFiles(stack);
    const size = statSync(copy!).size;
    truncateSync(copy!, Math.floor(size / 2));
    const again = await runLocalRecalculation(stack, SETTINGS);
    expect(again.record.dataRange!.rows).toBe(allRows);
    expect(statSync(copy!).size).toBe(size);
  });

  it('stops a run naming a missing object and its ingest; exclude runs without it and says so', async () => {
    const runs = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const current = await runs.getCurrentRunId();
    await stack.clients.s3.send(
      new DeleteObjectCommand({ Bucket: stack.config.bucket, Key: second.cleanKey! }),
    );

    await expect(runLocalRecalculation(stack, { ...SETTINGS, runId: 'run-missing' })).rejects.toThrow(
      new RegExp(
        `1 clean data object is missing from the bucket: ${second.cleanKey!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(ingest ${second.ingestId} of incoming/shop/b\\.csv\\)`,
      ),
    );
    expect((await runs.getRunRecord('run-missing'))?.status).toBe('failed');
    expect(await runs.getCurrentRunId()).toBe(current);

    const excluded = await runLocalRecalculation(stack, {
      ...SETTINGS,
      config: { ...SETTINGS.config, missingCleanObjects: 'exclude' },
    });
    expect(excluded.record.status).toBe('published');
    expect(excluded.record.dataRange!.rows).toBe(first.accepted);
    expect(excluded.record.dataWarnings?.[0]).toMatch(
      /^1 clean data object is missing from the bucket: .*Their transactions are left out of this run/,
    );
  });

  it('stops a run naming a damaged object and the ingest that wrote it', async () => {
    await stack.clients.s3.send(
      new PutObjectCommand({ Bucket: stack.config.bucket, Key: first.cleanKey!, Body: 'not parquet at all' }),
    );
    await expect(
      runLocalRecalculation(stack, {
        ...SETTINGS,
        config: { ...SETTINGS.config, missingCleanObjects: 'exclude' },
      }),
    ).rejects.toThrow(
      new RegExp(
        `The clean data object .*cannot be read: it is not a Parquet file .* It was written by ingest ${first.ingestId} of incoming/shop/a\\.csv`,
      ),
    );
  });
});
