/**
 * Net CLV of the period families through the local stack: a gift export (BG/BB, yearly) with a cost
 * per gift and returns, and a membership fee export (sBG, yearly renewals) with costs, each with an
 * attributes file of service contacts → `runLocalRecalculation` → published scores,
 * `GET /customers/{id}` and the run record. Every expected figure is computed here
 * from the raw rows (periods, net contribution, the credibility-weighted ratio, the group prior) and
 * the fitted model's own predictions (BG/BB conditional expectations and P(alive) per period, sBG
 * survival).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { incomingAttributesKey, incomingKey } from '#domain/bucket-layout.ts';
import { type BgBbParams, bgbbConditionalExpected, bgbbProbabilityAlive } from '#domain/models/bgbb.ts';
import { type SbgParams, sbgProbabilityAlive } from '#domain/models/sbg.ts';
import type { CustomerScore } from '#domain/score.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom } from '#test-support/simulate.ts';
import { ApiClient } from '../api/http-client.ts';
import { upload } from '../ingest/support.ts';
import { scoresOfRun } from './sample.ts';

const AS_OF = '2001-12-31';
const FIRST_YEAR = 1995;
const K = 4;
const HANDLING = 0.5;
const PER_CONTACT = 6;
const READ_KEY = 'read-key-for-family-net-clv';

interface Gift {
  donor: string;
  id: string;
  year: number;
  amountCents: number;
  costCents: number;
  returnedCents: number;
}

/** A 1995 cohort of donors giving at most once a year until they stop; A and B give alike. */
function generateGifts(): Gift[] {
  const random = createRandom(2019);
  const gifts: Gift[] = [];
  for (let d = 0; d < 400; d++) {
    // Heterogeneous donors as BG/BB assumes: a chance to give while alive, a chance to drop out.
    const p = 0.1 + random() * 0.85;
    const theta = 0.02 + random() * 0.4;
    for (let year = FIRST_YEAR; year <= 2001; year++) {
      if (year > FIRST_YEAR && random() < theta) break;
      if (year === FIRST_YEAR || random() < p) {
        const amountCents = 2000 + Math.floor(random() * 8000);
        gifts.push({
          donor: `D${d}`,
          id: `D${d}-${year}`,
          year,
          amountCents,
          costCents: Math.floor(amountCents * (0.05 + random() * 0.2)),
          returnedCents: random() < 0.05 ? amountCents : 0,
        });
      }
    }
  }
  for (const year of [1995, 1996, 1998, 2000, 2001]) {
    gifts.push({ donor: 'A', id: `A-${year}`, year, amountCents: 10_000, costCents: 1000, returnedCents: 0 });
    gifts.push({
      donor: 'B',
      id: `B-${year}`,
      year,
      amountCents: 10_000,
      costCents: 3000,
      returnedCents: year === 1998 ? 4000 : 0,
    });
  }
  return gifts;
}

const money = (n: number) => `${Math.trunc(n / 100)}.${String(n % 100).padStart(2, '0')}`;

/** Service contacts per year: A and B alike, some generated donors more. */
const CONTACTS: Record<string, number> = {
  A: 2,
  B: 2,
  ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`D${i}`, i % 5])),
};

