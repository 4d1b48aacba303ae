import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSummaryFile } from '#adapters/csv-file.ts';
import { hyp2f1 } from '#domain/hyp2f1.ts';
import {
  betaGeometricLogLikelihood,
  bgnbdConditionalExpectedPurchases,
  bgnbdCustomerLogLikelihood,
  bgnbdExpectedPurchases,
  bgnbdLogLikelihood,
  bgnbdProbabilityAlive,
  bgnbdProbabilityOfPurchases,
  CONCENTRATED_DROPOUT_A,
  createBetaGeometricPredictor,
  createBgNbdPredictor,
  fitBgNbd,
} from '#domain/models/bgnbd.ts';
import { ModelFitError } from '#domain/models/fit.ts';
import { fitPurchaseModel } from '#domain/models/purchase-models.ts';
import type { BgNbdParams } from '#domain/models/types.ts';
import { compressRfm, rfmColumns } from '#domain/rfm-summary.ts';
import { simulateBetaGeometric } from '#test-support/simulate.ts';

const summaryPath = fileURLToPath(
  new URL('../../fixtures/cdnow/cdnow_customers_summary.csv', import.meta.url),
);
const cdnow = readSummaryFile(summaryPath);
const cdnowCompressed = compressRfm(cdnow.x, cdnow.tx, cdnow.T);
const published: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describe('BG/NBD on CDNOW (Fader, Hardie & Lee 2005)', () => {
  const fit = fitBgNbd(cdnowCompressed);

  it('finds the published maximum-likelihood estimates and log-likelihood', () => {
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(2357);
    expect(fit.rows).toBeLessThan(2357);
    expect(fit.params.r).toBeCloseTo(0.2426, 4);
    expect(fit.params.alpha).toBeCloseTo(4.4136, 3);
    expect(fit.params.a).toBeCloseTo(0.7929, 4);
    expect(fit.params.b).toBeCloseTo(2.4259, 3);
    expect(Math.abs(fit.logLikelihood - -9582.43)).toBeLessThan(0.01);
    expect(fit.gradientNorm).toBeLessThan(1e-6);
    for (const se of Object.values(fit.standardErrors)) expect(se).toBeGreaterThan(0);
  });

  it('predicts conditional expected purchases for x=2, t_x=30.43, T=38.86 over 39 weeks', () => {
    expect(Math.abs(bgnbdConditionalExpectedPurchases(fit.params, 39, 2, 30.43, 38.86) - 1.226)).toBeLessThan(
      0.001,
    );
  });

  it('predicts unconditional E[X(t)] as published', () => {
    const times = [0.1429, 1, 3, 31.8571, 32, 78];
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) => {
      expect(Math.abs(bgnbdExpectedPurchases(fit.params, t) - expected[i]!)).toBeLessThan(0.001);
    });
  });

  it('gives P(X(t) = n) as the BTYD R package: P(X(2) = 10) and P(X(39) = 0)', () => {
    // The published 1.07869e-07 is lifetimes' probability_of_n_purchases_up_to_time(t=2, n=10).
    expect(bgnbdProbabilityOfPurchases(published, 2, 10)).toBeCloseTo(1.07869e-7, 11);
    expect(bgnbdProbabilityOfPurchases(published, 39, 0)).toBeCloseTo(0.5737864, 7);
  });

  it('P(X(t) = n) sums to 1 over n', () => {
    let total = 0;
    for (let n = 0; n < 400; n++) total += bgnbdProbabilityOfPurchases(published, 39, n);
    expect(total).toBeCloseTo(1, 9);
  });

  it('P(alive) is exactly 1 for x = 0 and exactly 0 for a heavy buyer long gone', () => {
    expect(bgnbdProbabilityAlive(fit.params, 0, 1, 1)).toBe(1);
    const gone = bgnbdProbabilityAlive(fit.params, 1000, 10, 100);
    expect(gone).toBe(0);
    expect(Number.isNaN(gone)).toBe(false);
  });
});

