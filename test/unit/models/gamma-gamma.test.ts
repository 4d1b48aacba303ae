import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSummaryFile } from '#adapters/csv-file.ts';
import { ModelFitError } from '#domain/models/fit.ts';
import {
  conditionalExpectedAverageSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  populationMeanSpend,
  prepareSpendData,
} from '#domain/models/gamma-gamma.ts';
import { simulateBetaGeometric, simulateGammaGammaSpend } from '#test-support/simulate.ts';

const cdnow = readSummaryFile(
  fileURLToPath(
    new URL('../../fixtures/cdnow/cdnow_customers_summary_with_transactions.csv', import.meta.url),
  ),
);

describe('Gamma-Gamma on the CDNOW repeat customers', () => {
  const fit = fitGammaGamma(cdnow.x, cdnow.monetaryValue!);

  it('finds p = 6.25, q = 3.74, v = 15.44 and LL = −4055.92', () => {
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.params.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.q - 3.74)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.v - 15.44)).toBeLessThan(0.01);
    expect(Math.abs(fit.logLikelihood - -4055.92)).toBeLessThan(0.02);
  });

  it('fits on the 946 customers with repeat purchases and reports the others as left out', () => {
    expect(fit.customers).toBe(946);
    expect(fit.excluded).toEqual({ noRepeatPurchases: 2357 - 946, nonPositiveSpend: 0, invalid: 0 });
  });

  it('predicts the published conditional expected spend of customers 1–10', () => {
    const expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
    expected.forEach((value, i) => {
      expect(
        Math.abs(conditionalExpectedAverageSpend(fit.params, cdnow.x[i]!, cdnow.monetaryValue![i]!) - value),
      ).toBeLessThan(0.1);
    });
    expect(conditionalExpectedAverageSpend(fit.params, 0, 0)).toBe(populationMeanSpend(fit.params));
  });
});

describe('Gamma-Gamma inputs and properties', () => {
  it('counts every left-out customer by reason and never drops one silently', () => {
    const prepared = prepareSpendData([0, 2, 3, 3, 1, -1, 2], [0, 10, -5, 0, Number.NaN, 4, 10]);
    expect(prepared.included).toBe(2);
    expect(prepared.data.length).toBe(1);
    expect(prepared.data.weight[0]).toBe(2);
    expect(prepared.excluded).toEqual({ noRepeatPurchases: 1, nonPositiveSpend: 2, invalid: 2 });
  });

  it('throws a ModelFitError that explains why when nobody has repeat spend', () => {
    expect(() => fitGammaGamma([0, 0], [0, 0])).toThrow(ModelFitError);
    expect(() => fitGammaGamma([0, 0], [0, 0])).toThrow(/x > 0 and monetary value > 0/);
  });

  it('puts the expected spend between the population mean and the customer mean', () => {
    const params = { p: 6.25, q: 3.74, v: 15.44 };
    const population = populationMeanSpend(params);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0.01, max: 1e5, noNaN: true }),
        (x, zbar) => {
          const spend = conditionalExpectedAverageSpend(params, x, zbar);
          expect(spend).toBeGreaterThanOrEqual(Math.min(population, zbar) * (1 - 1e-12));
          expect(spend).toBeLessThanOrEqual(Math.max(population, zbar) * (1 + 1e-12));
        },
      ),
    );
  });

  it('has a log-likelihood that is finite and equal on compressed and plain rows', () => {
    const plain = prepareSpendData(cdnow.x, cdnow.monetaryValue!);
    let total = 0;
    for (let i = 0; i < cdnow.x.length; i++) {
      if (cdnow.x[i]! > 0) {
        total += gammaGammaLogLikelihood([6.25, 3.74, 15.44], {
          x: Float64Array.of(cdnow.x[i]!),
          zbar: Float64Array.of(cdnow.monetaryValue![i]!),
          weight: Float64Array.of(1),
          length: 1,
        });
      }
    }
    expect(gammaGammaLogLikelihood([6.25, 3.74, 15.44], plain.data)).toBeCloseTo(total, 6);
  });

  it('recovers simulated parameters within 3 standard errors', () => {
    const truth = { p: 6, q: 3.7, v: 15 };
    const sim = simulateBetaGeometric({
      r: 0.5,
      alpha: 6,
      a: 0.8,
      b: 2.5,
      T: 80,
      customers: 20_000,
      seed: 11,
    });
    const zbar = simulateGammaGammaSpend(sim.x, truth, 12);
    const fit = fitGammaGamma(sim.x, zbar);
    for (const name of ['p', 'q', 'v'] as const) {
      expect(Math.abs(fit.params[name] - truth[name])).toBeLessThan(3 * fit.standardErrors[name]);
    }
  });
});