describe('net CLV of the BG/BB family through the recalculation and the API', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let run: Awaited<ReturnType<typeof runLocalRecalculation>>;
  let scores: Map<string, CustomerScore>;
  const gifts = generateGifts();

  beforeAll(async () => {
    stack = await startLocalStack();
    const deps = {
      config: stack.config,
      clients: stack.clients,
      now: () => new Date('2002-01-02T00:00:00Z'),
    };
    const csv = [
      'customer_id,order_id,order_date,amount,cost,returned_amount',
      ...gifts.map(
        (g) =>
          `${g.donor},${g.id},${g.year}-06-15,${money(g.amountCents)},${money(g.costCents)},${g.returnedCents ? money(g.returnedCents) : ''}`,
      ),
    ].join('\n');
    expect(
      await ingestObject(deps, await upload(stack, incomingKey('gifts', 'gifts.csv'), csv)),
    ).toMatchObject({
      status: 'succeeded',
      accepted: gifts.length,
    });
    const attributes = [
      'customer_id,service_contacts',
      ...Object.entries(CONTACTS).map(([id, n]) => `${id},${n}`),
    ].join('\n');
    expect(
      await ingestObject(deps, await upload(stack, incomingAttributesKey('gifts', 'donors.csv'), attributes)),
    ).toMatchObject({ status: 'succeeded', accepted: Object.keys(CONTACTS).length });
    run = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: {
        currency: 'EUR',
        family: 'noncontractual-discrete',
        period: 'year',
        clv: { horizonMonths: 60 },
        playbook: { preset: 'non-profit' },
        economics: {
          handlingCostPerOrder: HANDLING,
          ratioShrinkageOrders: K,
          costPerServiceContact: PER_CONTACT,
          servicePeriodMonths: 12,
        },
      },
    });
    const items = await scoresOfRun(
      stack,
      run.record.runId,
      run.record.segments.map((s) => s.segment),
    );
    scores = new Map(items.map((item) => [item.customerId as string, item as unknown as CustomerScore]));
    const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
    server = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  }, 240_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  /** Per donor from the raw rows: x, t_x, n in years, gifts, revenue and net contribution. */
  const raw = (donor: string) => {
    const own = gifts.filter((g) => g.donor === donor);
    const first = Math.min(...own.map((g) => g.year));
    const repeats = own.filter((g) => g.year > first).map((g) => g.year - first);
    return {
      x: repeats.length,
      tx: repeats.length === 0 ? 0 : Math.max(...repeats),
      n: 2001 - first,
      gifts: own.length,
      revenue: own.reduce((s, g) => s + g.amountCents, 0),
      net: own.reduce((s, g) => s + g.amountCents - g.costCents - g.returnedCents, 0),
    };
  };
  const prior = () => {
    const donors = [...new Set(gifts.map((g) => g.donor))].map(raw);
    return donors.reduce((s, d) => s + d.net, 0) / donors.reduce((s, d) => s + d.revenue, 0);
  };
  /** D and A over the 5 yearly periods of the horizon, from the fitted model's own predictions. */
  const factors = (donor: string) => {
    const params = run.fitted.model.params as unknown as BgBbParams;
    const { x, tx, n } = raw(donor);
    let d = 0;
    let months = 0;
    for (let k = 1; k <= 5; k++) {
      const step =
        bgbbConditionalExpected(params, k, x, tx, n) - bgbbConditionalExpected(params, k - 1, x, tx, n);
      d += step / 1.1 ** k;
      months += (12 * bgbbProbabilityAlive(params, x, tx, n, k)) / 1.1 ** k;
    }
    return { d, months };
  };

  it('fits BG/BB and publishes net CLV = gross × ρ − handling × D − service × A for every donor', () => {
    expect(run.fitted.model.name).toBe('bgbb');
    const mu = prior();
    expect(scores.size).toBe(new Set(gifts.map((g) => g.donor)).size);
    for (const [donor, score] of scores) {
      const r = raw(donor);
      expect([score.frequency, score.recency, score.T], donor).toEqual([r.x, r.tx, r.n]);
      const e = score.economics!;
      expect(e, donor).toBeDefined();
      const rho = (r.gifts * (r.net / r.revenue) + K * mu) / (r.gifts + K);
      const { d, months } = factors(donor);
      const service = ((CONTACTS[donor] ?? 0) * PER_CONTACT) / 12;
      const cost = HANDLING * d + service * months;
      expect(Math.abs(e.costToServe - cost), donor).toBeLessThanOrEqual(0.005);
      // Gross CLV is published to the cent: the expected net CLV is within a cent or so.
      expect(Math.abs(e.netClv - (score.clv * rho - cost)), donor).toBeLessThanOrEqual(0.011);
      expect(e.historicNetContribution, donor).toBe(r.net / 100);
    }
  });

  it('gives A and B (same gifts, different costs and returns) net CLVs that differ by exactly the computed amount', () => {
    const a = scores.get('A')!;
    const b = scores.get('B')!;
    expect(a.clv).toBe(b.clv);
    expect(a.clv).toBeGreaterThan(0);
    const ra = raw('A');
    const rb = raw('B');
    expect(ra.net / ra.revenue).toBeCloseTo(0.9, 12);
    expect(rb.net / rb.revenue).toBeCloseTo((50_000 - 15_000 - 4000) / 50_000, 12);
    const expected = (a.clv * ra.gifts * (ra.net / ra.revenue - rb.net / rb.revenue)) / (ra.gifts + K);
    expect(expected).toBeGreaterThan(1);
    expect(Math.abs(a.economics!.netClv - b.economics!.netClv - expected)).toBeLessThanOrEqual(0.011);
    expect(a.economics!.costToServe).toBe(b.economics!.costToServe);
    expect(a.economics!.costToServe).toBeGreaterThan(0);
  });

  it('records the economics of the run, serves them on GET /customers/{id}, and an empty detractors list with advice', async () => {
    const e = run.record.economics!;
    expect(e.segments.reduce((sum, s) => sum + s.customers, 0)).toBe(scores.size);
    const totalNetClv = [...scores.values()].reduce((sum, s) => sum + s.economics!.netClv, 0);
    // The record sums the unrounded figures; the scores are published to the cent.
    const recorded = e.segments.reduce((sum, s) => sum + s.netClv, 0);
    expect(Math.abs(recorded - totalNetClv)).toBeLessThanOrEqual(0.005 * scores.size);
    // No satisfaction column in the attributes: the detractors list is empty and says what to add.
    expect(e.highValueDetractors).toBe(0);
    expect(e.satisfactionAdvice).toMatch(/nps column/);
    const list = await api.request('GET', '/playbook/high-value-detractors');
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({
      total: 0,
      customers: [],
      nextCursor: null,
      advice: e.satisfactionAdvice,
    });
    for (const id of ['A', 'B', 'D0']) {
      const response = await api.request('GET', `/customers/${id}`);
      expect(response.status).toBe(200);
      expect((response.json as CustomerScore).economics).toEqual(scores.get(id)!.economics);
    }
  });
});

