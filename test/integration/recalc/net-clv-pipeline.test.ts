/**
 * Net CLV through the pipeline on the local stack: an orders export with costs, shipping and returns
 * plus an attributes file (acquisition channel and cost, NPS) → `runLocalRecalculation` → published
 * scores, `GET /customers/{id}` and the run report. Every expected figure is computed here from the
 * raw rows (net contribution, the credibility-weighted ratio, the group priors) and the fitted
 * model's own predictions (gross CLV, discounted expected orders), not read back from the code under
 * test.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { incomingAttributesKey, incomingKey, reportKey } from '#domain/bucket-layout.ts';
import { discountedExpectedPurchases } from '#domain/economics/net-contribution.ts';
import type { PurchaseModelName } from '#domain/models/types.ts';
import type { CustomerScore } from '#domain/score.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom } from '#test-support/simulate.ts';
import { ApiClient } from '../api/http-client.ts';
import { upload } from '../ingest/support.ts';
import { scoresOfRun } from './sample.ts';

const AS_OF = '2025-06-30';
const K = 4;
const HANDLING = 1.5;
const READ_KEY = 'read-key-for-tests';

interface Order {
  customer: string;
  id: string;
  day: string;
  amountCents: number;
  costCents: number;
  shippingCents: number;
  returnedCents: number;
}

const dayOf = (offset: number) =>
  new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);

/** Random customers over 18 months; P and Q with the same orders at different costs; R returns everything. */
function generateOrders(): Order[] {
  const random = createRandom(1919);
  const orders: Order[] = [];
  for (let c = 0; c < 120; c++) {
    const count = 1 + Math.floor(random() * 6);
    for (let o = 0; o < count; o++) {
      const amountCents = 1000 + Math.floor(random() * 20_000);
      orders.push({
        customer: `G${c}`,
        id: `G${c}-${o}`,
        day: dayOf(Math.floor(random() * 545)),
        amountCents,
        costCents: Math.floor(amountCents * (0.3 + random() * 0.4)),
        shippingCents: random() < 0.5 ? 495 : 0,
        returnedCents: random() < 0.15 ? Math.floor(amountCents * random()) : 0,
      });
    }
  }
  const shared = [
    { day: dayOf(200), amountCents: 12_000 },
    { day: dayOf(320), amountCents: 8000 },
    { day: dayOf(400), amountCents: 10_000 },
    { day: dayOf(520), amountCents: 9000 },
  ];
  shared.forEach((o, i) => {
    const common = { ...o, shippingCents: 0 };
    orders.push({
      customer: 'P',
      id: `P-${i}`,
      ...common,
      costCents: Math.round(o.amountCents * 0.4),
      returnedCents: 0,
    });
    orders.push({
      customer: 'Q',
      id: `Q-${i}`,
      ...common,
      costCents: Math.round(o.amountCents * 0.6),
      returnedCents: i === 1 ? 3000 : 0,
    });
    orders.push({
      customer: 'R',
      id: `R-${i}`,
      ...common,
      costCents: Math.round(o.amountCents * 0.5),
      returnedCents: o.amountCents,
    });
  });
  return orders;
}

const money = (n: number) =>
  `${n < 0 ? '-' : ''}${Math.trunc(Math.abs(n) / 100)}.${String(Math.abs(n) % 100).padStart(2, '0')}`;

/** Attributes: P and Q acquired by `google` at 25.00, R by `google` too; some G by `referral`; NPS. */
const ATTRIBUTES: Record<string, { channel: string | null; costCents: number | null; nps: number | null }> = {
  P: { channel: 'google', costCents: 2500, nps: 9 },
  Q: { channel: 'google', costCents: 2500, nps: 3 },
  R: { channel: 'google', costCents: 2500, nps: 5 },
  ...Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [
      `G${i}`,
      {
        channel: i % 2 === 0 ? 'referral' : null,
        costCents: i % 2 === 0 ? 1000 : null,
        nps: i % 3 === 0 ? 8 : i % 3 === 1 ? 10 : 2,
      },
    ]),
  ),
};

