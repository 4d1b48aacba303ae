// sBG on the Fader & Hardie (2007) cohorts, against an independent scipy fit and the published values.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readDiscreteSummary } from '#adapters/discrete-summary-file.ts';
import { ModelFitError } from '#domain/models/fit.ts';
import {
  fitSbg,
  sbgCustomerLogLikelihood,
  sbgDiscountedResidualLifetime,
  sbgRetention,
  sbgSurvival,
  sbgSurvivalCurve,
} from '#domain/models/sbg.ts';
import { rfmColumns } from '#domain/rfm-summary.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/sbg/${name}`, import.meta.url));
const scipy = JSON.parse(readFileSync(fixture('scipy-fits.json'), 'utf8')) as Record<
  string,
  { gamma: number; delta: number; logLikelihood: number }
>;
const published = { regular: { gamma: 0.704, delta: 1.182 }, highend: { gamma: 0.668, delta: 3.806 } };
const survivors = {
  regular: [1000, 631, 468, 382, 326, 289, 262, 241],
  highend: [1000, 869, 743, 653, 593, 551, 517, 491],
};

describe('sBG reference cohorts', () => {
  for (const cohort of ['regular', 'highend'] as const) {
    const fit = fitSbg(readDiscreteSummary('sbg', fixture(`${cohort}.csv`)));

    it(`${cohort}: matches the scipy fit to 1e-5 relative and the published values to ±0.001`, () => {
      expect(Math.abs(fit.params.gamma / scipy[cohort]!.gamma - 1)).toBeLessThan(1e-5);
      expect(Math.abs(fit.params.delta / scipy[cohort]!.delta - 1)).toBeLessThan(1e-5);
      expect(fit.logLikelihood).toBeCloseTo(scipy[cohort]!.logLikelihood, 6);
      expect(Math.abs(fit.params.gamma - published[cohort].gamma)).toBeLessThan(0.001);
      expect(Math.abs(fit.params.delta - published[cohort].delta)).toBeLessThan(0.001);
      expect(fit.identified).toBe(true);
    });

    it(`${cohort}: the fitted survival curve tracks the observed survivors (±20 of 1000)`, () => {
      const curve = sbgSurvivalCurve(fit.params, 7, 1000);
      for (const [t, value] of curve.entries()) {
        expect(Math.abs(value - survivors[cohort][t]!)).toBeLessThan(20);
      }
    });
  }

  it('retention rises with tenure and is S(t)/S(t−1)', () => {
    const p = { gamma: 0.704, delta: 1.182 };
    for (let t = 1; t <= 10; t++) {
      expect(sbgRetention(p, t)).toBeCloseTo(sbgSurvival(p, t) / sbgSurvival(p, t - 1), 12);
      if (t > 1) expect(sbgRetention(p, t)).toBeGreaterThan(sbgRetention(p, t - 1));
    }
  });

  it('DERL equals the discounted sum of survival ratios (1e-9)', () => {
    const p = { gamma: 0.668, delta: 3.806 };
    for (const n of [0, 3, 7]) {
      let sum = 0;
      for (let k = 1; k < 2000; k++) sum += sbgSurvival(p, n + k) / sbgSurvival(p, n) / 1.1 ** k;
      expect(sbgDiscountedResidualLifetime(p, 0.1, n)).toBeCloseTo(sum, 9);
    }
  });

  it('every likelihood term is finite and ≤ 0 from 1e-300 to 1e300', () => {
    const grid = [1e-300, 1e-8, 1e-3, 1, 1e3, 1e8, 1e300];
    for (const gamma of grid)
      for (const delta of grid)
        for (const [recency, T] of [
          [0, 1],
          [3, 7],
          [7, 7],
          [0, 1000],
        ] as const) {
          const ll = sbgCustomerLogLikelihood({ gamma, delta }, recency, T);
          expect(Number.isFinite(ll)).toBe(true);
          expect(ll).toBeLessThanOrEqual(0);
        }
  });

  it('no cancellations is insufficient data (typed error)', () => {
    const data = rfmColumns([0, 0], [3, 5], [3, 5]);
    expect(() => fitSbg(data)).toThrow(expect.objectContaining({ code: 'insufficient-data' }));
    expect(() => fitSbg(data)).toThrow(ModelFitError);
  });
});
