/**
 * The holdout check: a model fitted on the calibration period predicts the holdout period, and the
 * prediction is compared with what customers actually did. Pure functions over the warehouse's
 * compressed rows: a prediction depends only on (x, t_x, T), so weighted rows give exact
 * per-customer figures.
 */
import { createPurchasePredictor } from '../models/purchase-models.ts';
import type { PurchaseModelName } from '../models/types.ts';
import type { RunRecord } from '../run.ts';

/** A holdout row of the warehouse: customers sharing (x, t_x, T) and their holdout repeat purchases. */
export interface HoldoutRow {
  frequency: number;
  recency: number;
  T: number;
  holdoutFrequency: number;
  customers: number;
}

/** Actual repeat purchases in one week of the tracking series. */
export interface TrackingRow {
  week: number;
  weekStart: string;
  repeatPurchases: number;
  period: 'calibration' | 'holdout';
}

/** Customers by first purchase date, for the expected weekly repeat purchases. */
export interface CohortRow {
  firstPurchaseDate: string;
  daysBeforeCalibrationEnd: number;
  customers: number;
}

export type HoldoutAccuracy = NonNullable<RunRecord['holdout']>;

export interface HoldoutInput {
  model: PurchaseModelName;
  params: Readonly<Record<string, number>>;
  unit: 'days' | 'weeks';
  calibrationEnd: string;
  holdoutEnd: string;
  /** Holdout length in days. */
  holdoutDays: number;
  rows: readonly HoldoutRow[];
  tracking: readonly TrackingRow[];
  cohorts: readonly CohortRow[];
}

/** Weighted Pearson correlation; null when either side has no variance. */
export function weightedCorrelation(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  w: ArrayLike<number>,
): number | null {
  let sw = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < w.length; i++) {
    sw += w[i]!;
    sa += w[i]! * a[i]!;
    sb += w[i]! * b[i]!;
  }
  if (sw === 0) return null;
  const ma = sa / sw;
  const mb = sb / sw;
  let caa = 0;
  let cbb = 0;
  let cab = 0;
  for (let i = 0; i < w.length; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    caa += w[i]! * da * da;
    cbb += w[i]! * db * db;
    cab += w[i]! * da * db;
  }
  if (caa <= 0 || cbb <= 0) return null;
  return cab / Math.sqrt(caa * cbb);
}

export function holdoutAccuracy(input: HoldoutInput): HoldoutAccuracy {
  const predictor = createPurchasePredictor(input.model, input.params);
  const unitDays = input.unit === 'weeks' ? 7 : 1;
  const duration = Float64Array.of(input.holdoutDays / unitDays);
  const out = new Float64Array(1);
  const n = input.rows.length;
  const predicted = new Float64Array(n);
  const actual = new Float64Array(n);
  const weight = new Float64Array(n);
  let sumPredicted = 0;
  let sumActual = 0;
  let absoluteError = 0;
  let customers = 0;
  input.rows.forEach((row, i) => {
    predictor.conditionalExpectedCurve(duration, row.frequency, row.recency, row.T, out);
    predicted[i] = out[0]!;
    actual[i] = row.holdoutFrequency;
    weight[i] = row.customers;
    sumPredicted += row.customers * out[0]!;
    sumActual += row.customers * row.holdoutFrequency;
    absoluteError += row.customers * Math.abs(out[0]! - row.holdoutFrequency);
    customers += row.customers;
  });
  const weekly = trackingSeries(input, predictor);
  const window = `${input.calibrationEnd} to ${input.holdoutEnd}`;
  const meanAbsoluteError = customers > 0 ? absoluteError / customers : 0;
  const degenerate =
    !isStorable(sumPredicted) ||
    !isStorable(meanAbsoluteError) ||
    weekly.some((w) => !isStorable(w.predicted));
  const notPossibleReason = degenerate
    ? `the model fitted on the calibration period is degenerate: it predicts ${sumPredicted.toPrecision(3)} repeat purchases in the holdout window (${window}) for ${customers} customers`
    : customers === 0
      ? `no customer had bought before the calibration end (${input.calibrationEnd})`
      : sumActual === 0
        ? `no repeat purchases in the holdout window (${window}) by the ${customers} customers of the calibration period: there is nothing to compare the prediction (${sumPredicted.toFixed(1)}) with`
        : null;
  if (notPossibleReason !== null) {
    return {
      calibrationEnd: input.calibrationEnd,
      holdoutEnd: input.holdoutEnd,
      model: input.model,
      predictedRepeatPurchases: degenerate ? 0 : sumPredicted,
      actualRepeatPurchases: sumActual,
      aggregateErrorPct: null,
      notPossibleReason,
      // Still a fair ranking for `auto` when nobody bought (MAE = mean predicted); a degenerate
      // model ranks last.
      meanAbsoluteError: degenerate ? Number.MAX_SAFE_INTEGER : meanAbsoluteError,
      correlation: null,
      weekly: degenerate ? [] : weekly,
    };
  }
  return {
    calibrationEnd: input.calibrationEnd,
    holdoutEnd: input.holdoutEnd,
    model: input.model,
    predictedRepeatPurchases: sumPredicted,
    actualRepeatPurchases: sumActual,
    aggregateErrorPct: ((sumPredicted - sumActual) / sumActual) * 100,
    meanAbsoluteError,
    correlation: weightedCorrelation(predicted, actual, weight),
    weekly,
  };
}

