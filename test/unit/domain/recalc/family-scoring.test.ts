/** Scoring of the period families against the models' own closed forms. */
import { describe, expect, it } from 'vitest';
import {
  type BgBbParams,
  bgbbConditionalExpected,
  bgbbDiscountedResidualTransactions,
  bgbbProbabilityAlive,
} from '#domain/models/bgbb.ts';
import { type SbgParams, sbgDiscountedResidualLifetime, sbgProbabilityAlive } from '#domain/models/sbg.ts';
import { familyHorizon, scoreBgBb, scoreSbg } from '#domain/recalc/family-scoring.ts';

// Fader, Hardie & Shang (2010) donor estimates; Fader & Hardie (2007) regular cohort.
const BGBB: BgBbParams = { alpha: 1.204, beta: 0.75, gamma: 0.657, delta: 2.783 };
const SBG: SbgParams = { gamma: 0.704, delta: 1.182 };
const options = {
  period: 'year' as const,
  horizonMonths: 12,
  annualDiscountRate: 0.1,
  margin: 1,
  churnBands: { lowRiskMin: 0.7, mediumRiskMin: 0.3 },
  unit: 'weeks' as const,
};

describe('period-family scoring', () => {
  it('turns the CLV horizon into periods and a per-period discount rate', () => {
    expect(familyHorizon(options)).toEqual({ periods: 1, discountRatePerPeriod: expect.closeTo(0.1, 12) });
    const monthly = familyHorizon({ ...options, period: 'month', horizonMonths: 24 });
    expect(monthly.periods).toBe(24);
    expect((1 + monthly.discountRatePerPeriod) ** 12).toBeCloseTo(1.1, 12);
  });

  it('BG/BB: P(alive at the next opportunity), expected transactions of the horizon, CLV = spend × discounted transactions', () => {
    const rows = { x: [0, 3, 6], tx: [0, 6, 6], n: [6, 6, 6], monetaryValue: [0, 50, 20] };
    const scores = scoreBgBb(BGBB, null, 30, rows, { ...options, horizonMonths: 36 });
    for (let i = 0; i < 3; i++) {
      const [x, tx, n] = [rows.x[i]!, rows.tx[i]!, rows.n[i]!];
      expect(scores.probabilityAlive[i]).toBeCloseTo(bgbbProbabilityAlive(BGBB, x, tx, n), 12);
      expect(scores.expectedPurchases[i]).toBeCloseTo(bgbbConditionalExpected(BGBB, 3, x, tx, n), 12);
    }
    // One-time donor without own spend gets the run-wide fallback.
    expect(scores.expectedSpend[0]).toBe(30);
    expect(scores.expectedSpend[1]).toBe(50);
    // Over a very long horizon the discounted sum reaches the closed-form DERT (paper eq. 14).
    const long = scoreBgBb(BGBB, null, 30, rows, { ...options, horizonMonths: 12 * 400 });
    expect(long.clv[1]).toBeCloseTo(50 * bgbbDiscountedResidualTransactions(BGBB, 0.1, 3, 6, 6), 6);
  });

  it('sBG: P(alive) is "still a member"; CLV = fee × discounted expected renewals; cancelled members are worth 0', () => {
    const rows = { x: [7, 2, 0], tx: [7, 2, 0], n: [7, 7, 0], monetaryValue: [60, 60, 40] };
    const scores = scoreSbg(SBG, rows, options);
    expect([...scores.probabilityAlive]).toEqual([1, 0, 1]);
    expect(scores.clv[0]).toBeCloseTo((60 * sbgProbabilityAlive(SBG, 7, 7, 1)) / 1.1, 10);
    expect(scores.clv[1]).toBe(0);
    expect(scores.churnRisk[1]).toBe(2);
    const long = scoreSbg(SBG, rows, { ...options, horizonMonths: 12 * 2000 });
    expect(long.clv[0]).toBeCloseTo(60 * sbgDiscountedResidualLifetime(SBG, 0.1, 7), 4);
    expect(long.clv[2]).toBeCloseTo(40 * sbgDiscountedResidualLifetime(SBG, 0.1, 0), 4);
  });
});