describe('BG/NBD log-likelihood', () => {
  const params: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };

  it('matches reference values for one customer, including x = 200', () => {
    expect(bgnbdCustomerLogLikelihood(params, 0, 0, 40)).toBeCloseTo(-0.59947382, 7);
    const heavy = bgnbdCustomerLogLikelihood(params, 200, 38, 40);
    expect(Math.abs(heavy / 100.7957 - 1)).toBeLessThan(1e-6);
  });

  it('equals the sum of per-customer log-likelihoods', () => {
    let sum = 0;
    for (let i = 0; i < cdnow.x.length; i++)
      sum += bgnbdCustomerLogLikelihood(published, cdnow.x[i]!, cdnow.tx[i]!, cdnow.T[i]!);
    expect(bgnbdLogLikelihood(published, cdnowCompressed)).toBeCloseTo(sum, 6);
  });

  it('has an analytic gradient that matches central differences', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 3, noNaN: true }),
        fc.double({ min: 0.5, max: 30, noNaN: true }),
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        fc.double({ min: 0.2, max: 8, noNaN: true }),
        (r, alpha, a, b) => {
          const p = [r, alpha, a, b];
          const gradient = new Float64Array(4);
          betaGeometricLogLikelihood(0, p, cdnowCompressed, gradient);
          p.forEach((v, i) => {
            const h = 1e-6 * v;
            const up = [...p];
            const down = [...p];
            up[i] = v + h;
            down[i] = v - h;
            const numeric =
              (betaGeometricLogLikelihood(0, up, cdnowCompressed) -
                betaGeometricLogLikelihood(0, down, cdnowCompressed)) /
              (2 * h);
            expect(Math.abs(gradient[i]! - numeric)).toBeLessThan(1e-4 * Math.max(1, Math.abs(numeric)));
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('is the same on compressed and uncompressed data', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 5 }),
            fc.integer({ min: 0, max: 4 }),
            fc.integer({ min: 4, max: 6 }),
          ),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        (rows) => {
          const x = rows.map(([xi]) => xi);
          const tx = rows.map(([xi, t]) => (xi === 0 ? 0 : t));
          const T = rows.map(([, , Ti]) => Ti);
          const plain = bgnbdLogLikelihood(published, rfmColumns(x, tx, T));
          const compressed = compressRfm(x, tx, T);
          expect(compressed.length).toBeLessThanOrEqual(rows.length);
          expect(bgnbdLogLikelihood(published, compressed)).toBeCloseTo(plain, 8);
        },
      ),
    );
  });
});

/** Open-ended customer histories: x up to 10,000 and T up to 10^6, with 0 ≤ t_x ≤ T. */
const extremeCustomer = fc
  .tuple(
    fc.integer({ min: 0, max: 10_000 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: 0.01, max: 1e6, noNaN: true }),
  )
  .map(([x, share, T]) => ({ x, tx: x === 0 ? 0 : share * T, T }));
const plausibleParams = fc.record({
  r: fc.double({ min: 0.05, max: 5, noNaN: true }),
  alpha: fc.double({ min: 0.1, max: 100, noNaN: true }),
  a: fc.double({ min: 0.1, max: 5, noNaN: true }),
  b: fc.double({ min: 0.1, max: 10, noNaN: true }),
});

