import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSummaryFile } from '#adapters/csv-file.ts';
import { hyp2f1 } from '#domain/hyp2f1.ts';
import {
  fitMbgNbd,
  mbgnbdConditionalExpectedPurchases,
  mbgnbdCustomerLogLikelihood,
  mbgnbdExpectedPurchases,
  mbgnbdLogLikelihood,
  mbgnbdProbabilityAlive,
  mbgnbdProbabilityOfPurchases,
} from '#domain/models/mbgnbd.ts';
import type { MbgNbdParams } from '#domain/models/types.ts';
import { compressRfm, rfmColumns } from '#domain/rfm-summary.ts';
import { simulateBetaGeometric } from '#test-support/simulate.ts';

const cdnow = readSummaryFile(
  fileURLToPath(new URL('../../fixtures/cdnow/cdnow_customers_summary.csv', import.meta.url)),
);
const cdnowCompressed = compressRfm(cdnow.x, cdnow.tx, cdnow.T);

const significant = (value: number, digits: number) => Number(value.toPrecision(digits));

describe('MBG/NBD on CDNOW (Batislam et al. 2007)', () => {
  const fit = fitMbgNbd(cdnowCompressed);

  it('finds r = 0.525, alpha = 6.183, a = 0.891, b = 1.614 (3 significant digits)', () => {
    expect(fit.converged).toBe(true);
    expect(significant(fit.params.r, 3)).toBe(0.525);
    expect(significant(fit.params.alpha, 3)).toBe(6.18);
    expect(significant(fit.params.a, 3)).toBe(0.891);
    expect(significant(fit.params.b, 3)).toBe(1.61);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
  });

  it('matches the closed form of E[X(t)] evaluated with the general 2F1', () => {
    const p = fit.params;
    for (const t of [1, 10, 39, 78]) {
      const closed =
        (p.b / (p.a - 1)) *
        (1 - (p.alpha / (p.alpha + t)) ** p.r * hyp2f1(p.r, p.b + 1, p.a + p.b, t / (p.alpha + t)));
      expect(mbgnbdExpectedPurchases(p, t)).toBeCloseTo(closed, 10);
    }
  });

  it('lets a customer without repeat purchases be dead: P(alive | x = 0) = b / (a + b) at T = 0', () => {
    const p = fit.params;
    expect(mbgnbdProbabilityAlive(p, 0, 0, 0)).toBeCloseTo(p.b / (p.a + p.b), 12);
    expect(mbgnbdProbabilityAlive(p, 0, 0, 30)).toBeLessThan(1);
  });

  it('P(X(t) = n) sums to 1 over n and its mean is E[X(t)]', () => {
    const p = fit.params;
    let total = 0;
    let mean = 0;
    for (let n = 0; n < 500; n++) {
      const probability = mbgnbdProbabilityOfPurchases(p, 39, n);
      total += probability;
      mean += n * probability;
    }
    expect(total).toBeCloseTo(1, 8);
    expect(mean).toBeCloseTo(mbgnbdExpectedPurchases(p, 39), 5);
  });
});

describe('MBG/NBD properties', () => {
  const params: MbgNbdParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
  const customer = fc
    .tuple(
      fc.integer({ min: 0, max: 10_000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0.01, max: 1e6, noNaN: true }),
    )
    .map(([x, share, T]) => ({ x, tx: x === 0 ? 0 : share * T, T }));

  it('keeps P(alive) in [0, 1], the log-likelihood finite and predictions monotone in t', () => {
    fc.assert(
      fc.property(
        customer,
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (c, t1, t2) => {
          const alive = mbgnbdProbabilityAlive(params, c.x, c.tx, c.T);
          expect(alive >= 0 && alive <= 1).toBe(true);
          expect(Number.isFinite(mbgnbdCustomerLogLikelihood(params, c.x, c.tx, c.T))).toBe(true);
          const [short, long] = t1 <= t2 ? [t1, t2] : [t2, t1];
          const e1 = mbgnbdConditionalExpectedPurchases(params, short, c.x, c.tx, c.T);
          const e2 = mbgnbdConditionalExpectedPurchases(params, long, c.x, c.tx, c.T);
          expect(Number.isFinite(e2)).toBe(true);
          expect(e1).toBeGreaterThanOrEqual(0);
          expect(e2).toBeGreaterThanOrEqual(e1 * (1 - 1e-9) - 1e-12);
        },
      ),
    );
  });

  it('gives the same log-likelihood on compressed and uncompressed rows', () => {
    expect(mbgnbdLogLikelihood(params, cdnowCompressed)).toBeCloseTo(
      mbgnbdLogLikelihood(params, rfmColumns(cdnow.x, cdnow.tx, cdnow.T)),
      6,
    );
  });

  it('recovers simulated parameters within 3 standard errors', () => {
    const truth = { r: 0.5, alpha: 6, a: 0.9, b: 1.6 };
    const sim = simulateBetaGeometric({
      ...truth,
      T: 40,
      customers: 20_000,
      seed: 2,
      dropoutAtFirstPurchase: true,
    });
    const fit = fitMbgNbd(compressRfm(sim.x, sim.tx, sim.T));
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(fit.params[name] - truth[name])).toBeLessThan(3 * fit.standardErrors[name]);
    }
  });
});
