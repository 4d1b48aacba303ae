/** A holdout window without purchases is "not possible", never a +100 % error: run record, CLI, report. */
import { describe, expect, it } from 'vitest';
import { renderRunReport } from '#adapters/report/render-report.ts';
import { holdoutAccuracy, holdoutErrorText } from '#domain/recalc/holdout-check.ts';
import { createReportAccumulator } from '#domain/report/aggregates.ts';
import { runRecordSchema } from '#domain/run.ts';
import { formatHoldout } from '#infra/cli/commands/recalc.ts';
import { sampleRunRecord } from '#test-support/sample-run.ts';

const PARAMS = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };

function quietHoldout(params: Record<string, number> = PARAMS) {
  return holdoutAccuracy({
    model: 'bgnbd',
    params,
    unit: 'weeks',
    calibrationEnd: '2024-07-02',
    holdoutEnd: '2024-12-31',
    holdoutDays: 182,
    rows: [
      { frequency: 2, recency: 10, T: 20, holdoutFrequency: 0, customers: 3 },
      { frequency: 0, recency: 0, T: 15, holdoutFrequency: 0, customers: 7 },
    ],
    tracking: [],
    cohorts: [{ firstPurchaseDate: '2024-03-01', daysBeforeCalibrationEnd: 123, customers: 10 }],
  });
}

describe('holdout check without actual purchases', () => {
  const holdout = quietHoldout();

  it('is recorded as not possible, with the reason, and no aggregate error', () => {
    expect(holdout.predictedRepeatPurchases).toBeGreaterThan(0);
    expect(holdout.actualRepeatPurchases).toBe(0);
    expect(holdout.aggregateErrorPct).toBeNull();
    expect(holdout.notPossibleReason).toMatch(
      /no repeat purchases in the holdout window \(2024-07-02 to 2024-12-31\)/,
    );
    expect(holdoutErrorText(holdout)).toMatch(/^holdout check not possible: /);
    const record = runRecordSchema.parse({ ...sampleRunRecord(), holdout });
    expect(record.holdout?.notPossibleReason).toBe(holdout.notPossibleReason);
  });

  it('a degenerate calibration fit is not possible either, and leaves only storable numbers', () => {
    // r → ∞ (the Poisson limit a fit runs to on very even data): the model's predictions are NaN.
    const wild = quietHoldout({ r: 3.7e46, alpha: 1e30, a: 2, b: 3 });
    for (const value of [
      wild.predictedRepeatPurchases,
      wild.meanAbsoluteError,
      ...wild.weekly.map((w) => w.predicted),
    ]) {
      expect(Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER).toBe(true);
    }
    expect(wild.aggregateErrorPct).toBeNull();
    expect(wild.notPossibleReason).toMatch(/degenerate/);
  });

  it('the CLI and the report say "not possible", never +100 %', async () => {
    const record = { ...sampleRunRecord(), holdout };
    const cli = formatHoldout(record);
    expect(cli).toMatch(/holdout check not possible: no repeat purchases/);
    expect(cli).not.toMatch(/100\.0 %/);
    const html = await renderRunReport({ run: record, aggregates: createReportAccumulator().result() });
    expect(html).toMatch(/Holdout check not possible/);
    expect(html).not.toMatch(/\+?100\.0 %/);
  });
});
