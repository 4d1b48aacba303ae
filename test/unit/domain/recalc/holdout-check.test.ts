import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HoldoutRow } from '#app/ports/warehouse.ts';
import { bgnbdExpectedPurchases } from '#domain/models/bgnbd.ts';
import { createPurchasePredictor } from '#domain/models/purchase-models.ts';
import { holdoutAccuracy, weightedCorrelation } from '#domain/recalc/holdout-check.ts';
import { summarizeTransactions } from '#domain/rfm-summary.ts';

/** Published BG/NBD estimates on the CDNOW calibration period (weeks). */
const CDNOW_PARAMS = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };

function cdnowTransactions() {
  const text = readFileSync(new URL('../../../fixtures/cdnow/CDNOW_sample.txt', import.meta.url), 'utf8');
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, id, ymd, , dollars] = line.trim().split(/\s+/);
      return {
        customerId: id!,
        date: `${ymd!.slice(0, 4)}-${ymd!.slice(4, 6)}-${ymd!.slice(6, 8)}`,
        amount: Number(dollars),
      };
    });
}

describe('holdout check', () => {
  const summary = summarizeTransactions(cdnowTransactions(), {
    observationEnd: '1998-06-30',
    calibrationEnd: '1997-09-30',
    unit: 'weeks',
  });
  const n = summary.customerIds.length;

  it('gives from compressed rows exactly the per-customer figures computed customer by customer', () => {
    const groups = new Map<string, HoldoutRow>();
    for (let i = 0; i < n; i++) {
      const key = `${summary.frequency[i]}|${summary.recency[i]}|${summary.T[i]}|${summary.holdout!.frequency[i]}`;
      const row = groups.get(key) ?? {
        frequency: summary.frequency[i]!,
        recency: summary.recency[i]!,
        T: summary.T[i]!,
        holdoutFrequency: summary.holdout!.frequency[i]!,
        customers: 0,
      };
      row.customers++;
      groups.set(key, row);
    }
    expect(groups.size).toBeLessThan(n / 2);
    const accuracy = holdoutAccuracy({
      model: 'bgnbd',
      params: CDNOW_PARAMS,
      unit: 'weeks',
      calibrationEnd: '1997-09-30',
      holdoutEnd: '1998-06-30',
      holdoutDays: 273,
      rows: [...groups.values()],
      tracking: [],
      cohorts: [],
    });

    const predictor = createPurchasePredictor('bgnbd', CDNOW_PARAMS);
    const out = new Float64Array(1);
    const predicted: number[] = [];
    let absolute = 0;
    for (let i = 0; i < n; i++) {
      predictor.conditionalExpectedCurve(
        Float64Array.of(39),
        summary.frequency[i]!,
        summary.recency[i]!,
        summary.T[i]!,
        out,
      );
      predicted.push(out[0]!);
      absolute += Math.abs(out[0]! - summary.holdout!.frequency[i]!);
    }
    const actual = Array.from(summary.holdout!.frequency);
    expect(accuracy.actualRepeatPurchases).toBe(actual.reduce((s, v) => s + v, 0));
    expect(accuracy.predictedRepeatPurchases).toBeCloseTo(
      predicted.reduce((s, v) => s + v, 0),
      6,
    );
    expect(accuracy.meanAbsoluteError).toBeCloseTo(absolute / n, 10);
    expect(accuracy.correlation).toBeCloseTo(
      weightedCorrelation(
        predicted,
        actual,
        predicted.map(() => 1),
      )!,
      10,
    );
    // The model is a good one on this data: aggregate error within 15 %, clearly positive correlation.
    expect(Math.abs(accuracy.aggregateErrorPct!)).toBeLessThan(15);
    expect(accuracy.correlation).toBeGreaterThan(0.5);
  });

  it('predicts weekly tracking from cohorts with the unconditional expectation E[X(t)]', () => {
    const accuracy = holdoutAccuracy({
      model: 'bgnbd',
      params: CDNOW_PARAMS,
      unit: 'weeks',
      calibrationEnd: '1997-09-30',
      holdoutEnd: '1997-10-14',
      holdoutDays: 14,
      rows: [],
      tracking: [
        { week: 0, weekStart: '1997-09-24', repeatPurchases: 3, period: 'calibration' },
        { week: 2, weekStart: '1997-10-08', repeatPurchases: 5, period: 'holdout' },
      ],
      // 10 customers first bought 8 days before the calibration end, 4 on its last day.
      cohorts: [
        { firstPurchaseDate: '1997-09-22', daysBeforeCalibrationEnd: 8, customers: 10 },
        { firstPurchaseDate: '1997-09-30', daysBeforeCalibrationEnd: 0, customers: 4 },
      ],
    });
    expect(accuracy.weekly.map((w) => [w.week, w.weekStart, w.period, w.actual])).toEqual([
      [-1, '1997-09-17', 'calibration', 0],
      [0, '1997-09-24', 'calibration', 3],
      [1, '1997-10-01', 'holdout', 0],
      [2, '1997-10-08', 'holdout', 5],
    ]);
    const E = (days: number) => bgnbdExpectedPurchases(CDNOW_PARAMS, Math.max(0, days) / 7);
    const expected = [-1, 0, 1, 2].map(
      (w) => 10 * (E(8 + 7 * w) - E(8 + 7 * (w - 1))) + 4 * (E(7 * w) - E(7 * (w - 1))),
    );
    for (const [i, week] of accuracy.weekly.entries()) expect(week.predicted).toBeCloseTo(expected[i]!, 10);
  });
});

describe('weighted correlation', () => {
  it('equals the plain correlation of the rows repeated by their weights', () => {
    fc.assert(
      fc.property(
        fc.array(
          // Integers keep the means exact, so "no variance" is exactly zero on both sides.
          fc.tuple(
            fc.integer({ min: 0, max: 20 }),
            fc.integer({ min: 0, max: 10 }),
            fc.integer({ min: 1, max: 4 }),
          ),
          { minLength: 2, maxLength: 30 },
        ),
        (rows) => {
          const weighted = weightedCorrelation(
            rows.map((r) => r[0]),
            rows.map((r) => r[1]),
            rows.map((r) => r[2]),
          );
          const a = rows.flatMap((r) => Array(r[2]).fill(r[0]) as number[]);
          const b = rows.flatMap((r) => Array(r[2]).fill(r[1]) as number[]);
          const plain = weightedCorrelation(
            a,
            b,
            a.map(() => 1),
          );
          if (plain === null) expect(weighted).toBeNull();
          else expect(weighted).toBeCloseTo(plain, 9);
        },
      ),
    );
  });
});
