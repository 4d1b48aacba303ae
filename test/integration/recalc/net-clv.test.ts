/**
 * Net CLV from a generated export on the local stack: orders with costs and returns plus an attributes
 * file go through the ingest, the warehouse (customer summaries, economics sums, latest attributes)
 * and scoring. Two customers with the same orders and revenue but different costs and returns get the
 * same gross CLV, and net CLVs that differ by exactly the amount computed here from the raw figures
 * with plain arithmetic; CLV/CAC and the negative flag follow the attributes and the figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import {
  customerAttributesStatement,
  customerEconomicsStatement,
} from '#adapters/warehouse/economics-queries.ts';
import { customerSummariesStatement } from '#adapters/warehouse/queries.ts';
import { incomingAttributesKey, incomingKey } from '#domain/bucket-layout.ts';
import type { CustomerAttributes } from '#domain/economics/customer-attributes.ts';
import { parseEconomicsConfig } from '#domain/economics/economics-config.ts';
import { discountedExpectedPurchases } from '#domain/economics/net-contribution.ts';
import { observedEconomicsFromSums } from '#domain/economics/observed-from-sums.ts';
import {
  type CustomerEconomicsInput,
  netRatioGroupsOf,
  scoreEconomics,
} from '#domain/economics/score-economics.ts';
import { type ScoringRun, scoreSummaryRows } from '#domain/recalc/scoring.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom } from '#test-support/simulate.ts';
import { upload } from '../ingest/support.ts';

const AS_OF = '2025-06-30';
const BG = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };
const GG = { p: 6.25, q: 3.74, v: 15.44 };
const MARGIN = 1;
const K = 4;

interface Order {
  customer: string;
  id: string;
  day: string;
  amountCents: number;
  costCents: number;
  returnedCents: number;
}

/** The generated export: random customers, plus P and Q with the same orders at different costs. */
function generateOrders(): Order[] {
  const random = createRandom(19);
  const orders: Order[] = [];
  const day = (offset: number) =>
    new Date(Date.UTC(2025, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
  for (let c = 0; c < 30; c++) {
    const count = 1 + Math.floor(random() * 5);
    for (let o = 0; o < count; o++) {
      const amountCents = 1000 + Math.floor(random() * 20_000);
      orders.push({
        customer: `G${c}`,
        id: `G${c}-${o}`,
        day: day(Math.floor(random() * 170)),
        amountCents,
        costCents: Math.floor(amountCents * (0.3 + random() * 0.4)),
        returnedCents: random() < 0.15 ? Math.floor(amountCents * random()) : 0,
      });
    }
  }
  const shared = [
    { day: day(10), amountCents: 12_000 },
    { day: day(60), amountCents: 8000 },
    { day: day(120), amountCents: 10_000 },
  ];
  shared.forEach((o, i) => {
    orders.push({
      customer: 'P',
      id: `P-${i}`,
      ...o,
      costCents: Math.round(o.amountCents * 0.4),
      returnedCents: 0,
    });
    orders.push({
      customer: 'Q',
      id: `Q-${i}`,
      ...o,
      costCents: Math.round(o.amountCents * 0.6),
      returnedCents: i === 1 ? 3000 : 0,
    });
  });
  return orders;
}

const cents = (n: number) => `${Math.trunc(n / 100)}.${String(n % 100).padStart(2, '0')}`;

describe('net CLV from a generated export with costs and returns', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let warehouse: DuckDbWarehouse;
  const orders = generateOrders();

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-net-clv-'));
    const csv = [
      'customer_id,order_id,order_date,amount,cost,returned_amount',
      ...orders.map(
        (o) =>
          `${o.customer},${o.id},${o.day},${cents(o.amountCents)},${cents(o.costCents)},${o.returnedCents ? cents(o.returnedCents) : ''}`,
      ),
    ].join('\n');
    const deps = {
      config: stack.config,
      clients: stack.clients,
      now: () => new Date('2025-07-01T00:00:00Z'),
    };
    expect(
      await ingestObject(deps, await upload(stack, incomingKey('shop', 'orders.csv'), csv)),
    ).toMatchObject({
      status: 'succeeded',
      accepted: orders.length,
    });
    const attributes = 'customer_id,acquisition_cost,nps\nP,25.00,9\nQ,25.00,3\n';
    expect(
      await ingestObject(
        deps,
        await upload(stack, incomingAttributesKey('shop', 'customers.csv'), attributes),
      ),
    ).toMatchObject({ status: 'succeeded', accepted: 2 });
    warehouse = await createDuckDbWarehouse({
      s3: stack.clients.s3,
      bucket: stack.config.bucket,
      cacheDirectory,
      duckDb: { threads: 1 },
    });
  });
  afterAll(async () => {
    await warehouse?.close();
    await stack.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  it('gives equal gross CLVs and net CLVs that differ by exactly the independently computed amount', async () => {
    const params = { asOf: AS_OF, currency: 'EUR', timeUnit: 'weeks' } as const;
    const summaries = await warehouse.query(customerSummariesStatement(params));
    const sums = await warehouse.query(customerEconomicsStatement(params));
    const attributeRows = await warehouse.query(customerAttributesStatement({ sources: ['shop'] }));
    const config = parseEconomicsConfig({ ratioShrinkageOrders: K, handlingCostPerOrder: 1.5 });

    const observed = observedEconomicsFromSums(sums, config, MARGIN);
    const attributes = new Map<string, CustomerAttributes>(
      attributeRows.map((a) => [
        a.customerId,
        {
          customerId: a.customerId,
          acquiredAtMicros: null,
          acquisitionChannel: a.acquisitionChannel,
          acquisitionCostCents: a.acquisitionCostCents,
          serviceContacts: a.serviceContacts,
          serviceCostCents: a.serviceCostCents,
          satisfaction:
            a.satisfactionScale && a.satisfactionScore !== null
              ? { scale: a.satisfactionScale, score: a.satisfactionScore }
              : null,
          marketingConsent: a.marketingConsent,
        },
      ]),
    );
    const customers: CustomerEconomicsInput[] = summaries.map((s) => ({
      customerId: s.customerId,
      observed: observed.get(s.customerId) ?? null,
      attributes: attributes.get(s.customerId) ?? null,
      primarySource: 'shop',
    }));
    const run: Pick<ScoringRun, 'model' | 'spendModel' | 'fallbackSpend' | 'config' | 'asOf'> = {
      asOf: AS_OF,
      config: { ...parseRecalcConfig({ timeUnit: 'weeks', clv: { margin: MARGIN } }), currency: 'EUR' },
      model: { name: 'bgnbd', params: BG, logLikelihood: -1, converged: true, customers: summaries.length },
      spendModel: {
        name: 'gammagamma',
        params: GG,
        logLikelihood: -1,
        converged: true,
        customers: summaries.length,
      },
      fallbackSpend: 50,
    };
    const scores = scoreSummaryRows(run, summaries);
    const discounted = discountedExpectedPurchases(
      'bgnbd',
      BG,
      {
        x: summaries.map((s) => s.frequency),
        tx: summaries.map((s) => s.recency),
        T: summaries.map((s) => s.T),
      },
      {
        unit: 'weeks',
        horizonMonths: run.config.clv.horizonMonths,
        annualDiscountRate: run.config.clv.annualDiscountRate,
      },
    );
    const economics = scoreEconomics({
      scores,
      discountedExpectedPurchases: discounted,
      customers,
      groups: netRatioGroupsOf(customers),
      config,
      clvMargin: MARGIN,
    });
    const at = (id: string) => {
      const i = summaries.findIndex((s) => s.customerId === id);
      return { summary: summaries[i]!, score: economics[i]! };
    };
    const p = at('P');
    const q = at('Q');
    expect(p.summary.historicRevenue).toBe(q.summary.historicRevenue);
    expect(p.score.grossClv).toBe(q.score.grossClv);
    expect(p.score.costToServe).toBe(q.score.costToServe);
    expect(p.score.costToServe).toBeGreaterThan(0);

    // Independently: each one's own ratio from the raw figures; the shared group prior cancels out.
    const ratio = (customer: string) => {
      const own = orders.filter((o) => o.customer === customer);
      const revenue = own.reduce((s, o) => s + o.amountCents, 0);
      const net = own.reduce((s, o) => s + o.amountCents - o.costCents - o.returnedCents, 0);
      return { n: own.length, r: net / revenue };
    };
    const rp = ratio('P');
    const rq = ratio('Q');
    expect(rp.r).toBeCloseTo(0.6, 12); // 40 % cost, no returns
    expect(rq.r).toBeCloseTo((30_000 - 18_000 - 3000) / 30_000, 12);
    const expectedDifference = (p.score.grossClv / MARGIN) * ((rp.n * (rp.r - rq.r)) / (rp.n + K));
    expect(p.score.netClv - q.score.netClv).toBeCloseTo(expectedDifference, 9);
    expect(expectedDifference).toBeGreaterThan(1);

    // CLV/CAC: same acquisition cost, so the ratio follows the net CLV.
    expect(p.score.acquisitionCost).toBe(25);
    expect(p.score.clvToCac).toBeCloseTo(p.score.netClv / 25, 12);
    expect(q.score.clvToCac).toBeCloseTo(q.score.netClv / 25, 12);
    // Historic net contribution: the figures so far, to the cent.
    expect(p.score.historicNetContribution).toBe(300 - 120);
    expect(q.score.historicNetContribution).toBe(300 - 180 - 30);
    // Every customer: negative flag ⇔ negative net CLV; net below gross (costs are positive here).
    for (const s of economics) {
      expect(s.negativeNetContribution).toBe(s.netClv < 0);
      expect(s.netClv).toBeLessThan(s.grossClv);
    }
  });

  it('keeps net CLV equal to gross CLV without economics settings or figures', () => {
    const n = 3;
    const scores = scoreSummaryRows(
      {
        asOf: AS_OF,
        config: { ...parseRecalcConfig({ timeUnit: 'weeks' }), currency: 'EUR' },
        model: { name: 'bgnbd', params: BG, logLikelihood: -1, converged: true, customers: n },
        spendModel: { name: 'gammagamma', params: GG, logLikelihood: -1, converged: true, customers: n },
        fallbackSpend: 50,
      },
      [
        { frequency: 0, recency: 0, T: 20, monetaryValue: 0 },
        { frequency: 2, recency: 10, T: 20, monetaryValue: 30 },
        { frequency: 5, recency: 19, T: 20, monetaryValue: 80 },
      ],
    );
    const customers = ['a', 'b', 'c'].map((customerId) => ({
      customerId,
      observed: { ownOrders: 0, ownRevenueCents: 0, ownNetCents: 0, historicNetCents: 1000 },
      attributes: null,
      primarySource: 'shop',
    }));
    const economics = scoreEconomics({
      scores,
      discountedExpectedPurchases: [1, 2, 3],
      customers,
      groups: netRatioGroupsOf(customers),
      config: parseEconomicsConfig({}),
      clvMargin: 1,
    });
    economics.forEach((s, i) => {
      expect(s.netClv).toBe(scores.clv[i]);
      expect(s.costToServe).toBe(0);
      expect(s.clvToCac).toBeNull();
    });
  });
});