/** A 1995 cohort of members paying a yearly fee until they cancel; MA and MB pay alike, MC cancelled. */
function generateFees(): Gift[] {
  const random = createRandom(3031);
  const fees: Gift[] = [];
  const fee = (member: string, year: number, amountCents: number, costCents: number) =>
    fees.push({ donor: member, id: `${member}-${year}`, year, amountCents, costCents, returnedCents: 0 });
  for (let m = 0; m < 300; m++) {
    const theta = 0.05 + random() * 0.45;
    for (let year = FIRST_YEAR; year <= 2001; year++) {
      if (year > FIRST_YEAR && random() < theta) break;
      fee(`M${m}`, year, 5000, 500 + Math.floor(random() * 1500));
    }
  }
  for (let year = FIRST_YEAR; year <= 2001; year++) {
    fee('MA', year, 10_000, 1000);
    fee('MB', year, 10_000, 4000);
  }
  for (let year = FIRST_YEAR; year <= 1997; year++) fee('MC', year, 10_000, 1000);
  return fees;
}

describe('net CLV of the sBG family through the recalculation', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  let run: Awaited<ReturnType<typeof runLocalRecalculation>>;
  let scores: Map<string, CustomerScore>;
  const fees = generateFees();
  const contacts: Record<string, number> = { MA: 3, MB: 3, MC: 5, M0: 1, M1: 4 };

  beforeAll(async () => {
    stack = await startLocalStack();
    const deps = {
      config: stack.config,
      clients: stack.clients,
      now: () => new Date('2002-01-02T00:00:00Z'),
    };
    const csv = [
      'customer_id,order_id,order_date,amount,cost',
      ...fees.map((f) => `${f.donor},${f.id},${f.year}-03-01,${money(f.amountCents)},${money(f.costCents)}`),
    ].join('\n');
    expect(await ingestObject(deps, await upload(stack, incomingKey('club', 'fees.csv'), csv))).toMatchObject(
      {
        status: 'succeeded',
        accepted: fees.length,
      },
    );
    const attributes = [
      'customer_id,service_contacts',
      ...Object.entries(contacts).map(([id, n]) => `${id},${n}`),
    ].join('\n');
    expect(
      await ingestObject(deps, await upload(stack, incomingAttributesKey('club', 'members.csv'), attributes)),
    ).toMatchObject({ status: 'succeeded' });
    run = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: {
        currency: 'EUR',
        family: 'contractual',
        period: 'year',
        clv: { horizonMonths: 36 },
        economics: {
          handlingCostPerOrder: HANDLING,
          ratioShrinkageOrders: K,
          costPerServiceContact: PER_CONTACT,
          servicePeriodMonths: 12,
        },
      },
    });
    const items = await scoresOfRun(
      stack,
      run.record.runId,
      run.record.segments.map((s) => s.segment),
    );
    scores = new Map(items.map((item) => [item.customerId as string, item as unknown as CustomerScore]));
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const raw = (member: string) => {
    const own = fees.filter((f) => f.donor === member);
    const revenue = own.reduce((s, f) => s + f.amountCents, 0);
    const net = own.reduce((s, f) => s + f.amountCents - f.costCents, 0);
    return { payments: own.length, revenue, net };
  };

  it('charges service per period alive (survival) and values members still paying net of their costs', () => {
    expect(run.fitted.model.name).toBe('sbg');
    const params = run.fitted.model.params as unknown as SbgParams;
    const members = [...new Set(fees.map((f) => f.donor))].map(raw);
    const mu = members.reduce((s, m) => s + m.net, 0) / members.reduce((s, m) => s + m.revenue, 0);
    for (const [member, score] of scores) {
      const r = raw(member);
      const e = score.economics!;
      const rho = (r.payments * (r.net / r.revenue) + K * mu) / (r.payments + K);
      let d = 0;
      if (score.pAlive > 0) {
        for (let k = 1; k <= 3; k++) d += sbgProbabilityAlive(params, score.recency, score.T, k) / 1.1 ** k;
      }
      const cost = HANDLING * d + (((contacts[member] ?? 0) * PER_CONTACT) / 12) * 12 * d;
      expect(Math.abs(e.costToServe - cost), member).toBeLessThanOrEqual(0.005);
      expect(Math.abs(e.netClv - (score.clv * rho - cost)), member).toBeLessThanOrEqual(0.011);
    }
    const a = scores.get('MA')!;
    const b = scores.get('MB')!;
    expect(a.clv).toBe(b.clv);
    const [ra, rb] = [raw('MA'), raw('MB')];
    const expected = (a.clv * ra.payments * (ra.net / ra.revenue - rb.net / rb.revenue)) / (ra.payments + K);
    expect(expected).toBeGreaterThan(1);
    expect(Math.abs(a.economics!.netClv - b.economics!.netClv - expected)).toBeLessThanOrEqual(0.011);
  });

  it('values a member who has cancelled at exactly 0, gross and net, whatever their service cost', () => {
    const c = scores.get('MC')!;
    expect(c.pAlive).toBe(0);
    expect(c.clv).toBe(0);
    expect(c.economics).toMatchObject({ netClv: 0, costToServe: 0 });
  });
});
