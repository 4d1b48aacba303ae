import type { RunRecord } from '#domain/run.ts';

/** A complete run record with every report input present, for report tests. */
export function sampleRunRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  const weekly = Array.from({ length: 78 }, (_, week) => {
    const start = new Date(Date.UTC(1997, 0, 1) + week * 7 * 86_400_000);
    const ramp = Math.min(week, 12) / 12;
    return {
      week,
      weekStart: start.toISOString().slice(0, 10),
      actual: Math.round(60 * ramp + 10 * Math.sin(week / 3) + 40),
      predicted: 60 * ramp + 40,
      period: week < 39 ? ('calibration' as const) : ('holdout' as const),
    };
  });
  return {
    runId: '2026-11-23T030000Z-abc123',
    status: 'published',
    asOf: '1998-06-30',
    startedAt: '2026-11-23T03:00:00.000Z',
    finishedAt: '2026-11-23T03:00:09.000Z',
    timeUnit: 'weeks',
    currency: 'USD',
    customers: 2357,
    model: {
      name: 'bgnbd',
      params: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 },
      logLikelihood: -9582.43,
      standardErrors: { r: 0.0125, alpha: 0.378, a: 0.185, b: 0.705 },
      converged: true,
      customers: 2357,
    },
    spendModel: {
      name: 'gammagamma',
      params: { p: 6.25, q: 3.74, v: 15.44 },
      logLikelihood: -4055.92,
      converged: true,
      customers: 946,
    },
    clvSettings: { horizonMonths: 12, annualDiscountRate: 0.1, margin: 1, periodDays: 365.25 / 12 },
    holdout: {
      calibrationEnd: '1997-09-30',
      holdoutEnd: '1998-06-30',
      model: 'bgnbd',
      predictedRepeatPurchases: 1788.4,
      actualRepeatPurchases: 1768,
      aggregateErrorPct: 1.2,
      meanAbsoluteError: 0.61,
      correlation: 0.62,
      weekly,
    },
    segments: [
      { segment: 'Champions', customers: 180, totalClv: 21000, meanClv: 116.7, shareOfValue: 0.42 },
      { segment: 'Loyal Customers', customers: 260, totalClv: 12000, meanClv: 46.2, shareOfValue: 0.24 },
      { segment: 'At Risk', customers: 300, totalClv: 7000, meanClv: 23.3, shareOfValue: 0.14 },
      { segment: 'Hibernating', customers: 617, totalClv: 6000, meanClv: 9.7, shareOfValue: 0.12 },
      { segment: 'Lost', customers: 1000, totalClv: 4000, meanClv: 4, shareOfValue: 0.08 },
    ],
    previousRunId: '2026-11-16T030000Z-def456',
    migration: {
      Champions: { Champions: 150, 'Loyal Customers': 20, 'At Risk': 10 },
      'Loyal Customers': { Champions: 30, 'Loyal Customers': 220, Hibernating: 10 },
      'At Risk': { 'At Risk': 280, Lost: 20 },
      Hibernating: { Hibernating: 607, Lost: 10 },
      Lost: { 'Loyal Customers': 20, 'At Risk': 10, Lost: 970 },
    },
    ...overrides,
  };
}