describe('BG/NBD predictions for extreme inputs', () => {
  it('P(alive) lies in [0, 1] and the log-likelihood is finite', () => {
    fc.assert(
      fc.property(plausibleParams, extremeCustomer, (params, c) => {
        const alive = bgnbdProbabilityAlive(params, c.x, c.tx, c.T);
        expect(alive).toBeGreaterThanOrEqual(0);
        expect(alive).toBeLessThanOrEqual(1);
        expect(Number.isFinite(bgnbdCustomerLogLikelihood(params, c.x, c.tx, c.T))).toBe(true);
      }),
    );
  });

  it('conditional expected purchases are finite, non-negative and non-decreasing in t', () => {
    fc.assert(
      fc.property(
        plausibleParams.filter((p) => Math.abs(p.a - 1) > 1e-3),
        extremeCustomer,
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        (params, c, t1, t2) => {
          const [short, long] = t1 <= t2 ? [t1, t2] : [t2, t1];
          const e1 = bgnbdConditionalExpectedPurchases(params, short, c.x, c.tx, c.T);
          const e2 = bgnbdConditionalExpectedPurchases(params, long, c.x, c.tx, c.T);
          expect(Number.isFinite(e1) && Number.isFinite(e2)).toBe(true);
          expect(e1).toBeGreaterThanOrEqual(0);
          expect(e2).toBeGreaterThanOrEqual(e1 * (1 - 1e-9) - 1e-12);
        },
      ),
    );
  });

  it('agrees with the direct hypergeometric formula where that converges', () => {
    fc.assert(
      fc.property(
        plausibleParams.filter((p) => Math.abs(p.a - 1) > 0.05),
        fc.integer({ min: 0, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        (p, x, share, T, t) => {
          const tx = x === 0 ? 0 : share * T;
          // FHL 2005 eq. (10), evaluated with the general 2F1.
          const z = t / (p.alpha + T + t);
          const hyp = hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z);
          const numerator =
            ((p.a + p.b + x - 1) / (p.a - 1)) * (1 - ((p.alpha + T) / (p.alpha + T + t)) ** (p.r + x) * hyp);
          const denominator =
            1 + (x > 0 ? (p.a / (p.b + x - 1)) * ((p.alpha + T) / (p.alpha + tx)) ** (p.r + x) : 0);
          const direct = numerator / denominator;
          fc.pre(Number.isFinite(direct));
          const ours = bgnbdConditionalExpectedPurchases(p, t, x, tx, T);
          expect(Math.abs(ours - direct)).toBeLessThan(1e-7 * Math.max(1, Math.abs(direct)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a predictor curve equals point evaluations', () => {
    const predictor = createBgNbdPredictor(published);
    const times = Float64Array.of(0, 4.3, 13, 26, 52, 104);
    const out = new Float64Array(times.length);
    predictor.conditionalExpectedCurve(times, 3, 20, 38, out);
    times.forEach((t, i) => {
      expect(out[i]).toBeCloseTo(bgnbdConditionalExpectedPurchases(published, t, 3, 20, 38), 12);
    });
    expect(out[0]).toBe(0);
  });
});

describe('BG/NBD fitting', () => {
  it('recovers simulated parameters within 3 standard errors', () => {
    const truth = { r: 0.5, alpha: 6, a: 0.8, b: 2.5 };
    const sim = simulateBetaGeometric({
      ...truth,
      T: (random) => 30 + 40 * random(),
      customers: 20_000,
      seed: 7,
    });
    const fit = fitBgNbd(rfmColumns(sim.x, sim.tx, sim.T));
    expect(fit.converged).toBe(true);
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(fit.params[name] - truth[name])).toBeLessThan(3 * fit.standardErrors[name]);
    }
  });

  it('finishes a subsample warm start at the optimum of a cold fit (relative 1e-6)', () => {
    const sim = simulateBetaGeometric({
      r: 0.24,
      alpha: 4.4,
      a: 0.79,
      b: 2.43,
      T: (random) => 30 + 40 * random(),
      customers: 30_000,
      seed: 3,
    });
    const data = rfmColumns(sim.x, sim.tx, sim.T);
    const cold = fitPurchaseModel('bgnbd', data, { warmStartRows: false, skipStandardErrors: true });
    const warm = fitPurchaseModel('bgnbd', data, { warmStartRows: 5_000, skipStandardErrors: true });
    expect(Math.abs(warm.logLikelihood / cold.logLikelihood - 1)).toBeLessThan(1e-6);
    expect(warm.params['r']).toBeCloseTo(cold.params['r']!, 4);
    // The full-data part needs only a few iterations from the subsample's optimum and curvature.
    expect(warm.iterations).toBeLessThan(cold.iterations);
  });

  it('shrinks parameters with a penalizer', () => {
    const plain = fitBgNbd(cdnowCompressed, { skipStandardErrors: true });
    const penalized = fitBgNbd(cdnowCompressed, { penalizer: 0.1, skipStandardErrors: true });
    const size = (p: BgNbdParams) => p.r ** 2 + p.alpha ** 2 + p.a ** 2 + p.b ** 2;
    expect(size(penalized.params)).toBeLessThan(size(plain.params));
    expect(penalized.penalizer).toBe(0.1);
    expect(penalized.logLikelihood).toBeLessThan(plain.logLikelihood);
  });

  it('says what to try when the fit does not converge', () => {
    let error: unknown;
    try {
      fitBgNbd(cdnowCompressed, { maxIterations: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFitError);
    const message = (error as Error).message;
    expect(message).toContain('did not converge');
    expect(message).toContain('penalizer');
    expect(message).toContain('more data');
    expect(message).toContain('starting values');
    expect(message).toContain('unit');
  });

  it('rejects an empty data set with a clear message', () => {
    expect(() => fitBgNbd(rfmColumns([], [], []))).toThrow(/no customers/);
  });
});

describe('BG/NBD and MBG/NBD conditional expectation for any a, b', () => {
  interface ReferenceRow {
    r: number;
    alpha: number;
    a: number;
    b: number;
    shift: 0 | 1;
    x: number;
    tx: number;
    T: number;
    t: number;
    expected: number;
  }
  // Numerical integration over the dropout probability (generator beside the fixture): independent
  // of both the Gauss series and the expansion the predictor uses for large a.
  const reference = JSON.parse(
    readFileSync(
      fileURLToPath(new URL('../../fixtures/models/bgnbd-conditional-expectation.json', import.meta.url)),
      'utf8',
    ),
  ) as ReferenceRow[];

  it(`matches numerical integration to 1e-7 relative on both sides of a = ${CONCENTRATED_DROPOUT_A}`, () => {
    expect(reference.length).toBe(768);
    const out = new Float64Array(1);
    let worst = 0;
    for (const row of reference) {
      createBetaGeometricPredictor(row.shift, row).conditionalExpectedCurve(
        Float64Array.of(row.t),
        row.x,
        row.tx,
        row.T,
        out,
      );
      // Values below 1e-12 purchases (e.g. x = 200 long gone) only need to be tiny.
      const error = Math.abs(out[0]! - row.expected) / Math.max(row.expected, 1e-12);
      worst = Math.max(worst, error);
      if (!(error <= 1e-7)) expect.fail(`${JSON.stringify(row)}: got ${out[0]}, relative error ${error}`);
    }
    expect(worst).toBeLessThan(1e-7);
  });

  it('scores data with homogeneous dropout, where the fit runs to a, b → ∞', () => {
    // Every customer drops out with the same probability 0.3 after each purchase: the Beta mixing
    // distribution is a point mass, so maximum likelihood pushes a and b towards infinity.
    const sim = simulateBetaGeometric({
      r: 0.5,
      alpha: 6,
      a: 3e6,
      b: 7e6,
      T: (random) => 30 + 40 * random(),
      customers: 20_000,
      seed: 11,
    });
    const fit = fitBgNbd(rfmColumns(sim.x, sim.tx, sim.T), { skipStandardErrors: true });
    const { r, alpha, a, b } = fit.params;
    expect(a).toBeGreaterThan(CONCENTRATED_DROPOUT_A);
    const p = a / (a + b);
    expect(p).toBeGreaterThan(0.25);
    expect(p).toBeLessThan(0.35);
    const predictor = createBgNbdPredictor(fit.params);
    const times = Float64Array.of(4, 13, 52, 520);
    const out = new Float64Array(times.length);
    for (const [x, tx, T] of [
      [0, 0, 40],
      [1, 10, 40],
      [4, 35, 40],
      [12, 60, 65],
    ] as const) {
      predictor.conditionalExpectedCurve(times, x, tx, T, out);
      const alive = predictor.probabilityAlive(x, tx, T);
      for (let j = 0; j < times.length; j++) {
        // Point-mass limit: alive customers buy at rate λ ~ Gamma(r+x, α+T) until a purchase ends
        // their life (probability p), so E = P(alive)/p · (1 − (1 + p·t/(α+T))^−(r+x)).
        const limit = (alive / p) * -Math.expm1(-(r + x) * Math.log1p((p * times[j]!) / (alpha + T)));
        expect(Number.isFinite(out[j])).toBe(true);
        expect(Math.abs(out[j]! / limit - 1)).toBeLessThan(10 / a);
      }
    }
  });
});
