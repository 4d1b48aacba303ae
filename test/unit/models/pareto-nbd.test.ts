import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logHyp2f1 } from '#domain/hyp2f1.ts';
import { ModelFitError } from '#domain/models/fit.ts';
import {
  createParetoNbdPredictor,
  fitParetoNbd,
  paretoNbdConditionalExpected,
  paretoNbdCustomerLogLikelihood,
  paretoNbdExpected,
  paretoNbdLogLikelihood,
  paretoNbdLogLikelihoodAt,
  paretoNbdProbabilityAlive,
  paretoNbdProbabilityOfPurchases,
} from '#domain/models/pareto-nbd.ts';
import type { ParetoNbdParams } from '#domain/models/types.ts';
import { compressRfm, rfmColumns } from '#domain/rfm-summary.ts';
import { gammaln, logAddExp } from '#domain/special.ts';
import { simulateParetoNbd } from '#test-support/simulate-pareto.ts';

/** CDNOW calibration summary (weeks): columns ID, frequency (x), recency (t_x), T. */
function readCdnowSummary(): { x: number[]; tx: number[]; T: number[] } {
  const path = new URL('../../fixtures/cdnow/cdnow_customers_summary.csv', import.meta.url);
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  expect(header).toBe('ID,frequency,recency,T');
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  for (const line of lines) {
    const [, frequency, recency, age] = line.split(',').map(Number);
    x.push(frequency!);
    tx.push(recency!);
    T.push(age!);
  }
  return { x, tx, T };
}

/** Parameters of the published CDNOW fit (BTYD / lifetimes test suites). */
const CDNOW_PUBLISHED: ParetoNbdParams = { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6562 };

/**
 * The likelihood exactly as Fader & Hardie's note (and lifetimes) write it, with
 * 2F1(r+s+x, s+1 | r+x; r+s+x+1; ·) evaluated through the log-space 2F1: an independent route to
 * the same number, since the model uses the Euler-transformed form.
 */
function publishedFormLogLikelihood(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const rsx = r + s + x;
  const [larger, smaller, second] = alpha < beta ? [beta, alpha, r + x] : [alpha, beta, s + 1];
  const logTerm = (t: number) =>
    logHyp2f1(rsx, second, rsx + 1, (larger - smaller) / (larger + t)) - rsx * Math.log(larger + t);
  const logA0 =
    tx < T ? logTerm(tx) + Math.log1p(-Math.exp(logTerm(T) - logTerm(tx))) : Number.NEGATIVE_INFINITY;
  const a1 = gammaln(r + x) - gammaln(r) + r * Math.log(alpha) + s * Math.log(beta);
  return (
    a1 +
    logAddExp(-(r + x) * Math.log(alpha + T) - s * Math.log(beta + T), Math.log(s) + logA0 - Math.log(rsx))
  );
}

/** The likelihood from its definition, with the integral over the death time done by Simpson's rule. */
function quadratureLogLikelihood(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const integrand = (tau: number) =>
    Math.exp(-(r + x) * Math.log(alpha + tau) - (s + 1) * Math.log(beta + tau));
  const intervals = 20_000;
  const h = (T - tx) / intervals;
  let sum = integrand(tx) + integrand(T);
  for (let i = 1; i < intervals; i++) sum += (i % 2 === 1 ? 4 : 2) * integrand(tx + i * h);
  const integral = (sum * h) / 3;
  const alive = Math.exp(-(r + x) * Math.log(alpha + T) - s * Math.log(beta + T));
  return (
    gammaln(r + x) - gammaln(r) + r * Math.log(alpha) + s * Math.log(beta) + Math.log(alive + s * integral)
  );
}

const logUniform = (min: number, max: number) =>
  fc.double({ min: Math.log(min), max: Math.log(max), noNaN: true }).map(Math.exp);
const paramsArbitrary = (min: number, max: number) =>
  fc.record({
    r: logUniform(min, max),
    alpha: logUniform(min, max),
    s: logUniform(min, max),
    beta: logUniform(min, max),
  });
