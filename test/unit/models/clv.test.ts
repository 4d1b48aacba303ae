import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHURN_RISK_LABELS,
  churnRiskBand,
  clvTerms,
  customerScoreAt,
  DAYS_PER_MONTH,
  scoreCustomers,
} from '#domain/clv.ts';
import { bgnbdConditionalExpectedPurchases, bgnbdProbabilityAlive } from '#domain/models/bgnbd.ts';
import { conditionalExpectedAverageSpend } from '#domain/models/gamma-gamma.ts';
import { parseEpochDay } from '#domain/rfm-summary.ts';
import { simulateBetaGeometric } from '#test-support/simulate.ts';

const bg = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };
const spend = { p: 6.25, q: 3.74, v: 15.44 };

describe('CLV terms', () => {
  it('ties the month to the data unit (365.25/12 days) and states the monthly discount rate', () => {
    const weeks = clvTerms({ unit: 'weeks' });
    expect(weeks.periodLength).toBeCloseTo(365.25 / 12 / 7, 12);
    expect(weeks.periods).toBe(12);
    expect(weeks.margin).toBe(1);
    expect((1 + weeks.discountRatePerPeriod) ** 12).toBeCloseTo(1.1, 12);
    expect(clvTerms({ unit: 'days' }).periodLength).toBe(DAYS_PER_MONTH);
    expect(weeks.expectedPurchasesHorizon).toBeCloseTo(12 * weeks.periodLength, 12);
  });

  it('rejects impossible settings with the setting named', () => {
    expect(() => clvTerms({ unit: 'days', horizonMonths: 1.5 })).toThrow(/horizon/);
    expect(() => clvTerms({ unit: 'days', margin: -1 })).toThrow(/margin/);
    expect(() => clvTerms({ unit: 'days', annualDiscountRate: -2 })).toThrow(/discount/);
  });
});

