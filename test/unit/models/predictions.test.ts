/**
 * Prediction math of `cvm predict`: the conditional distribution of the number of purchases over a
 * horizon, and the batch predictions against the models' own per-customer functions on CDNOW.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSummaryFile } from '#adapters/csv-file.ts';
import { clvTerms } from '#domain/clv.ts';
import {
  bgnbdConditionalExpectedPurchases,
  bgnbdProbabilityAlive,
  bgnbdProbabilityOfPurchases,
} from '#domain/models/bgnbd.ts';
import { conditionalExpectedAverageSpend } from '#domain/models/gamma-gamma.ts';
import { mbgnbdConditionalExpectedPurchases, mbgnbdProbabilityAlive } from '#domain/models/mbgnbd.ts';
import {
  paretoNbdConditionalExpected,
  paretoNbdProbabilityAlive,
  paretoNbdProbabilityOfPurchases,
} from '#domain/models/pareto-nbd.ts';
import type { PurchaseModelName } from '#domain/models/types.ts';
import { conditionalPurchaseProbabilities, predictPurchases } from '#domain/predictions.ts';

const BG = { r: 0.242594, alpha: 4.413643, a: 0.792919, b: 2.425943 };
const PARETO = { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6562 };
const SPEND = { p: 6.25, q: 3.74, v: 15.44 };

const cdnow = readSummaryFile(
  fileURLToPath(
    new URL('../../fixtures/cdnow/cdnow_customers_summary_with_transactions.csv', import.meta.url),
  ),
);

const customers = { x: cdnow.x, tx: cdnow.tx, T: cdnow.T, monetaryValue: cdnow.monetaryValue! };

const models: { model: PurchaseModelName; params: Record<string, number> }[] = [
  { model: 'bgnbd', params: BG },
  { model: 'mbgnbd', params: BG },
  { model: 'pareto', params: PARETO },
];

function alive(model: PurchaseModelName, params: Record<string, number>, x: number, tx: number, T: number) {
  if (model === 'bgnbd') return bgnbdProbabilityAlive(params as typeof BG, x, tx, T);
  if (model === 'mbgnbd') return mbgnbdProbabilityAlive(params as typeof BG, x, tx, T);
  return paretoNbdProbabilityAlive(params as typeof PARETO, x, tx, T);
}

function expected(
  model: PurchaseModelName,
  params: Record<string, number>,
  t: number,
  x: number,
  tx: number,
  T: number,
) {
  if (model === 'bgnbd') return bgnbdConditionalExpectedPurchases(params as typeof BG, t, x, tx, T);
  if (model === 'mbgnbd') return mbgnbdConditionalExpectedPurchases(params as typeof BG, t, x, tx, T);
  return paretoNbdConditionalExpected(params as typeof PARETO, t, x, tx, T);
}

describe('conditional P(X = n) over a horizon', () => {
  const histories = [
    [0, 0, 38.86],
    [2, 30.43, 38.86],
    [7, 20, 39],
    [26, 30.86, 31],
  ] as const;

  for (const { model, params } of models) {
    it(`${model}: sums to ≤ 1, to 1 over all n, and its mean is the conditional expected purchases`, () => {
      for (const [x, tx, T] of histories) {
        const pa = alive(model, params, x, tx, T);
        const small = new Float64Array(4);
        conditionalPurchaseProbabilities(model, params, 39, x, T, pa, small);
        const sumSmall = small.reduce((s, p) => s + p, 0);
        expect(sumSmall).toBeLessThanOrEqual(1 + 1e-12);
        for (const p of small) expect(p).toBeGreaterThanOrEqual(0);
        const all = new Float64Array(model === 'pareto' ? 150 : 600);
        conditionalPurchaseProbabilities(model, params, 39, x, T, pa, all);
        expect(all.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
        const mean = all.reduce((s, p, n) => s + n * p, 0);
        expect(Math.abs(mean / expected(model, params, 39, x, tx, T) - 1)).toBeLessThan(1e-5);
        // The first terms are those of the longer computation.
        for (let n = 0; n < 4; n++) expect(small[n]).toBeCloseTo(all[n]!, 14);
      }
    });
  }

  it('a customer with no history (x = 0, T = 0) gets the model’s unconditional P(X(t) = n)', () => {
    const out = new Float64Array(11);
    conditionalPurchaseProbabilities('bgnbd', BG, 39, 0, 0, 1, out);
    for (let n = 0; n <= 10; n++) expect(out[n]).toBeCloseTo(bgnbdProbabilityOfPurchases(BG, 39, n), 12);
    conditionalPurchaseProbabilities('pareto', PARETO, 39, 0, 0, 1, out);
    for (let n = 0; n <= 10; n++)
      expect(out[n]).toBeCloseTo(paretoNbdProbabilityOfPurchases(PARETO, 39, n), 12);
  });

  it('a customer who is certainly gone makes no purchase', () => {
    const out = new Float64Array(4);
    conditionalPurchaseProbabilities('bgnbd', BG, 39, 5, 40, 0, out);
    expect([...out]).toEqual([1, 0, 0, 0]);
  });
});

describe('predictPurchases on CDNOW', () => {
  const settings = {
    unit: 'weeks' as const,
    horizon: 39,
    maxN: 3,
    horizonMonths: 12,
    annualDiscountRate: 0.1,
    margin: 1,
  };

  for (const { model, params } of models) {
    it(`${model}: equals the domain functions customer by customer`, () => {
      const rows = [0, 1, 2, 17, 100, 1000, 2356];
      const predictions = predictPurchases(model, params, SPEND, customers, settings);
      expect(predictions.length).toBe(2357);
      for (const i of rows) {
        const [x, tx, T] = [cdnow.x[i]!, cdnow.tx[i]!, cdnow.T[i]!];
        expect(predictions.probabilityAlive[i]).toBeCloseTo(alive(model, params, x, tx, T), 12);
        expect(
          Math.abs(predictions.expectedPurchases[i]! - expected(model, params, 39, x, tx, T)),
        ).toBeLessThan(1e-9);
        expect(predictions.expectedSpend![i]).toBeCloseTo(
          conditionalExpectedAverageSpend(SPEND, x, cdnow.monetaryValue![i]!),
          10,
        );
        const row = new Float64Array(4);
        conditionalPurchaseProbabilities(model, params, 39, x, T, predictions.probabilityAlive[i]!, row);
        for (let n = 0; n <= 3; n++) expect(predictions.probabilityOfPurchases[n]![i]).toBe(row[n]);
      }
    });
  }

  it('CLV = margin × expected spend × discounted monthly expected purchases', () => {
    const i = 1; // x = 1 in the CDNOW sample
    const predictions = predictPurchases('bgnbd', BG, SPEND, customers, { ...settings, margin: 0.5 });
    const terms = clvTerms({ unit: 'weeks', horizonMonths: 12, annualDiscountRate: 0.1 });
    let discounted = 0;
    let previous = 0;
    const [x, tx, T] = [cdnow.x[i]!, cdnow.tx[i]!, cdnow.T[i]!];
    for (let k = 1; k <= 12; k++) {
      const cumulative = bgnbdConditionalExpectedPurchases(BG, k * terms.periodLength, x, tx, T);
      discounted += (cumulative - previous) / (1 + terms.discountRatePerPeriod) ** k;
      previous = cumulative;
    }
    const spend = conditionalExpectedAverageSpend(SPEND, x, cdnow.monetaryValue![i]!);
    expect(predictions.clv![i]).toBeCloseTo(0.5 * spend * discounted, 9);
  });

  it('leaves spend and CLV out without a spend model', () => {
    const predictions = predictPurchases('bgnbd', BG, null, customers, settings);
    expect(predictions.expectedSpend).toBeNull();
    expect(predictions.clv).toBeNull();
  });
});
