/**
 * The period families end to end: a donor gift export (BG/BB, yearly) and a membership fee export
 * (sBG, yearly renewals) through the real ingest, the local recalculation runner and the read API.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { reportKey } from '#domain/bucket-layout.ts';
import { type BgBbParams, bgbbProbabilityAlive, fitBgBb } from '#domain/models/bgbb.ts';
import { fitSbg, type SbgParams, sbgProbabilityAlive } from '#domain/models/sbg.ts';
import { compressRfm } from '#domain/rfm-summary.ts';
import type { RunRecord } from '#domain/run.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ApiClient } from '../api/http-client.ts';
import { donorExport, type FamilyExport, membershipExport, type PeriodHistory } from './family-exports.ts';

const READ_KEY = 'read-key-for-family-tests';

async function ingestExport(stack: LocalStack, key: string, data: FamilyExport): Promise<void> {
  const put = await stack.clients.s3.send(
    new PutObjectCommand({ Bucket: stack.config.bucket, Key: key, Body: data.csv }),
  );
  const report = await ingestObject(
    { config: stack.config, clients: stack.clients },
    { bucket: stack.config.bucket, key, ...(put.ETag ? { eTag: put.ETag } : {}) },
  );
  expect(report.status, report.message).toBe('succeeded');
  expect(report.accepted).toBe(data.rows);
}

/** The histories compressed as the fit sees them (customers with at least one opportunity). */
function compressHistories(histories: readonly PeriodHistory[]) {
  const observed = histories.filter((h) => h.n >= 1);
  return compressRfm(
    observed.map((h) => h.x),
    observed.map((h) => h.tx),
    observed.map((h) => h.n),
  );
}

async function startApi(stack: LocalStack): Promise<{ server: ApiServer; api: ApiClient }> {
  const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
  const server = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
  const api = new ApiClient(server.url, READ_KEY);
  await api.loadOpenApi();
  return { server, api };
}

// ~11,100 donors and 1,000 members written to dynalite (~500 items/s in-process): minutes, not seconds.
describe('donor export, yearly periods (BG/BB) end to end', { timeout: 300_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let record: RunRecord;
  const donors = donorExport();

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestExport(stack, 'incoming/donors/gifts.csv', donors);
    const result = await runLocalRecalculation(stack, {
      asOf: '2001-12-31',
      config: {
        currency: 'USD',
        family: 'noncontractual-discrete',
        period: 'year',
        playbook: { preset: 'non-profit' },
      },
    });
    record = result.record;
    ({ server, api } = await startApi(stack));
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('publishes a BG/BB run of the discrete family whose parameters equal a direct fit of the same summary', () => {
    expect(record.status).toBe('published');
    expect(record.model).toMatchObject({ name: 'bgbb', family: 'noncontractual-discrete', period: 'year' });
    expect(record.model!.identified).toBe(true);
    const direct = fitBgBb(compressHistories(donors.histories));
    for (const name of ['alpha', 'beta', 'gamma', 'delta'] as const) {
      expect(record.model!.params[name]).toBeCloseTo(direct.params[name], 5);
    }
    expect(record.model!.logLikelihood).toBeCloseTo(direct.logLikelihood, 4);
    // And the published estimates of Fader, Hardie & Shang (2010).
    expect(record.model!.params).toMatchObject({
      alpha: expect.closeTo(1.204, 2),
      beta: expect.closeTo(0.75, 2),
      gamma: expect.closeTo(0.657, 2),
      delta: expect.closeTo(2.783, 1),
    });
    expect(record.customers).toBe(donors.histories.length);
    expect(record.spendModel?.name).toBe('gammagamma');
    expect(record.message).toMatch(/holdout check not available for the noncontractual-discrete family/);
  });

  it('serves P(alive) of known histories through GET /customers/{id}', async () => {
    const params = record.model!.params as unknown as BgBbParams;
    const byPattern = (x: number, tx: number) =>
      donors.histories.find((h) => h.x === x && h.tx === tx)!.customerId;
    for (const [x, tx] of [
      [0, 0],
      [1, 1],
      [3, 6],
      [6, 6],
    ] as const) {
      const id = byPattern(x, tx);
      const response = await api.request('GET', `/customers/${id}`);
      expect(response.status, id).toBe(200);
      const score = response.json as Record<string, number | string>;
      expect(score).toMatchObject({ customerId: id, runId: record.runId, frequency: x, recency: tx, T: 6 });
      expect(score.pAlive).toBeCloseTo(bgbbProbabilityAlive(params, x, tx, 6), 5);
    }
    // More repeat years, more recent: more likely alive.
    const never = (await api.request('GET', `/customers/${byPattern(0, 0)}`)).json as { pAlive: number };
    const always = (await api.request('GET', `/customers/${byPattern(6, 6)}`)).json as {
      pAlive: number;
      clv: number;
    };
    expect(always.pAlive).toBeGreaterThan(never.pAlive);
    expect(always.clv).toBeGreaterThan(0);
  });

  it('places donors on the non-profit ladder, counting time since the last gift in whole years', async () => {
    const byPattern = (x: number, tx: number) =>
      donors.histories.find((h) => h.x === x && h.tx === tx)!.customerId;
    // Gave in each of the 7 years up to 2001: seven gifts, the last in the current year.
    const regular = (await api.request('GET', `/customers/${byPattern(6, 6)}`)).json;
    expect(regular).toMatchObject({
      historicOrders: 7,
      rung: 'regular',
      ladderState: 'active',
      nextRung: 'major',
    });
    // One gift in 1995, none in the six years since.
    const lapsed = (await api.request('GET', `/customers/${byPattern(0, 0)}`)).json;
    expect(lapsed).toMatchObject({ historicOrders: 1, rung: 'first-gift', ladderState: 'lapsed' });
    expect(record.playbook?.ladder.name).toBe('non-profit');
    expect(record.playbook?.backtest).toBeNull();
    expect(record.playbook?.actions.reduce((sum, a) => sum + a.customers, 0)).toBe(record.customers);
  });

  it('shows the family and the BG/BB parameters in the run report', async () => {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(record.runId) }),
    );
    const html = await object.Body!.transformToString();
    expect(html).toContain('family noncontractual-discrete (per year)');
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) expect(html).toContain(`<td>${name}</td>`);
    expect(html).toContain('holdout check not available for the noncontractual-discrete family');
  });

  it('serves the RFM segments of the run through GET /segments', async () => {
    const response = await api.request('GET', '/segments');
    expect(response.status).toBe(200);
    const body = response.json as { runId: string; segments: { segment: string; customers: number }[] };
    expect(body.runId).toBe(record.runId);
    expect(body.segments.reduce((sum, s) => sum + s.customers, 0)).toBe(donors.histories.length);
  });
});