/** A customer (x, t_x, T): t_x = 0 when x = 0, t_x ≤ T otherwise. */
const customerArbitrary = (maxX: number, minT: number, maxT: number) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: maxX }),
      logUniform(minT, maxT),
      fc.double({ min: 0, max: 1, noNaN: true }),
    )
    .map(([x, T, share]) => ({ x, tx: x === 0 ? 0 : T * share, T }));

describe('Pareto/NBD on CDNOW (published reference values)', () => {
  const cdnow = readCdnowSummary();
  const data = compressRfm(cdnow.x, cdnow.tx, cdnow.T);

  it('fits r = 0.553, alpha = 10.58, s = 0.606, beta = 11.67 with LL = −9594.97', () => {
    const fit = fitParetoNbd(data);
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(2357);
    expect(fit.params.r).toBeCloseTo(0.553, 3);
    expect(Math.abs(fit.params.alpha - 10.58)).toBeLessThan(0.005);
    expect(fit.params.s).toBeCloseTo(0.606, 3);
    expect(Math.abs(fit.params.beta - 11.67)).toBeLessThan(0.005);
    expect(Math.abs(fit.logLikelihood - -9594.97)).toBeLessThanOrEqual(0.02);
    for (const se of Object.values(fit.standardErrors)) expect(se).toBeGreaterThan(0);

    // lifetimes' and BTYD's check: 25.46 expected purchases in the next 52 weeks for this customer.
    expect(Math.abs(paretoNbdConditionalExpected(fit.params, 52, 26, 30.86, 31) - 25.46)).toBeLessThanOrEqual(
      0.01,
    );
  });

  it('gives LL = −9594.97 and P(alive) = 0.9979 at the published parameters', () => {
    expect(Math.abs(paretoNbdLogLikelihood(CDNOW_PUBLISHED, data) - -9594.97)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(paretoNbdProbabilityAlive(CDNOW_PUBLISHED, 26, 30.86, 31) - 0.9979)).toBeLessThanOrEqual(
      1e-4,
    );
  });
});

