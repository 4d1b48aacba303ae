/**
 * A donor export answering appeals (a spring and a Christmas campaign each year) end to end with
 * campaign periods: the real ingest, the local recalculation runner (noncontractual-discrete family,
 * `period: "campaign"`) and the read API. The run's BG/BB parameters equal a direct fit of the
 * engine's `summarizeDiscrete` with the same calendar, and the served summaries are the engine's.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { reportKey } from '#domain/bucket-layout.ts';
import { summarizeDiscrete } from '#domain/discrete-summary.ts';
import { type BgBbParams, bgbbProbabilityAlive, fitBgBb } from '#domain/models/bgbb.ts';
import { compressRfm, formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';
import type { RunRecord } from '#domain/run.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom, sampleBeta } from '#test-support/simulate.ts';
import { ApiClient } from '../api/http-client.ts';

const READ_KEY = 'read-key-for-campaign-tests';
const AS_OF = '2024-12-31';
const CAMPAIGNS = [2021, 2022, 2023, 2024].flatMap((year) => [`${year}-03-01`, `${year}-11-15`]);

interface Gift {
  customerId: string;
  date: string;
  amount: number;
}

/**
 * 600 donors from the BG/BB process (p ~ Beta(1.2, 0.75), θ ~ Beta(0.66, 2.78), the published donor
 * estimates), each first giving in one of the first two campaigns, then, while still a donor (leaving
 * with probability θ before each campaign), giving in a campaign with probability p; a gift falls
 * within 40 days of the appeal. Some donors also gave before the first campaign (left out of the
 * periods) and some gifts are refunded in part.
 */
function donorGifts(): Gift[] {
  const random = createRandom(20_241_115);
  const gifts: Gift[] = [];
  for (let d = 1; d <= 600; d++) {
    const customerId = `DON${String(d).padStart(4, '0')}`;
    const p = sampleBeta(random, 1.2, 0.75);
    const theta = sampleBeta(random, 0.66, 2.78);
    const first = Math.floor(random() * 2);
    const give = (campaign: number) => {
      const day = parseEpochDay(CAMPAIGNS[campaign]!) + Math.floor(random() * 40);
      const amount = Math.round(500 + random() * 9500) / 100;
      gifts.push({ customerId, date: formatEpochDay(day), amount });
      if (random() < 0.05) gifts.push({ customerId, date: formatEpochDay(day + 3), amount: -amount / 2 });
    };
    if (random() < 0.1) gifts.push({ customerId, date: '2020-12-01', amount: 25 });
    give(first);
    for (let c = first + 1; c < CAMPAIGNS.length; c++) {
      if (random() < theta) break;
      if (random() < p) give(c);
    }
  }
  return gifts;
}

describe('donor export with campaign periods (BG/BB) end to end', { timeout: 300_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let record: RunRecord;
  const gifts = donorGifts();
  const engine = summarizeDiscrete(gifts, {
    period: { kind: 'campaigns', starts: CAMPAIGNS },
    observationEnd: AS_OF,
  });

  beforeAll(async () => {
    stack = await startLocalStack();
    const csv = [
      'order_id,customer_id,order_date,amount,currency',
      ...gifts.map((g, i) => `G${i + 1},${g.customerId},${g.date},${g.amount.toFixed(2)},EUR`),
    ].join('\n');
    const key = 'incoming/appeals/gifts.csv';
    const put = await stack.clients.s3.send(
      new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: `${csv}\n` }),
    );
    const report = await ingestObject(
      { config: stack.config, clients: stack.clients },
      { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
    );
    expect(report.status, report.message).toBe('succeeded');
    expect(report.accepted).toBe(gifts.length);
    const result = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: {
        currency: 'EUR',
        family: 'noncontractual-discrete',
        period: 'campaign',
        campaigns: CAMPAIGNS,
      },
    });
    record = result.record;
    const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
    server = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('publishes a BG/BB run over the campaign calendar whose parameters equal a direct fit of summarizeDiscrete', () => {
    expect(record.status).toBe('published');
    expect(record.model).toMatchObject({
      name: 'bgbb',
      family: 'noncontractual-discrete',
      period: 'campaign',
      campaigns: CAMPAIGNS,
    });
    const observed = engine.customerIds.map((_, i) => i).filter((i) => engine.periods[i]! >= 1);
    const direct = fitBgBb(
      compressRfm(
        observed.map((i) => engine.frequency[i]!),
        observed.map((i) => engine.recency[i]!),
        observed.map((i) => engine.periods[i]!),
      ),
    );
    for (const name of ['alpha', 'beta', 'gamma', 'delta'] as const) {
      expect(record.model!.params[name]).toBeCloseTo(direct.params[name], 5);
    }
    expect(record.customers).toBe(engine.customerIds.length);
  });

  it('serves each donor the engine summary in campaigns and P(alive) of BG/BB', async () => {
    const params = record.model!.params as unknown as BgBbParams;
    for (const i of [0, 7, 42, 199, 598]) {
      const id = engine.customerIds[i]!;
      const [x, tx, n] = [engine.frequency[i]!, engine.recency[i]!, engine.periods[i]!];
      const served = (await api.request('GET', `/customers/${id}`)).json as Record<string, number>;
      expect(served, id).toMatchObject({ frequency: x, recency: tx, T: n });
      expect(served.pAlive).toBeCloseTo(bgbbProbabilityAlive(params, x, tx, n, 1), 3);
    }
  });

  it('shows the campaign dates in the run report', async () => {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(record.runId) }),
    );
    const html = await object.Body!.transformToString();
    expect(html).toContain(`family noncontractual-discrete (per campaign: ${CAMPAIGNS.join(', ')})`);
  });
});