describe('scoreCustomers', () => {
  const customers = {
    x: [2, 0, 7, 1],
    tx: [30.43, 0, 35, 2],
    T: [38.86, 38.86, 36, 38],
    monetaryValue: [22.35, 0, 40, 11],
  };
  const scores = scoreCustomers('bgnbd', bg, spend, customers, {
    unit: 'weeks',
    observationEnd: parseEpochDay('1997-09-30'),
  });

  it('sums discounted monthly expected purchases × expected spend × margin', () => {
    const terms = scores.terms;
    for (let i = 0; i < customers.x.length; i++) {
      const [x, tx, T] = [customers.x[i]!, customers.tx[i]!, customers.T[i]!];
      let manual = 0;
      for (let k = 1; k <= 12; k++) {
        const increment =
          bgnbdConditionalExpectedPurchases(bg, k * terms.periodLength, x, tx, T) -
          bgnbdConditionalExpectedPurchases(bg, (k - 1) * terms.periodLength, x, tx, T);
        manual += increment / (1 + terms.discountRatePerPeriod) ** k;
      }
      const expectedSpend = conditionalExpectedAverageSpend(spend, x, customers.monetaryValue[i]!);
      expect(scores.clv[i]).toBeCloseTo(manual * expectedSpend, 9);
      expect(scores.expectedSpend[i]).toBeCloseTo(expectedSpend, 12);
      expect(scores.probabilityAlive[i]).toBeCloseTo(bgnbdProbabilityAlive(bg, x, tx, T), 14);
      expect(scores.expectedPurchases[i]).toBeCloseTo(
        bgnbdConditionalExpectedPurchases(bg, 12 * terms.periodLength, x, tx, T),
        12,
      );
    }
  });

  it('scales with the margin and shrinks with a higher discount rate', () => {
    const half = scoreCustomers('bgnbd', bg, spend, customers, { unit: 'weeks', margin: 0.5 });
    const steep = scoreCustomers('bgnbd', bg, spend, customers, { unit: 'weeks', annualDiscountRate: 0.5 });
    for (let i = 0; i < customers.x.length; i++) {
      expect(half.clv[i]).toBeCloseTo(scores.clv[i]! / 2, 10);
      expect(steep.clv[i]).toBeLessThan(scores.clv[i]!);
    }
  });

  it('bands churn risk from P(alive) and dates the next purchase only for active customers', () => {
    const first = customerScoreAt(scores, 0);
    expect(CHURN_RISK_LABELS).toContain(first.churnRisk);
    // 1 / posterior mean rate = (α + T) / (r + x) weeks after the observation end.
    const waitDays = Math.round(((bg.alpha + 38.86) / (bg.r + 2)) * 7);
    expect(waitDays).toBe(135);
    expect(first.expectedNextPurchaseDate).toBe('1998-02-12');
    // Customer 4 bought twice in week 0–2 and never again in 36 weeks: likely gone.
    const lapsed = customerScoreAt(scores, 3);
    expect(lapsed.churnRisk).toBe('high');
    expect(lapsed.expectedNextPurchaseDate).toBeNull();
    expect(churnRiskBand(0.7)).toBe(0);
    expect(churnRiskBand(0.69)).toBe(1);
    expect(churnRiskBand(0.3)).toBe(1);
    expect(churnRiskBand(0.29)).toBe(2);
    expect(churnRiskBand(0.5, { lowRiskMin: 0.5, mediumRiskMin: 0.2 })).toBe(0);
  });

  it('falls back to observed spend without a spend model, and says what it needs', () => {
    const own = scoreCustomers('bgnbd', bg, null, customers, { unit: 'weeks' });
    expect(own.expectedSpend[0]).toBe(22.35);
    expect(own.expectedSpend[1]).toBeCloseTo((22.35 + 40 + 11) / 3, 12);
    expect(() => scoreCustomers('bgnbd', bg, null, { x: [1], tx: [1], T: [2] }, { unit: 'weeks' })).toThrow(
      /spend/,
    );
  });

  it('scores MBG/NBD and Pareto/NBD through the same entry point', () => {
    const mbg = scoreCustomers('mbgnbd', { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 }, spend, customers, {
      unit: 'weeks',
    });
    const pareto = scoreCustomers(
      'pareto',
      { r: 0.553, alpha: 10.58, s: 0.606, beta: 11.67 },
      spend,
      customers,
      { unit: 'weeks' },
    );
    for (const s of [mbg, pareto]) {
      for (let i = 0; i < s.length; i++) expect(s.clv[i]).toBeGreaterThanOrEqual(0);
    }
    expect(() => scoreCustomers('pareto', bg, spend, customers, { unit: 'weeks' })).toThrow(/parameter 's'/);
  });

  it('scores large batches (interpolated per x and age) as exactly as customer by customer', () => {
    const sim = simulateBetaGeometric({
      ...bg,
      T: (random) => 30 + 40 * random(),
      customers: 6_000,
      seed: 5,
    });
    const monetaryValue = Float64Array.from(sim.x, (x, i) => (x > 0 ? 10 + (i % 40) : 0));
    const models = [
      ['bgnbd', bg],
      ['mbgnbd', { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 }],
      ['pareto', { r: 0.553, alpha: 10.58, s: 0.606, beta: 11.67 }],
    ] as const;
    for (const [model, params] of models) {
      const batch = scoreCustomers(
        model,
        params,
        spend,
        { ...sim, monetaryValue },
        { unit: 'weeks', expectedPurchasesHorizon: 52 },
      );
      // Batches below the interpolation threshold take the exact path.
      for (let start = 0; start < sim.x.length; start += 200) {
        const slice = (column: Float64Array) => column.slice(start, start + 200);
        const exact = scoreCustomers(
          model,
          params,
          spend,
          { x: slice(sim.x), tx: slice(sim.tx), T: slice(sim.T), monetaryValue: slice(monetaryValue) },
          { unit: 'weeks', expectedPurchasesHorizon: 52 },
        );
        for (let i = 0; i < exact.length; i++) {
          expect(Math.abs(batch.clv[start + i]! - exact.clv[i]!)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, exact.clv[i]!),
          );
          expect(
            Math.abs(batch.expectedPurchases[start + i]! - exact.expectedPurchases[i]!),
          ).toBeLessThanOrEqual(1e-9 * Math.max(1e-3, exact.expectedPurchases[i]!));
        }
      }
    }
  });

  it('is non-negative and non-decreasing in the horizon for any customer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 1e4, noNaN: true }),
        fc.double({ min: 0, max: 1e4, noNaN: true }),
        fc.integer({ min: 0, max: 36 }),
        (x, share, T, value, months) => {
          const c = { x: [x], tx: [x === 0 ? 0 : share * T], T: [T], monetaryValue: [x === 0 ? 0 : value] };
          const shorter = scoreCustomers('bgnbd', bg, spend, c, { unit: 'weeks', horizonMonths: months });
          const longer = scoreCustomers('bgnbd', bg, spend, c, { unit: 'weeks', horizonMonths: months + 1 });
          expect(shorter.clv[0]).toBeGreaterThanOrEqual(0);
          expect(longer.clv[0]).toBeGreaterThanOrEqual(shorter.clv[0]!);
          expect(Number.isFinite(longer.clv[0])).toBe(true);
        },
      ),
    );
  });
});