describe('Pareto/NBD log-likelihood', () => {
  it('matches the published 2F1 form for random parameters (both α ≥ β and α < β) and customers', () => {
    fc.assert(
      fc.property(paramsArbitrary(0.05, 50), customerArbitrary(300, 0.1, 500), (params, { x, tx, T }) => {
        const ours = paretoNbdCustomerLogLikelihood(params, x, tx, T);
        const published = publishedFormLogLikelihood(params, x, tx, T);
        expect(Math.abs(ours - published)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(published)));
      }),
      { numRuns: 300 },
    );
  });

  it('matches the definition integrated numerically', () => {
    const cases: [ParetoNbdParams, number, number, number][] = [
      [CDNOW_PUBLISHED, 2, 30.43, 38.86],
      [CDNOW_PUBLISHED, 0, 0, 38.86],
      [{ r: 2.5, alpha: 40, s: 0.3, beta: 2 }, 7, 12.5, 52],
      [{ r: 0.2, alpha: 1.5, s: 3, beta: 80 }, 15, 3, 30],
    ];
    for (const [params, x, tx, T] of cases) {
      expect(paretoNbdCustomerLogLikelihood(params, x, tx, T)).toBeCloseTo(
        quadratureLogLikelihood(params, x, tx, T),
        9,
      );
    }
  });

  it('is finite for heavy buyers and long histories (x up to 10,000, T up to 1e6)', () => {
    fc.assert(
      fc.property(
        paramsArbitrary(1e-3, 1e3),
        customerArbitrary(10_000, 1e-2, 1e6),
        (params, { x, tx, T }) => {
          expect(Number.isFinite(paretoNbdCustomerLogLikelihood(params, x, tx, T))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    // x = 200 with a T of a million: every power of (α+T) would overflow outside log space.
    expect(paretoNbdCustomerLogLikelihood(CDNOW_PUBLISHED, 200, 5e5, 1e6)).toBeCloseTo(
      publishedFormLogLikelihood(CDNOW_PUBLISHED, 200, 5e5, 1e6),
      6,
    );
  });

  it('analytic gradient matches central differences (series and near-1 branches, α ≥ β and α < β)', () => {
    const customers = [
      { x: 0, tx: 0, T: 38.86 },
      { x: 2, tx: 30.43, T: 38.86 },
      { x: 26, tx: 30.86, T: 31 },
      { x: 7, tx: 5, T: 5 },
      { x: 150, tx: 70, T: 78 },
    ];
    const data = compressRfm(
      customers.map((c) => c.x),
      customers.map((c) => c.tx),
      customers.map((c) => c.T),
      [3, 1, 2, 1, 1],
    );
    fc.assert(
      fc.property(
        // Ratios α/β up to 1e5 put (α−β)/(α+t) above 0.9, where the derivatives take the other route.
        fc.constantFrom(
          ...[
            [0.5534, 10.5802, 0.6061, 11.6562],
            [0.3, 1000, 2, 0.01],
            [2, 0.01, 0.2, 500],
          ],
        ),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (base, jitter) => {
          const params = base.map((v, k) => v * Math.exp(jitter * (k + 1) * 0.1));
          const analytic = new Float64Array(4);
          const value = paretoNbdLogLikelihoodAt(params, data, analytic);
          expect(value).toBeCloseTo(paretoNbdLogLikelihoodAt(params, data), 9);
          for (let k = 0; k < 4; k++) {
            const h = 1e-5 * params[k]!;
            const up = [...params];
            const down = [...params];
            up[k] = params[k]! + h;
            down[k] = params[k]! - h;
            const numeric =
              (paretoNbdLogLikelihoodAt(up, data) - paretoNbdLogLikelihoodAt(down, data)) / (2 * h);
            expect(Math.abs(analytic[k]! - numeric)).toBeLessThanOrEqual(
              1e-5 * Math.max(1, Math.abs(numeric)),
            );
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('weighted log-likelihood of compressed data equals the log-likelihood of the raw rows', () => {
    fc.assert(
      fc.property(
        paramsArbitrary(0.05, 20),
        fc.array(customerArbitrary(20, 1, 60), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (params, distinct, picks) => {
          // Repeat some customers so that compression has rows to merge.
          const customers = [...distinct, ...picks.map((p) => distinct[p % distinct.length]!)];
          const x = customers.map((c) => c.x);
          const tx = customers.map((c) => c.tx);
          const T = customers.map((c) => c.T);
          const compressed = compressRfm(x, tx, T);
          const raw = rfmColumns(x, tx, T);
          const perCustomer = customers.reduce(
            (sum, c) => sum + paretoNbdCustomerLogLikelihood(params, c.x, c.tx, c.T),
            0,
          );
          expect(compressed.length).toBeLessThanOrEqual(distinct.length);
          const total = paretoNbdLogLikelihood(params, raw);
          expect(paretoNbdLogLikelihood(params, compressed)).toBeCloseTo(total, 8);
          expect(perCustomer).toBeCloseTo(total, 8);
        },
      ),
    );
  });
});

describe('Pareto/NBD predictions', () => {
  it('P(alive) is in [0, 1], 1 for a purchase at the end of the window, and falls with silence', () => {
    fc.assert(
      fc.property(
        paramsArbitrary(1e-3, 1e3),
        customerArbitrary(10_000, 1e-2, 1e6),
        (params, { x, tx, T }) => {
          const p = paretoNbdProbabilityAlive(params, x, tx, T);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
          expect(paretoNbdProbabilityAlive(params, x, T, T)).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
    const longer = [40, 60, 100, 400].map((T) => paretoNbdProbabilityAlive(CDNOW_PUBLISHED, 5, 30, T));
    for (let i = 1; i < longer.length; i++) expect(longer[i]!).toBeLessThan(longer[i - 1]!);
  });

  it('conditional expected purchases are finite, non-negative and non-decreasing in t for extreme inputs', () => {
    fc.assert(
      fc.property(
        paramsArbitrary(1e-3, 1e3),
        customerArbitrary(10_000, 1e-2, 1e6),
        fc.array(logUniform(1e-3, 1e6), { minLength: 2, maxLength: 8 }),
        (params, { x, tx, T }, times) => {
          const sorted = Float64Array.from(times).sort();
          const out = new Float64Array(sorted.length);
          createParetoNbdPredictor(params).conditionalExpectedCurve(sorted, x, tx, T, out);
          for (let j = 0; j < out.length; j++) {
            expect(Number.isFinite(out[j]!)).toBe(true);
            expect(out[j]!).toBeGreaterThanOrEqual(0);
            if (j > 0) expect(out[j]!).toBeGreaterThanOrEqual(out[j - 1]! * (1 - 1e-12));
            // The curve and the one-off function agree.
            expect(out[j]!).toBeCloseTo(paretoNbdConditionalExpected(params, sorted[j]!, x, tx, T), 10);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a customer observed for no time expects the unconditional E[X(t)]', () => {
    fc.assert(
      fc.property(paramsArbitrary(0.01, 100), logUniform(0.01, 1000), (params, t) => {
        const unconditional = paretoNbdExpected(params, t);
        expect(unconditional).toBeGreaterThan(0);
        expect(paretoNbdConditionalExpected(params, t, 0, 0, 0)).toBeCloseTo(unconditional, 10);
      }),
    );
  });

  it('E[X(t)] is continuous through s = 1 (where the closed form has a removable 0/0)', () => {
    const at = (s: number) => paretoNbdExpected({ r: 0.7, alpha: 8, s, beta: 12 }, 52);
    const limit = ((0.7 * 12) / 8) * Math.log1p(52 / 12);
    expect(at(1)).toBeCloseTo(limit, 12);
    expect(at(1 + 1e-7)).toBeCloseTo(limit, 6);
    expect(at(1 - 1e-7)).toBeCloseTo(limit, 6);
  });

  it('P(X(t) = n) sums to 1 over n and its mean is E[X(t)]', () => {
    const cases: [ParetoNbdParams, number][] = [
      [CDNOW_PUBLISHED, 39],
      [CDNOW_PUBLISHED, 78],
      [{ r: 2, alpha: 3, s: 0.5, beta: 20 }, 10], // α < β
      [{ r: 1.2, alpha: 25, s: 2.5, beta: 4 }, 52], // α > β
    ];
    for (const [params, t] of cases) {
      let total = 0;
      let mean = 0;
      for (let n = 0; n < 400; n++) {
        const p = paretoNbdProbabilityOfPurchases(params, t, n);
        expect(p).toBeGreaterThanOrEqual(0);
        total += p;
        mean += n * p;
      }
      expect(total).toBeCloseTo(1, 8);
      expect(mean).toBeCloseTo(paretoNbdExpected(params, t), 6);
    }
    expect(paretoNbdProbabilityOfPurchases(CDNOW_PUBLISHED, 0, 0)).toBe(1);
    expect(() => paretoNbdProbabilityOfPurchases(CDNOW_PUBLISHED, 10, 1.5)).toThrow(/non-negative integer/);
  });

  it('rejects non-positive parameters with a message naming them', () => {
    expect(() => paretoNbdProbabilityAlive({ ...CDNOW_PUBLISHED, beta: 0 }, 1, 1, 2)).toThrow(/beta=0/);
  });
});

describe('Pareto/NBD fit', () => {
  it('recovers simulated parameters within 3 standard errors', () => {
    const truth: ParetoNbdParams = { r: 0.8, alpha: 6, s: 0.9, beta: 12 };
    const simulated = simulateParetoNbd(truth, {
      customers: 4000,
      seed: 20_240_501,
      // A 26-week acquisition cohort observed until week 52; times recorded in whole days.
      observationLength: (_index, uniform) => 26 + 26 * uniform(),
      resolution: 1 / 7,
    });
    const fit = fitParetoNbd(compressRfm(simulated.x, simulated.tx, simulated.T));
    for (const name of ['r', 'alpha', 's', 'beta'] as const) {
      const se = fit.standardErrors[name];
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(fit.params[name] - truth[name]), `${name}: ${fit.params[name]} ± ${se}`).toBeLessThan(
        3 * se,
      );
    }
  });

  it('fails with ModelFitError on an empty summary', () => {
    expect(() => fitParetoNbd(compressRfm([], [], []))).toThrow(ModelFitError);
  });
});