describe('net CLV through the recalculation, the API and the report', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let run: Awaited<ReturnType<typeof runLocalRecalculation>>;
  let scores: Map<string, CustomerScore>;
  const orders = generateOrders();

  beforeAll(async () => {
    stack = await startLocalStack();
    const deps = {
      config: stack.config,
      clients: stack.clients,
      now: () => new Date('2025-07-01T00:00:00Z'),
    };
    const csv = [
      'customer_id,order_id,order_date,amount,cost,shipping_cost,returned_amount',
      ...orders.map(
        (o) =>
          `${o.customer},${o.id},${o.day},${money(o.amountCents)},${money(o.costCents)},${o.shippingCents ? money(o.shippingCents) : ''},${o.returnedCents ? money(o.returnedCents) : ''}`,
      ),
    ].join('\n');
    expect(
      await ingestObject(deps, await upload(stack, incomingKey('shop', 'orders.csv'), csv)),
    ).toMatchObject({
      status: 'succeeded',
      accepted: orders.length,
    });
    const attributes = [
      'customer_id,acquisition_channel,acquisition_cost,nps',
      ...Object.entries(ATTRIBUTES).map(
        ([id, a]) =>
          `${id},${a.channel ?? ''},${a.costCents === null ? '' : money(a.costCents)},${a.nps ?? ''}`,
      ),
    ].join('\n');
    expect(
      await ingestObject(
        deps,
        await upload(stack, incomingAttributesKey('shop', 'customers.csv'), attributes),
      ),
    ).toMatchObject({ status: 'succeeded', accepted: Object.keys(ATTRIBUTES).length });
    run = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: {
        currency: 'EUR',
        timeUnit: 'weeks',
        model: 'bgnbd',
        holdoutWeeks: 13,
        economics: { handlingCostPerOrder: HANDLING, ratioShrinkageOrders: K },
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

  /** Per customer from the raw rows: orders, revenue, net contribution (all rows carry a cost). */
  const raw = (customer: string) => {
    const own = orders.filter((o) => o.customer === customer && o.day <= AS_OF);
    const revenue = own.reduce((s, o) => s + o.amountCents, 0);
    const net = own.reduce((s, o) => s + o.amountCents - o.costCents - o.shippingCents - o.returnedCents, 0);
    return { n: own.length, revenue, net };
  };
  const groupOf = (customer: string) => {
    const channel = ATTRIBUTES[customer]?.channel ?? null;
    return channel === null ? 'source:shop' : `channel:${channel}`;
  };
  /** The group priors: Σ net / Σ revenue over every customer of the group. */
  const priors = () => {
    const sums = new Map<string, { net: number; revenue: number }>();
    for (const customer of new Set(orders.map((o) => o.customer))) {
      const r = raw(customer);
      const g = sums.get(groupOf(customer)) ?? { net: 0, revenue: 0 };
      sums.set(groupOf(customer), { net: g.net + r.net, revenue: g.revenue + r.revenue });
    }
    return new Map([...sums].map(([key, s]) => [key, s.net / s.revenue]));
  };
  const discounted = (score: CustomerScore) =>
    discountedExpectedPurchases(
      run.fitted.model.name as PurchaseModelName,
      run.fitted.model.params,
      { x: [score.frequency], tx: [score.recency], T: [score.T] },
      { unit: 'weeks', horizonMonths: 12, annualDiscountRate: 0.1 },
    )[0]!;

  it('publishes net CLV, cost to serve and CLV/CAC consistent with the raw rows and the fitted model', () => {
    const prior = priors();
    expect(scores.size).toBe(new Set(orders.map((o) => o.customer)).size);
    let checked = 0;
    for (const [customer, score] of scores) {
      const e = score.economics!;
      expect(e, customer).toBeDefined();
      const r = raw(customer);
      const mu = prior.get(groupOf(customer))!;
      const rho = r.revenue > 0 ? (r.n * (r.net / r.revenue) + K * mu) / (r.n + K) : mu;
      const d = discounted(score);
      // gross clv is published to the cent, so the expected net CLV is within a cent or so.
      expect(Math.abs(e.netClv - (score.clv * rho - HANDLING * d)), customer).toBeLessThanOrEqual(0.011);
      expect(Math.abs(e.costToServe - HANDLING * d), customer).toBeLessThanOrEqual(0.005);
      expect(e.historicNetContribution, customer).toBe(r.net / 100);
      expect(e.negativeNetContribution, customer).toBe(e.netClv < 0);
      const attributes = ATTRIBUTES[customer];
      expect(e.acquisitionChannel, customer).toBe(attributes?.channel ?? null);
      expect(e.acquisitionCost, customer).toBe(
        attributes?.costCents == null ? null : attributes.costCents / 100,
      );
      if (e.acquisitionCost) expect(e.clvToCac!, customer).toBeCloseTo(e.netClv / e.acquisitionCost, 3);
      else expect(e.clvToCac, customer).toBeNull();
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('gives P and Q (same orders, different costs and returns) net CLVs that differ by exactly the computed amount', () => {
    const p = scores.get('P')!;
    const q = scores.get('Q')!;
    expect(p.clv).toBe(q.clv);
    expect(p.historicRevenue).toBe(q.historicRevenue);
    const rp = raw('P');
    const rq = raw('Q');
    expect(rp.net / rp.revenue).toBeCloseTo(0.6, 12);
    expect(rq.net / rq.revenue).toBeCloseTo((39_000 - 23_400 - 3000) / 39_000, 12);
    // Same group (google), same prior, same gross CLV and cost to serve: only the own ratio differs.
    const expected = (p.clv * rp.n * (rp.net / rp.revenue - rq.net / rq.revenue)) / (rp.n + K);
    expect(expected).toBeGreaterThan(1);
    expect(Math.abs(p.economics!.netClv - q.economics!.netClv - expected)).toBeLessThanOrEqual(0.011);
    expect(p.economics!.costToServe).toBe(q.economics!.costToServe);
    expect(p.economics!.satisfaction).toEqual({ scale: 'nps', score: 9, band: 'promoter' });
    expect(q.economics!.satisfaction).toEqual({ scale: 'nps', score: 3, band: 'detractor' });
  });

  it('flags a customer who returns everything as negative net contribution', () => {
    const r = scores.get('R')!.economics!;
    expect(r.historicNetContribution).toBe(raw('R').net / 100);
    expect(r.historicNetContribution).toBeLessThan(0);
    expect(r.netClv).toBeLessThan(0);
    expect(r.negativeNetContribution).toBe(true);
  });

  it("puts customers with a negative net CLV in the playbook's serve-cheaper audience", () => {
    const flagged = [...scores.values()].filter((s) => s.economics!.negativeNetContribution);
    expect(flagged.map((s) => s.customerId)).toContain('R');
    for (const s of flagged) {
      // The default web-shop playbook serves them cheaper in every state it covers, else lets go.
      const covered = ['active', 'slipping', 'lapsed'].includes(s.ladderState ?? '');
      expect(s.action, s.customerId).toBe(covered ? 'low-cost-service' : 'let-go');
    }
    for (const s of scores.values()) {
      if (!s.economics!.negativeNetContribution) expect(s.action, s.customerId).not.toBe('low-cost-service');
    }
  });

  it('GET /customers/{id} returns the economics fields, which the OpenAPI document declares', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    const customerScore = document.components.schemas.CustomerScore as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    expect(Object.keys(customerScore.properties.economics!.properties!)).toEqual(
      expect.arrayContaining(['netClv', 'costToServe', 'clvToCac', 'acquisitionChannel', 'satisfaction']),
    );
    for (const id of ['P', 'Q', 'R', 'G0']) {
      const response = await api.request('GET', `/customers/${id}`);
      expect(response.status).toBe(200);
      const body = response.json as CustomerScore;
      expect(body.economics).toEqual(scores.get(id)!.economics);
      expect(body.economics!.netClv).toEqual(expect.any(Number));
    }
  });

  it('records revenue vs net contribution per segment, CLV/CAC by channel and satisfaction bands', () => {
    const e = run.record.economics!;
    const customers = [...scores.keys()];
    const totalRevenue = customers.reduce((sum, id) => sum + raw(id).revenue, 0) / 100;
    const totalNet = customers.reduce((sum, id) => sum + raw(id).net, 0) / 100;
    expect(e.segments.reduce((sum, s) => sum + s.customers, 0)).toBe(customers.length);
    expect(e.segments.reduce((sum, s) => sum + s.historicRevenue, 0)).toBeCloseTo(totalRevenue, 6);
    expect(e.segments.reduce((sum, s) => sum + s.historicNetContribution, 0)).toBeCloseTo(totalNet, 6);
    for (const segment of e.segments) {
      const members = [...scores.values()].filter((s) => s.segment === segment.segment);
      expect(segment.customers).toBe(members.length);
      const net = members.reduce((sum, s) => sum + raw(s.customerId).net, 0) / 100;
      expect(segment.historicNetContribution, segment.segment).toBeCloseTo(net, 6);
      const npsScores = members.flatMap((m) => {
        const nps = ATTRIBUTES[m.customerId]?.nps;
        return nps == null ? [] : [nps];
      });
      expect(segment.satisfactionScored, segment.segment).toBe(npsScores.length);
      if (npsScores.length === 0) expect(segment.meanSatisfaction).toBeNull();
      else {
        const mean = (npsScores.reduce((a, b) => a + b, 0) * 10) / npsScores.length;
        expect(segment.meanSatisfaction!, segment.segment).toBeCloseTo(mean, 9);
        const promoters = npsScores.filter((n) => n >= 9).length;
        const detractors = npsScores.filter((n) => n <= 6).length;
        expect(segment.netPromoterScore!, segment.segment).toBeCloseTo(
          ((promoters - detractors) / npsScores.length) * 100,
          9,
        );
      }
    }
    expect(e.segments.some((segment) => segment.meanSatisfaction !== null)).toBe(true);

    const google = e.channels.find((c) => c.channel === 'google')!;
    const googleIds = ['P', 'Q', 'R'];
    const googleNet = googleIds.reduce((sum, id) => sum + scores.get(id)!.economics!.netClv, 0);
    expect(google).toMatchObject({ customers: 3, customersWithCost: 3, meanAcquisitionCost: 25 });
    expect(Math.abs(google.netClvToCac! - googleNet / 75)).toBeLessThan(0.001);
    const lifetime = googleIds.reduce((sum, id) => sum + raw(id).net / 100, 0) + googleNet;
    expect(Math.abs(google.lifetimeNetToCac! - lifetime / 75)).toBeLessThan(0.001);
    const referral = e.channels.find((c) => c.channel === 'referral')!;
    expect(referral).toMatchObject({ customers: 20, customersWithCost: 20, meanAcquisitionCost: 10 });
    expect(e.channels.find((c) => c.channel === '(unknown)')!.customersWithCost).toBe(0);

    // Bands from the NPS given; retention = share who bought after the calibration end (13 weeks).
    const calibrationEnd = run.fitted.calibrationEnd!;
    const bandOf = (id: string) => {
      const nps = ATTRIBUTES[id]?.nps ?? null;
      return nps === null ? 'unknown' : nps >= 9 ? 'promoter' : nps >= 7 ? 'passive' : 'detractor';
    };
    expect(e.satisfactionAdvice).toBeNull();
    for (const band of e.satisfactionBands) {
      const members = customers.filter((id) => bandOf(id) === band.band);
      expect(band.customers, band.band).toBe(members.length);
      const retained = members.filter((id) =>
        orders.some((o) => o.customer === id && o.day > calibrationEnd),
      );
      expect(band.retention, band.band).toBeCloseTo(retained.length / members.length, 12);
      const meanPAlive = members.reduce((sum, id) => sum + scores.get(id)!.pAlive, 0) / members.length;
      expect(band.meanPAlive, band.band).toBeCloseTo(meanPAlive, 5);
    }
  });

  it('gives each ladder position the mean satisfaction of its customers (0–100 scale)', () => {
    const positions = run.record.playbook!.positions;
    for (const position of positions) {
      const members = [...scores.values()].filter(
        (s) => (s.ladderState === 'active' ? s.rung : s.ladderState) === position.position,
      );
      const nps = members.flatMap((m) => {
        const score = ATTRIBUTES[m.customerId]?.nps;
        return score == null ? [] : [score];
      });
      expect(position.satisfaction?.scored, position.position).toBe(nps.length);
      if (nps.length === 0) expect(position.satisfaction?.meanPercent).toBeNull();
      else
        expect(position.satisfaction!.meanPercent!, position.position).toBeCloseTo(
          (nps.reduce((a, b) => a + b, 0) * 10) / nps.length,
          1,
        );
    }
    expect(positions.some((p) => (p.satisfaction?.scored ?? 0) > 0)).toBe(true);
  });

  it('shows the three economics sections in the run report with the recorded numbers', async () => {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(run.record.runId) }),
    );
    const html = await object.Body!.transformToString();
    expect(html).toContain('<h2>Revenue vs net contribution per segment</h2>');
    expect(html).toContain('<h2>CLV/CAC by acquisition channel</h2>');
    expect(html).toContain(
      '<h2>Satisfaction bands (detractors / passives / promoters): retention, P(alive), CLV</h2>',
    );
    const google = run.record.economics!.channels.find((c) => c.channel === 'google')!;
    expect(html).toContain(`<td>google</td><td>3</td>`);
    expect(html).toContain(`<td>${google.netClvToCac!.toFixed(2)}</td>`);
    const detractors = run.record.economics!.satisfactionBands.find((b) => b.band === 'detractor')!;
    expect(html).toContain(`<td>Detractors</td><td>${detractors.customers}</td>`);
    expect(html).not.toContain('satisfaction-advice');
    // The ladder rows carry their mean satisfaction.
    const scored = run.record.playbook!.positions.find((p) => (p.satisfaction?.scored ?? 0) > 0)!;
    expect(html).toContain(
      `mean satisfaction ${scored.satisfaction!.meanPercent!.toFixed(0)}/100 (${scored.satisfaction!.scored} scored)`,
    );
  });
});
