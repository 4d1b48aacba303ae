/** P(at least one purchase in the next t | history): closed form against Bayes and a simulation. */
import { describe, expect, it } from 'vitest';
import { bgnbdCustomerLogLikelihood, bgnbdProbabilityAlive } from '#domain/models/bgnbd.ts';
import { mbgnbdCustomerLogLikelihood, mbgnbdProbabilityAlive } from '#domain/models/mbgnbd.ts';
import { paretoNbdProbabilityAlive } from '#domain/models/pareto-nbd.ts';
import { probabilityOfPurchaseWithin } from '#domain/purchase-probability.ts';

// CDNOW BG/NBD estimates (weeks).
const BG = { r: 0.242595, alpha: 4.4136, a: 0.792921, b: 2.42591 };
const PARETO = { r: 0.55, alpha: 10.58, s: 0.61, beta: 11.67 };
const CASES: [number, number, number][] = [
  [0, 0, 260],
  [0, 0, 5],
  [1, 10, 60],
  [3, 50, 70],
  [10, 69, 70],
  [25, 30, 300],
];

describe('probabilityOfPurchaseWithin', () => {
  it('BG/NBD and MBG/NBD: the closed form equals the Bayes ratio of likelihoods L(x, t_x, T + t) / L(x, t_x, T)', () => {
    for (const [x, tx, T] of CASES) {
      for (const t of [1, 12.86, 52]) {
        const bayes = -Math.expm1(
          bgnbdCustomerLogLikelihood(BG, x, tx, T + t) - bgnbdCustomerLogLikelihood(BG, x, tx, T),
        );
        const alive = bgnbdProbabilityAlive(BG, x, tx, T);
        expect(probabilityOfPurchaseWithin('bgnbd', BG, t, x, tx, T, alive)).toBeCloseTo(bayes, 12);
        const mbayes = -Math.expm1(
          mbgnbdCustomerLogLikelihood(BG, x, tx, T + t) - mbgnbdCustomerLogLikelihood(BG, x, tx, T),
        );
        const malive = mbgnbdProbabilityAlive(BG, x, tx, T);
        expect(probabilityOfPurchaseWithin('mbgnbd', BG, t, x, tx, T, malive)).toBeCloseTo(mbayes, 12);
      }
    }
  });

  it('BG/NBD agrees with a simulation of the model conditional on the history', () => {
    // Simulate customers from the prior, keep those whose history is x = 0 at T (no repeat purchase
    // in (0, T]), and count who buys in (T, T + t]: a check independent of any formula above.
    let seed = 12345;
    const uniform = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return (seed + 0.5) / 4294967296;
    };
    const gamma = (shape: number): number => {
      if (shape < 1) return gamma(shape + 1) * uniform() ** (1 / shape);
      const d = shape - 1 / 3;
      const c = 1 / Math.sqrt(9 * d);
      for (;;) {
        let z: number;
        let v: number;
        do {
          z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
          v = 1 + c * z;
        } while (v <= 0);
        v = v * v * v;
        if (Math.log(uniform()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
      }
    };
    const T = 20;
    const t = 12;
    let kept = 0;
    let bought = 0;
    for (let i = 0; i < 400_000; i++) {
      const lambda = gamma(BG.r) / BG.alpha;
      // First event after the first purchase at 0; BG/NBD can drop out only after a purchase.
      const first = -Math.log(uniform()) / lambda;
      if (first <= T) continue;
      kept++;
      if (first <= T + t) bought++;
    }
    const simulated = bought / kept;
    const formula = probabilityOfPurchaseWithin('bgnbd', BG, t, 0, 0, T, 1);
    expect(Math.abs(simulated - formula)).toBeLessThan(4 * Math.sqrt((formula * (1 - formula)) / kept));
  });

  it('Pareto/NBD: P(at least one) ≤ P(alive) and grows with t', () => {
    for (const [x, tx, T] of CASES) {
      const alive = paretoNbdProbabilityAlive(PARETO, x, tx, T);
      const short = probabilityOfPurchaseWithin('pareto', PARETO, 4, x, tx, T, alive);
      const long = probabilityOfPurchaseWithin('pareto', PARETO, 52, x, tx, T, alive);
      if (alive > 1e-6) {
        expect(short).toBeGreaterThan(0);
        expect(short).toBeLessThan(long);
      }
      expect(long).toBeLessThanOrEqual(alive + 1e-12);
    }
  });

  it('a one-time buyer from five years ago is unlikely to buy, although BG/NBD P(alive) is 1', () => {
    expect(bgnbdProbabilityAlive(BG, 0, 0, 260)).toBe(1);
    expect(probabilityOfPurchaseWithin('bgnbd', BG, 90 / 7, 0, 0, 260, 1)).toBeLessThan(0.05);
  });
});