/** A figure the run record can store: finite and within the range DynamoDB numbers round-trip in. */
const isStorable = (value: number) => Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER;

/**
 * Weekly repeat purchases of the calibration customers, actual and expected. A cohort that made its
 * first purchase d days before the calibration end is expected to make E[X(d + 7w)] − E[X(d + 7(w−1))]
 * repeat purchases in week w, where E[X(t)] is the model's expected count t after a first purchase
 * (the conditional expectation of a customer observed for no time: x = t_x = T = 0).
 */
function trackingSeries(
  input: HoldoutInput,
  predictor: ReturnType<typeof createPurchasePredictor>,
): HoldoutAccuracy['weekly'] {
  const unitDays = input.unit === 'weeks' ? 7 : 1;
  const holdoutWeeks = Math.ceil(input.holdoutDays / 7);
  let firstWeek = 1;
  for (const cohort of input.cohorts) {
    firstWeek = Math.min(firstWeek, Math.ceil((1 - cohort.daysBeforeCalibrationEnd) / 7));
  }
  const weeks = holdoutWeeks - firstWeek + 1;
  const expected = new Float64Array(weeks);
  const times = new Float64Array(weeks + 1);
  const curve = new Float64Array(weeks + 1);
  for (const cohort of input.cohorts) {
    // Cumulative expectation at the end of week firstWeek − 1 + j, for j = 0..weeks.
    for (let j = 0; j <= weeks; j++) {
      const days = Math.min(
        cohort.daysBeforeCalibrationEnd + 7 * (firstWeek - 1 + j),
        cohort.daysBeforeCalibrationEnd + input.holdoutDays,
      );
      times[j] = Math.max(0, days) / unitDays;
    }
    predictor.conditionalExpectedCurve(times, 0, 0, 0, curve);
    for (let j = 0; j < weeks; j++)
      expected[j] = expected[j]! + cohort.customers * Math.max(0, curve[j + 1]! - curve[j]!);
  }
  const actualByWeek = new Map(input.tracking.map((row) => [row.week, row.repeatPurchases]));
  const calibrationEndDay = Date.parse(`${input.calibrationEnd}T00:00:00Z`) / 86_400_000;
  return Array.from({ length: weeks }, (_, j) => {
    const week = firstWeek + j;
    return {
      week,
      weekStart: new Date((calibrationEndDay + 7 * (week - 1) + 1) * 86_400_000).toISOString().slice(0, 10),
      actual: actualByWeek.get(week) ?? 0,
      predicted: expected[j]!,
      period: week <= 0 ? ('calibration' as const) : ('holdout' as const),
    };
  });
}

/**
 * The aggregate holdout error for people: "+3.2 %", or "not possible: <reason>" when predicted and
 * actual cannot be compared (never a made-up +100 %).
 */
export function holdoutErrorText(
  holdout: Pick<HoldoutAccuracy, 'aggregateErrorPct' | 'notPossibleReason'>,
): string {
  if (holdout.aggregateErrorPct === null) {
    return `holdout check not possible: ${holdout.notPossibleReason ?? 'no comparable figures'}`;
  }
  const value = holdout.aggregateErrorPct;
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
}