describe('membership export, yearly renewals (sBG) end to end', { timeout: 300_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let record: RunRecord;
  const members = membershipExport();

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestExport(stack, 'incoming/members/fees.csv', members);
    const result = await runLocalRecalculation(stack, {
      asOf: '2008-12-31',
      config: { currency: 'USD', family: 'contractual', period: 'year' },
    });
    record = result.record;
    ({ server, api } = await startApi(stack));
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('publishes an sBG run of the contractual family whose parameters equal a direct fit of the cohort', () => {
    expect(record.status).toBe('published');
    expect(record.model).toMatchObject({ name: 'sbg', family: 'contractual', period: 'year' });
    const direct = fitSbg(compressHistories(members.histories));
    expect(record.model!.params.gamma).toBeCloseTo(direct.params.gamma, 5);
    expect(record.model!.params.delta).toBeCloseTo(direct.params.delta, 5);
    // Fader & Hardie (2007), regular cohort: γ = 0.704, δ = 1.182.
    expect(record.model!.params.gamma).toBeCloseTo(0.704, 2);
    expect(record.model!.params.delta).toBeCloseTo(1.182, 2);
    expect(record.customers).toBe(1000);
    expect(record.spendModel).toBeNull();
  });

  it('serves "still a member" as P(alive) and a CLV from the fee for members, none for cancelled ones', async () => {
    const params = record.model!.params as unknown as SbgParams;
    const active = members.histories.find((h) => h.tx === 7)!;
    const cancelled = members.histories.find((h) => h.tx === 2)!;
    const activeScore = (await api.request('GET', `/customers/${active.customerId}`)).json as Record<
      string,
      number
    >;
    const cancelledScore = (await api.request('GET', `/customers/${cancelled.customerId}`)).json as Record<
      string,
      number
    >;
    expect(activeScore).toMatchObject({ pAlive: 1, frequency: 7, recency: 7, T: 7 });
    expect(cancelledScore).toMatchObject({ pAlive: 0, clv: 0, frequency: 2, recency: 2, T: 7 });
    // One year's horizon: the fee × P(renews at opportunity 8 | 7 renewals) / 1.1.
    const fee = activeScore.expectedOrderValue!;
    expect([40, 60, 80]).toContain(fee);
    expect(activeScore.clv).toBeCloseTo((fee * sbgProbabilityAlive(params, 7, 7, 1)) / 1.1, 2);
    expect(activeScore.expectedPurchases90d).toBeCloseTo(sbgProbabilityAlive(params, 7, 7, 1), 4);
  });

  it('serves the segments of the run through GET /segments', async () => {
    const response = await api.request('GET', '/segments');
    expect(response.status).toBe(200);
    const body = response.json as { runId: string; segments: { segment: string; customers: number }[] };
    expect(body.runId).toBe(record.runId);
    expect(body.segments.reduce((sum, s) => sum + s.customers, 0)).toBe(1000);
  });
});
