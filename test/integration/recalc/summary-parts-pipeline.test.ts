/**
 * The pipeline chooses the summary parts: with `partCustomers` set, prepare renders the summaries
 * UNLOAD partitioned by customer bucket (B = ceil(customers / partCustomers)), the local unload
 * writes one folder per bucket, and the Map runs one ScorePart per part, each scoring only its
 * bucket's customers.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerBucketSql } from '#adapters/warehouse/queries.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample } from './sample.ts';

describe('summary parts chosen by the pipeline', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  let result: Awaited<ReturnType<typeof runLocalRecalculation>>;
  const summaryKeys: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
    result = await runLocalRecalculation(stack, {
      asOf: '1998-06-30',
      config: { currency: 'USD', partCustomers: 600 },
      onProgress: () => {},
    });
    const listed = await stack.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: stack.config.bucket,
        Prefix: `runs/${result.record.runId}/customer-summaries/`,
      }),
    );
    summaryKeys.push(...(listed.Contents ?? []).map((c) => c.Key!));
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('writes ceil(2357 / 600) = 4 bucket folders and scores each in its own Map item', () => {
    expect(result.record.status).toBe('published');
    expect(result.record.customers).toBe(2357);
    const folders = new Set(summaryKeys.map((key) => /\/customer-summaries\/(part=\d+)\//.exec(key)?.[1]));
    expect([...folders].sort()).toEqual(['part=0', 'part=1', 'part=2', 'part=3']);
    expect(result.parts).toHaveLength(4);
    expect(result.parts.map((p) => /\/(part=\d+)\//.exec(p.partKey)?.[1]).sort()).toEqual([
      'part=0',
      'part=1',
      'part=2',
      'part=3',
    ]);
    // Every customer scored once; each part near 2357 / 4.
    expect(result.parts.reduce((sum, p) => sum + p.customers, 0)).toBe(2357);
    for (const part of result.parts) {
      expect(part.customers).toBeGreaterThan(450);
      expect(part.customers).toBeLessThan(720);
    }
  });

  it('recorded the partitioned UNLOAD text the Athena task would run', () => {
    expect(result.fitted.queries.customerSummaries).toContain(
      `${customerBucketSql('unloaded.customer_id', 4)} AS part`,
    );
    expect(result.fitted.queries.customerSummaries).toMatch(/partitioned_by = ARRAY\['part'\]\)$/);
  });
});
