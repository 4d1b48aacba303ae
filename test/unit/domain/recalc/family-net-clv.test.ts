/**
 * Net CLV of the period families (BG/BB donors, sBG members): the discounted expected transactions
 * and months alive that `familyValueFactors` gives scoreEconomics, checked against the models' own
 * predictions term by term; costs and returns moving net CLV by exactly the computed amount; cancelled
 * members worth 0; without economics data net CLV is gross CLV to the bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CustomerAttributes } from '#domain/economics/customer-attributes.ts';
import { DEFAULT_ECONOMICS_CONFIG, parseEconomicsConfig } from '#domain/economics/economics-config.ts';
import { emptyNetRatioGroups, type ObservedEconomics } from '#domain/economics/net-contribution.ts';
import { type CustomerEconomicsInput, scoreEconomics } from '#domain/economics/score-economics.ts';
import { type BgBbParams, bgbbConditionalExpected, bgbbProbabilityAlive } from '#domain/models/bgbb.ts';
import { type SbgParams, sbgProbabilityAlive } from '#domain/models/sbg.ts';
import { familyValueFactors, scoreBgBb, scoreSbg } from '#domain/recalc/family-scoring.ts';

const BGBB: BgBbParams = { alpha: 1.204, beta: 0.75, gamma: 0.657, delta: 2.783 };
const SBG: SbgParams = { gamma: 0.704, delta: 1.182 };
const options = {
  period: 'year' as const,
  horizonMonths: 60,
  annualDiscountRate: 0.1,
  margin: 1,
  churnBands: { lowRiskMin: 0.7, mediumRiskMin: 0.3 },
  unit: 'weeks' as const,
};

const attributes = (id: string, fields: Partial<CustomerAttributes>): CustomerAttributes => ({
  customerId: id,
  acquiredAtMicros: null,
  acquisitionChannel: null,
  acquisitionCostCents: null,
  serviceContacts: null,
  serviceCostCents: null,
  satisfaction: null,
  marketingConsent: null,
  ...fields,
});

const observed = (orders: number, revenueCents: number, netCents: number): ObservedEconomics => ({
  ownOrders: orders,
  ownRevenueCents: revenueCents,
  ownNetCents: netCents,
  historicNetCents: netCents,
});

describe('discounted transactions and months alive of the period families', () => {
  it('BG/BB: D = Σ (E[X(k)] − E[X(k−1)])/(1+d)^k (the CLV’s own sum), A = Σ P(alive at n+k) × 12/(1+d)^k', () => {
    const rows = { x: [0, 3, 6, 2], tx: [0, 6, 6, 3], n: [6, 6, 6, 6], monetaryValue: [0, 50, 20, 80] };
    const factors = familyValueFactors('bgbb', { ...BGBB }, rows, options);
    const scores = scoreBgBb(BGBB, null, 30, rows, options);
    for (let i = 0; i < rows.x.length; i++) {
      const [x, tx, n] = [rows.x[i]!, rows.tx[i]!, rows.n[i]!];
      let d = 0;
      let a = 0;
      for (let k = 1; k <= 5; k++) {
        const step =
          bgbbConditionalExpected(BGBB, k, x, tx, n) - bgbbConditionalExpected(BGBB, k - 1, x, tx, n);
        d += step / 1.1 ** k;
        a += (12 * bgbbProbabilityAlive(BGBB, x, tx, n, k)) / 1.1 ** k;
      }
      expect(factors.discountedTransactions[i]).toBeCloseTo(d, 12);
      expect(factors.discountedAliveMonths[i]).toBeCloseTo(a, 12);
      // The gross CLV multiplies the very same D.
      expect(scores.clv[i]).toBeCloseTo(scores.expectedSpend[i]! * factors.discountedTransactions[i]!, 9);
    }
  });

  it('sBG: a member alive pays in each period alive, so A = 12 × D; a cancelled member has neither', () => {
    const rows = { x: [7, 2, 0], tx: [7, 2, 0], n: [7, 7, 0] };
    const monthly = { ...options, period: 'month' as const, horizonMonths: 24 };
    const factors = familyValueFactors('sbg', { ...SBG }, rows, options);
    let d = 0;
    for (let k = 1; k <= 5; k++) d += sbgProbabilityAlive(SBG, 7, 7, k) / 1.1 ** k;
    expect(factors.discountedTransactions[0]).toBeCloseTo(d, 12);
    expect(factors.discountedAliveMonths[0]).toBeCloseTo(12 * d, 12);
    expect(factors.discountedTransactions[1]).toBe(0);
    expect(factors.discountedAliveMonths[1]).toBe(0);
    const perMonth = familyValueFactors('sbg', { ...SBG }, rows, monthly);
    expect(perMonth.discountedAliveMonths[2]).toBeCloseTo(perMonth.discountedTransactions[2]!, 12);
  });
});

describe('net CLV of the period families', () => {
  const config = parseEconomicsConfig({
    handlingCostPerOrder: 1.25,
    servicePeriodMonths: 12,
    costPerServiceContact: 4,
    ratioShrinkageOrders: 4,
  });

  it('two donors with the same gifts but different costs and returns differ by exactly clv × n(r₁ − r₂)/(n + k)', () => {
    // Same history → same gross CLV, D and A; same group → same prior: only the own ratio differs.
    const rows = { x: [4, 4, 1], tx: [6, 6, 2], n: [6, 6, 6], monetaryValue: [100, 100, 40] };
    const scores = scoreBgBb(BGBB, null, 30, rows, options);
    const factors = familyValueFactors('bgbb', { ...BGBB }, rows, options);
    const customers: CustomerEconomicsInput[] = [
      { customerId: 'A', observed: observed(5, 50_000, 30_000), attributes: null, primarySource: 'gifts' },
      {
        customerId: 'B',
        observed: observed(5, 50_000, 17_500),
        attributes: attributes('B', { serviceContacts: 3 }),
        primarySource: 'gifts',
      },
      { customerId: 'C', observed: observed(2, 8000, 2000), attributes: null, primarySource: 'gifts' },
    ];
    const groups = emptyNetRatioGroups();
    groups['source:gifts'] = { ownOrders: 12, ownRevenueCents: 108_000, ownNetCents: 49_500 };
    const result = scoreEconomics({
      scores,
      discountedExpectedPurchases: factors.discountedTransactions,
      discountedAliveMonths: factors.discountedAliveMonths,
      customers,
      groups,
      config,
      clvMargin: 1,
    });
    const prior = 49_500 / 108_000;
    const rho = (n: number, r: number) => (n * r + 4 * prior) / (n + 4);
    const [a, b] = [result[0]!, result[1]!];
    expect(a.grossClv).toBe(b.grossClv);
    // Each net CLV from the formula: D × (spend × ρ − h) − monthly service × A.
    const d = factors.discountedTransactions[0]!;
    const months = factors.discountedAliveMonths[0]!;
    expect(a.netClv).toBeCloseTo(d * (scores.expectedSpend[0]! * rho(5, 0.6) - 1.25), 9);
    expect(b.netClv).toBeCloseTo(
      d * (scores.expectedSpend[1]! * rho(5, 0.35) - 1.25) - ((3 * 4) / 12) * months,
      9,
    );
    expect(b.costToServe - a.costToServe).toBeCloseTo(months, 9);
    // Without B's service contacts the difference is the ratio alone.
    const noService = scoreEconomics({
      scores,
      discountedExpectedPurchases: factors.discountedTransactions,
      discountedAliveMonths: factors.discountedAliveMonths,
      customers: customers.map((c) => ({ ...c, attributes: null })),
      groups,
      config,
      clvMargin: 1,
    });
    expect(noService[0]!.netClv - noService[1]!.netClv).toBeCloseTo((a.grossClv * 5 * (0.6 - 0.35)) / 9, 9);
    expect(a.expectedNetContributionPerOrder).toBeCloseTo(100 * rho(5, 0.6) - 1.25, 9);
  });

  it('charges the service cost over the periods alive: P(alive) weighted per period, not today’s P(alive) for the horizon', () => {
    const rows = { x: [1], tx: [1], n: [6], monetaryValue: [50] };
    const scores = scoreBgBb(BGBB, null, 30, rows, options);
    const factors = familyValueFactors('bgbb', { ...BGBB }, rows, options);
    const [e] = scoreEconomics({
      scores,
      discountedExpectedPurchases: factors.discountedTransactions,
      discountedAliveMonths: factors.discountedAliveMonths,
      customers: [
        {
          customerId: 'D',
          observed: null,
          attributes: attributes('D', { serviceCostCents: 2400 }),
          primarySource: null,
        },
      ],
      groups: emptyNetRatioGroups(),
      config: DEFAULT_ECONOMICS_CONFIG,
      clvMargin: 1,
    });
    let months = 0;
    for (let k = 1; k <= 5; k++) months += (12 * bgbbProbabilityAlive(BGBB, 1, 1, 6, k)) / 1.1 ** k;
    expect(e!.costToServe).toBeCloseTo((24 / 12) * months, 9);
    expect(e!.netClv).toBeCloseTo(scores.clv[0]! - (24 / 12) * months, 9);
  });

  it('a cancelled member is worth exactly 0, gross and net, whatever the costs', () => {
    const rows = { x: [2, 7], tx: [2, 7], n: [7, 7], monetaryValue: [60, 60] };
    const scores = scoreSbg(SBG, rows, options);
    const factors = familyValueFactors('sbg', { ...SBG }, rows, options);
    const result = scoreEconomics({
      scores,
      discountedExpectedPurchases: factors.discountedTransactions,
      discountedAliveMonths: factors.discountedAliveMonths,
      customers: ['M1', 'M2'].map((id) => ({
        customerId: id,
        observed: observed(3, 18_000, 9000),
        attributes: attributes(id, { serviceCostCents: 6000 }),
        primarySource: 'fees',
      })),
      groups: emptyNetRatioGroups(),
      config,
      clvMargin: 1,
    });
    expect(result[0]).toMatchObject({ grossClv: 0, netClv: 0, costToServe: 0 });
    expect(result[1]!.netClv).toBeLessThan(result[1]!.grossClv);
    expect(result[1]!.costToServe).toBeCloseTo(
      1.25 * factors.discountedTransactions[1]! + 5 * factors.discountedAliveMonths[1]!,
      9,
    );
  });

  it('without economics data net CLV is the gross CLV to the bit, for both families', () => {
    const history = fc
      .tuple(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
      )
      .map(([n, a, b]) => {
        const x = Math.min(a, n);
        return { x, tx: x === 0 ? 0 : Math.max(x, Math.min(b, n)), n };
      });
    fc.assert(
      fc.property(
        fc.array(history, { minLength: 1, maxLength: 8 }),
        fc.double({ min: 1, max: 500, noNaN: true }),
        (hs, spend) => {
          const rows = {
            x: hs.map((h) => h.x),
            tx: hs.map((h) => h.tx),
            n: hs.map((h) => h.n),
            monetaryValue: hs.map(() => spend),
          };
          const sbgRows = { ...rows, x: rows.n, tx: rows.n };
          for (const [model, scores, input] of [
            ['bgbb', scoreBgBb(BGBB, null, 30, rows, options), rows],
            ['sbg', scoreSbg(SBG, sbgRows, options), sbgRows],
          ] as const) {
            const factors = familyValueFactors(
              model,
              model === 'bgbb' ? { ...BGBB } : { ...SBG },
              input,
              options,
            );
            const result = scoreEconomics({
              scores,
              discountedExpectedPurchases: factors.discountedTransactions,
              discountedAliveMonths: factors.discountedAliveMonths,
              customers: hs.map((_, i) => ({
                customerId: `c${i}`,
                observed: null,
                attributes: null,
                primarySource: null,
              })),
              groups: emptyNetRatioGroups(),
              config: DEFAULT_ECONOMICS_CONFIG,
              clvMargin: 1,
            });
            result.forEach((e, i) => {
              expect(e.netClv).toBe(scores.clv[i]);
              expect(e.costToServe).toBe(0);
            });
          }
        },
      ),
    );
  });
});
