// BG/BB on the donations data against the published values of Fader, Hardie & Shang (2010).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarizeDiscrete } from '#domain/discrete-summary.ts';
import {
  bgbbConditionalExpected,
  bgbbCustomerLogLikelihood,
  bgbbDiscountedResidualTransactions,
  bgbbProbabilityAlive,
  bgbbProbabilityOfTransactions,
  fitBgBb,
} from '#domain/models/bgbb.ts';

const rows = readFileSync(
  fileURLToPath(new URL('../../fixtures/donations/donations.csv', import.meta.url)),
  'utf8',
)
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',').map(Number));
const donations = {
  x: Float64Array.from(rows, (r) => r[0]!),
  tx: Float64Array.from(rows, (r) => r[1]!),
  T: Float64Array.from(rows, (r) => r[2]!),
  weight: Float64Array.from(rows, (r) => r[3]!),
  length: rows.length,
};
const fit = fitBgBb(donations);
const p = fit.params;

describe('BG/BB on the 1995 donor cohort (11,104 donors, 6 opportunities)', () => {
  it('fits alpha 1.204, beta 0.750, gamma 0.657, delta 2.783 (±0.01), identified', () => {
    expect(Math.abs(p.alpha - 1.204)).toBeLessThan(0.01);
    expect(Math.abs(p.beta - 0.75)).toBeLessThan(0.01);
    expect(Math.abs(p.gamma - 0.657)).toBeLessThan(0.01);
    expect(Math.abs(p.delta - 2.783)).toBeLessThan(0.01);
    expect(fit.customers).toBe(11_104);
    expect(fit.identified).toBe(true);
  });

  it('P(alive in 2002) for (0,0), (2,4), (6,6) with n = 6: 0.11, 0.59, 0.93 (±0.01)', () => {
    expect(Math.abs(bgbbProbabilityAlive(p, 0, 0, 6) - 0.11)).toBeLessThan(0.01);
    expect(Math.abs(bgbbProbabilityAlive(p, 2, 4, 6) - 0.59)).toBeLessThan(0.01);
    expect(Math.abs(bgbbProbabilityAlive(p, 6, 6, 6) - 0.93)).toBeLessThan(0.01);
  });

  it('summed conditional expected transactions over the next 5 periods: 12,884.2 (±1)', () => {
    let sum = 0;
    for (let i = 0; i < donations.length; i++) {
      sum += donations.weight[i]! * bgbbConditionalExpected(p, 5, donations.x[i]!, donations.tx[i]!, 6);
    }
    expect(Math.abs(sum - 12_884.2)).toBeLessThan(1);
  });

  it('expected donors with 0 and 6 transactions in the first 6 periods: 3,454.9 and 1,253.1 (±1)', () => {
    expect(Math.abs(11_104 * bgbbProbabilityOfTransactions(p, 6, 0) - 3454.9)).toBeLessThan(1);
    expect(Math.abs(11_104 * bgbbProbabilityOfTransactions(p, 6, 6) - 1253.1)).toBeLessThan(1);
    let total = 0;
    for (let x = 0; x <= 6; x++) total += bgbbProbabilityOfTransactions(p, 6, x);
    expect(total).toBeCloseTo(1, 12);
  });

  it('DERT equals the discounted sum of per-period conditional expectations (1e-9)', () => {
    for (const [x, tx] of [
      [0, 0],
      [2, 4],
      [6, 6],
    ] as const) {
      let sum = 0;
      for (let k = 1; k < 600; k++) {
        const step = bgbbConditionalExpected(p, k, x, tx, 6) - bgbbConditionalExpected(p, k - 1, x, tx, 6);
        sum += step / 1.1 ** k;
      }
      expect(bgbbDiscountedResidualTransactions(p, 0.1, x, tx, 6)).toBeCloseTo(sum, 9);
    }
  });

  it('every likelihood term is finite and ≤ 0 from 1e-300 to 1e300', () => {
    const grid = [1e-300, 1e-8, 1e-3, 1, 1e3, 1e8, 1e300];
    for (const alpha of grid)
      for (const beta of grid)
        for (const gamma of grid)
          for (const delta of grid)
            for (const [x, tx, n] of [
              [0, 0, 6],
              [2, 4, 6],
              [6, 6, 6],
              [1, 1, 1],
            ] as const) {
              const ll = bgbbCustomerLogLikelihood({ alpha, beta, gamma, delta }, x, tx, n);
              expect(Number.isFinite(ll), `${alpha},${beta},${gamma},${delta}`).toBe(true);
              expect(ll).toBeLessThanOrEqual(0);
            }
  });
});

describe('discrete summary of a transaction log', () => {
  const log = [
    { customerId: 'a', date: '1995-03-01', amount: 10 },
    { customerId: 'a', date: '1997-05-01', amount: 5 },
    { customerId: 'a', date: '1997-06-01', amount: 5 },
    { customerId: 'a', date: '1999-01-01', amount: 5 },
    { customerId: 'b', date: '1996-02-01', amount: 10 },
    { customerId: 'c', date: '2002-01-01', amount: 10 },
  ];

  it('yearly periods: the first year is the cohort, later years are opportunities', () => {
    const s = summarizeDiscrete(log, { period: { kind: 'year' }, observationEnd: '2001-12-31' });
    expect(s.customerIds).toEqual(['a', 'b']);
    expect(Array.from(s.frequency)).toEqual([2, 0]);
    expect(Array.from(s.recency)).toEqual([4, 0]);
    expect(Array.from(s.periods)).toEqual([6, 5]);
    expect(s.rowsAfterObservationEnd).toBe(1);
  });

  it('campaign periods: each runs until the next one starts', () => {
    const s = summarizeDiscrete(log, {
      period: { kind: 'campaigns', starts: ['1995-01-01', '1997-01-01', '1998-01-01', '2000-01-01'] },
      observationEnd: '2001-12-31',
    });
    expect(Array.from(s.frequency)).toEqual([2, 0]);
    expect(Array.from(s.recency)).toEqual([2, 0]);
    expect(Array.from(s.periods)).toEqual([3, 3]);
  });
});
