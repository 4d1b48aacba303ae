/**
 * Customer scoring: P(alive), expected purchases, expected spend, customer lifetime value (CLV),
 * expected next purchase date and churn-risk band, for many customers at once (columnar output).
 *
 * CLV = margin × E[spend] × Σ_{i=1..H} (E[Y(i·P)] − E[Y((i−1)·P)]) / (1 + d)^i
 * where E[Y(t)] is the model's expected number of purchases in the next t (given x, t_x, T), P is one
 * month expressed in the data's time unit (a month is 365.25/12 days; 4.348… weeks), H the horizon
 * in months, and d the monthly discount rate equivalent to the yearly rate: (1 + yearly)^(1/12) − 1.
 * The result states P, H and d so that nobody has to guess the conventions.
 */
import { conditionalExpectedAverageSpend } from './models/gamma-gamma.ts';
import { createPurchasePredictor } from './models/purchase-models.ts';
import type { GammaGammaParams, PurchaseModelName } from './models/types.ts';
import { probabilityOfPurchaseWithin } from './purchase-probability.ts';
import type { TimeUnit } from './rfm-summary.ts';

/** Average Gregorian month. */
export const DAYS_PER_MONTH = 365.25 / 12;
const DAYS_PER_UNIT: Record<TimeUnit, number> = { days: 1, weeks: 7 };

/**
 * Churn-risk thresholds on the probability of at least one purchase in the next `horizonDays`
 * (given the customer's history): low risk at or above `lowRiskMin`, medium at or above
 * `mediumRiskMin`, else high. Not on P(alive): under BG/NBD a one-time buyer's P(alive) is 1 however
 * long ago the purchase was, while the chance of a purchase soon falls with the time since.
 */
export interface ChurnBands {
  lowRiskMin: number;
  mediumRiskMin: number;
  /** Horizon of the purchase probability, in days. Default 90. */
  horizonDays?: number;
}
export const DEFAULT_CHURN_BANDS: ChurnBands = { lowRiskMin: 0.7, mediumRiskMin: 0.3, horizonDays: 90 };
export const DEFAULT_CHURN_HORIZON_DAYS = 90;
export const CHURN_RISK_LABELS = ['low', 'medium', 'high'] as const;
export type ChurnRisk = (typeof CHURN_RISK_LABELS)[number];

export interface ClvOptions {
  /** Time unit of the data the model was fitted on (t_x, T and the model's rates). */
  unit: TimeUnit;
  /** CLV horizon in months. Default 12. */
  horizonMonths?: number;
  /** Yearly discount rate, e.g. 0.1 for 10 %. Default 0.1. */
  annualDiscountRate?: number;
  /** Profit margin applied to spend. Default 1. */
  margin?: number;
  /** Horizon of the `expectedPurchases` column, in the data's unit. Default: the CLV horizon. */
  expectedPurchasesHorizon?: number;
  churnBands?: ChurnBands;
  /** Observation end as a UTC epoch day; needed for `expectedNextPurchaseDay`. */
  observationEnd?: number;
}

/** The conventions a CLV figure was computed with. */
export interface ClvTerms {
  unit: TimeUnit;
  /** One period (a month) in the data's unit. */
  periodLength: number;
  periods: number;
  /** Discount rate per period (monthly), equivalent to the yearly rate. */
  discountRatePerPeriod: number;
  annualDiscountRate: number;
  margin: number;
  /** Horizon of `expectedPurchases`, in the data's unit. */
  expectedPurchasesHorizon: number;
}

export function clvTerms(options: ClvOptions): ClvTerms {
  const periods = options.horizonMonths ?? 12;
  const annualDiscountRate = options.annualDiscountRate ?? 0.1;
  const margin = options.margin ?? 1;
  if (!Number.isInteger(periods) || periods < 0) {
    throw new RangeError(`CLV horizon must be a whole number of months ≥ 0, got ${periods}`);
  }
  if (!(annualDiscountRate > -1))
    throw new RangeError(`yearly discount rate must be > −1, got ${annualDiscountRate}`);
  if (!(margin >= 0)) throw new RangeError(`margin must be ≥ 0, got ${margin}`);
  const periodLength = DAYS_PER_MONTH / DAYS_PER_UNIT[options.unit];
  const expectedPurchasesHorizon = options.expectedPurchasesHorizon ?? periods * periodLength;
  if (!(expectedPurchasesHorizon >= 0)) {
    throw new RangeError(`expected-purchases horizon must be ≥ 0, got ${expectedPurchasesHorizon}`);
  }
  return {
    unit: options.unit,
    periodLength,
    periods,
    discountRatePerPeriod: (1 + annualDiscountRate) ** (1 / 12) - 1,
    annualDiscountRate,
    margin,
    expectedPurchasesHorizon,
  };
}

/** Band index into CHURN_RISK_LABELS for a probability of purchasing within the churn horizon. */
export function churnRiskBand(
  purchaseProbability: number,
  bands: ChurnBands = DEFAULT_CHURN_BANDS,
): 0 | 1 | 2 {
  if (purchaseProbability >= bands.lowRiskMin) return 0;
  if (purchaseProbability >= bands.mediumRiskMin) return 1;
  return 2;
}

function validateBands(bands: ChurnBands): void {
  const { lowRiskMin, mediumRiskMin } = bands;
  const horizon = bands.horizonDays ?? DEFAULT_CHURN_HORIZON_DAYS;
  if (!(horizon > 0)) throw new RangeError(`churn horizon must be > 0 days, got ${horizon}`);
  if (!(mediumRiskMin >= 0 && lowRiskMin <= 1 && mediumRiskMin <= lowRiskMin)) {
    throw new RangeError(
      `churn bands need 0 ≤ mediumRiskMin ≤ lowRiskMin ≤ 1, got mediumRiskMin=${mediumRiskMin}, lowRiskMin=${lowRiskMin}`,
    );
  }
}

/** Customers to score: calibration RFM columns in the model's time unit. */
export interface CustomersToScore {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  T: ArrayLike<number>;
  /** Mean value of the repeat purchases (0 when x = 0); used by Gamma-Gamma and as fallback spend. */
  monetaryValue?: ArrayLike<number>;
}

/** Scores, one entry per customer in input order. */
export interface CustomerScores {
  length: number;
  probabilityAlive: Float64Array;
  /** P(at least one purchase in the next `churnBands.horizonDays` | history): the churn-risk basis. */
  purchaseProbability: Float64Array;
  /** Expected repeat purchases over `terms.expectedPurchasesHorizon`. */
  expectedPurchases: Float64Array;
  /** Expected value per purchase. */
  expectedSpend: Float64Array;
  clv: Float64Array;
  /** Index into CHURN_RISK_LABELS. */
  churnRisk: Uint8Array;
  /**
   * Expected day (UTC epoch day) of the next purchase if the customer is still active: observation
   * end + 1 / E[purchase rate | alive]. NaN for high churn risk or without `observationEnd`.
   */
  expectedNextPurchaseDay: Float64Array;
  terms: ClvTerms;
  churnBands: ChurnBands;
}

/**
 * Scores customers with a fitted purchase model and, when given, Gamma-Gamma spend parameters.
 * Without spend parameters the expected spend is the customer's own mean repeat value, or the mean
 * over customers who have one (an explicit, documented fallback; Gamma-Gamma is preferred).
 */
export function scoreCustomers(
  model: PurchaseModelName,
  params: Readonly<Record<string, number>>,
  spend: GammaGammaParams | null,
  customers: CustomersToScore,
  options: ClvOptions,
): CustomerScores {
  const terms = clvTerms(options);
  const bands = options.churnBands ?? DEFAULT_CHURN_BANDS;
  validateBands(bands);
  const n = customers.x.length;
  if (customers.tx.length !== n || customers.T.length !== n) {
    throw new RangeError(
      `x, t_x and T must have the same length (got ${n}, ${customers.tx.length}, ${customers.T.length})`,
    );
  }
  const monetary = customers.monetaryValue;
  if (monetary && monetary.length !== n)
    throw new RangeError('monetaryValue must have one value per customer');
  let fallbackSpend = Number.NaN;
  if (!spend) {
    if (!monetary) {
      throw new RangeError(
        'scoring needs spend: pass Gamma-Gamma parameters or the customers’ monetary values',
      );
    }
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (monetary[i]! > 0) {
        sum += monetary[i]!;
        count++;
      }
    }
    fallbackSpend = count > 0 ? sum / count : 0;
  }

  const predictor = createPurchasePredictor(model, params);
  const r = params['r']!;
  const alpha = params['alpha']!;
  // Horizons evaluated per customer: the end of every CLV period, then the expected-purchases horizon.
  const periods = terms.periods;
  const times = new Float64Array(periods + 1);
  for (let i = 0; i < periods; i++) times[i] = (i + 1) * terms.periodLength;
  times[periods] = terms.expectedPurchasesHorizon;
  const discount = new Float64Array(periods + 1);
  for (let i = 0; i < periods; i++) discount[i] = (1 + terms.discountRatePerPeriod) ** -(i + 1);
  const daysPerUnit = DAYS_PER_UNIT[options.unit];
  const churnHorizon = (bands.horizonDays ?? DEFAULT_CHURN_HORIZON_DAYS) / daysPerUnit;

  const scores: CustomerScores = {
    length: n,
    probabilityAlive: new Float64Array(n),
    purchaseProbability: new Float64Array(n),
    expectedPurchases: new Float64Array(n),
    expectedSpend: new Float64Array(n),
    clv: new Float64Array(n),
    churnRisk: new Uint8Array(n),
    expectedNextPurchaseDay: new Float64Array(n),
    terms,
    churnBands: bands,
  };
  const aliveValues = aliveValueInterpolation(predictor, customers, alpha, times, discount, periods);
  const curve = new Float64Array(periods + 1);
  const interpolated = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    const x = customers.x[i]!;
    const tx = customers.tx[i]!;
    const T = customers.T[i]!;
    const alive = predictor.probabilityAlive(x, tx, T);
    let discounted: number;
    let expectedPurchases: number;
    if (aliveValues.evaluate(i, interpolated)) {
      discounted = alive * interpolated[0]!;
      expectedPurchases = alive * interpolated[1]!;
    } else {
      predictor.conditionalExpectedCurve(times, x, tx, T, curve);
      discounted = discountedIncrements(curve, discount, periods);
      expectedPurchases = curve[periods]!;
    }
    const value = monetary ? monetary[i]! : 0;
    const spendPerPurchase = spend
      ? conditionalExpectedAverageSpend(spend, x, value)
      : value > 0
        ? value
        : fallbackSpend;
    const purchaseProbability = probabilityOfPurchaseWithin(model, params, churnHorizon, x, tx, T, alive);
    const band = churnRiskBand(purchaseProbability, bands);
    scores.probabilityAlive[i] = alive;
    scores.purchaseProbability[i] = purchaseProbability;
    scores.expectedPurchases[i] = expectedPurchases;
    scores.expectedSpend[i] = spendPerPurchase;
    scores.clv[i] = terms.margin * spendPerPurchase * discounted;
    scores.churnRisk[i] = band;
    // An alive customer's purchase rate has posterior Gamma(r + x, α + T) in BG/NBD, MBG/NBD and
    // Pareto/NBD alike; the expected wait is taken as 1 / posterior mean rate.
    scores.expectedNextPurchaseDay[i] =
      options.observationEnd === undefined || band === 2
        ? Number.NaN
        : options.observationEnd + Math.round(((alpha + T) / (r + x)) * daysPerUnit);
  }
  return scores;
}

/** Σ_k discount[k] · (curve[k] − curve[k−1]) over the CLV periods, increments clamped at ≥ 0. */
function discountedIncrements(curve: Float64Array, discount: Float64Array, periods: number): number {
  let discounted = 0;
  let previous = 0;
  for (let k = 0; k < periods; k++) {
    const cumulative = curve[k]!;
    // A non-decreasing curve in exact arithmetic; the guard only absorbs rounding.
    discounted += Math.max(cumulative - previous, 0) * discount[k]!;
    previous = Math.max(cumulative, previous);
  }
  return discounted;
}

/*
 * Fast path for large batches. In all three purchase models the expected purchases factor as
 * E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · g_x(T, t): given that the customer is alive, the
 * posterior depends on x and T only. So the discounted CLV sum and the expected purchases of an
 * alive customer are smooth functions of one variable, u = ln(α + T), for each x. Over a cell
 * (one x, a slice of u of width 0.25) they are interpolated by Chebyshev polynomials of degree 9 —
 * their singularities lie ≥ π away from the real u axis, so the error is far below 1e−12 — and each
 * interpolant is checked against the exact value at two off-node points before use. Cells with few
 * customers, or failing the check, are computed exactly.
 */
const CELL_WIDTH = 0.25;
const CHEBYSHEV_NODES = 10;
const MIN_CUSTOMERS_PER_CELL = 64;
const INTERPOLATION_TOLERANCE = 1e-10;

interface AliveValueInterpolation {
  /** Writes [discounted CLV sum, expected purchases] of an alive customer i into `out`; false if exact evaluation is needed. */
  evaluate(i: number, out: Float64Array): boolean;
}

function aliveValueInterpolation(
  predictor: ReturnType<typeof createPurchasePredictor>,
  customers: CustomersToScore,
  alpha: number,
  times: Float64Array,
  discount: Float64Array,
  periods: number,
): AliveValueInterpolation {
  const n = customers.x.length;
  const never: AliveValueInterpolation = { evaluate: () => false };
  if (n < 4 * MIN_CUSTOMERS_PER_CELL) return never;
  const u = new Float64Array(n);
  let uMin = Number.POSITIVE_INFINITY;
  let uMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const value = Math.log(alpha + customers.T[i]!);
    u[i] = value;
    if (value < uMin) uMin = value;
    if (value > uMax) uMax = value;
  }
  if (!Number.isFinite(uMin) || !Number.isFinite(uMax)) return never;
  const slices = Math.floor((uMax - uMin) / CELL_WIDTH) + 1;
  // x → group; small whole x through an array, others through a map.
  const smallGroups = new Int32Array(4096).fill(-1);
  const otherGroups = new Map<number, number>();
  const groupX: number[] = [];
  const cell = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = customers.x[i]!;
    let group: number | undefined;
    if (Number.isInteger(x) && x >= 0 && x < 4096) {
      group = smallGroups[x]!;
      if (group < 0) {
        group = groupX.length;
        smallGroups[x] = group;
        groupX.push(x);
      }
    } else {
      group = otherGroups.get(x);
      if (group === undefined) {
        group = groupX.length;
        otherGroups.set(x, group);
        groupX.push(x);
      }
    }
    cell[i] = group * slices + Math.min(slices - 1, Math.floor((u[i]! - uMin) / CELL_WIDTH));
  }
  const cellCount = groupX.length * slices;
  const counts = new Int32Array(cellCount);
  for (let i = 0; i < n; i++) counts[cell[i]!] = counts[cell[i]!]! + 1;

  // Chebyshev coefficients per cell: [discounted sum × NODES, expected purchases × NODES]; null = exact.
  const coefficients: (Float64Array | null)[] = new Array(cellCount).fill(null);
  const curve = new Float64Array(times.length);
  const aliveAt = (x: number, uValue: number, out: Float64Array): boolean => {
    const T = Math.exp(uValue) - alpha;
    const alive = predictor.probabilityAlive(x, T, T);
    if (!(alive > 0)) return false;
    predictor.conditionalExpectedCurve(times, x, T, T, curve);
    let discounted = 0;
    for (let k = 0; k < periods; k++) {
      // Abel summation of Σ d_k (g_k − g_{k−1}): Σ g_k (d_k − d_{k+1}), with d past the horizon = 0.
      discounted += (curve[k]! / alive) * (discount[k]! - (k + 1 < periods ? discount[k + 1]! : 0));
    }
    out[0] = discounted;
    out[1] = curve[periods]! / alive;
    return Number.isFinite(out[0]) && Number.isFinite(out[1]);
  };
  const nodeValue = new Float64Array(2);
  const probe = new Float64Array(2);
  const check = new Float64Array(2);
  for (let c = 0; c < cellCount; c++) {
    if (counts[c]! < MIN_CUSTOMERS_PER_CELL) continue;
    const x = groupX[Math.floor(c / slices)]!;
    const low = uMin + (c % slices) * CELL_WIDTH;
    const mid = low + CELL_WIDTH / 2;
    const half = CELL_WIDTH / 2;
    const values = new Float64Array(2 * CHEBYSHEV_NODES);
    let ok = true;
    for (let k = 0; k < CHEBYSHEV_NODES && ok; k++) {
      const node = Math.cos((Math.PI * (k + 0.5)) / CHEBYSHEV_NODES);
      ok = aliveAt(x, mid + half * node, nodeValue);
      values[k] = nodeValue[0]!;
      values[CHEBYSHEV_NODES + k] = nodeValue[1]!;
    }
    if (!ok) continue;
    const coefficientsOfCell = new Float64Array(2 * CHEBYSHEV_NODES);
    for (let part = 0; part < 2; part++) {
      for (let j = 0; j < CHEBYSHEV_NODES; j++) {
        let sum = 0;
        for (let k = 0; k < CHEBYSHEV_NODES; k++) {
          sum += values[part * CHEBYSHEV_NODES + k]! * Math.cos((Math.PI * j * (k + 0.5)) / CHEBYSHEV_NODES);
        }
        coefficientsOfCell[part * CHEBYSHEV_NODES + j] = ((j === 0 ? 1 : 2) / CHEBYSHEV_NODES) * sum;
      }
    }
    // Accept the cell only if it reproduces exact values between the nodes.
    for (const position of [-0.77, 0.41]) {
      if (!aliveAt(x, mid + half * position, probe)) {
        ok = false;
        break;
      }
      clenshaw(coefficientsOfCell, position, check);
      for (let part = 0; part < 2; part++) {
        if (
          Math.abs(check[part]! - probe[part]!) >
          INTERPOLATION_TOLERANCE * Math.max(1e-3, Math.abs(probe[part]!))
        )
          ok = false;
      }
    }
    if (ok) coefficients[c] = coefficientsOfCell;
  }
  return {
    evaluate(i, out) {
      const c = cell[i]!;
      const cellCoefficients = coefficients[c];
      if (!cellCoefficients) return false;
      const low = uMin + (c % slices) * CELL_WIDTH;
      clenshaw(cellCoefficients, (u[i]! - low) / (CELL_WIDTH / 2) - 1, out);
      return true;
    },
  };
}

/** Evaluates the two Chebyshev series of a cell at s ∈ [−1, 1] into out[0], out[1]. */
function clenshaw(coefficients: Float64Array, s: number, out: Float64Array): void {
  for (let part = 0; part < 2; part++) {
    const offset = part * CHEBYSHEV_NODES;
    let b1 = 0;
    let b2 = 0;
    for (let j = CHEBYSHEV_NODES - 1; j >= 1; j--) {
      const b0 = 2 * s * b1 - b2 + coefficients[offset + j]!;
      b2 = b1;
      b1 = b0;
    }
    out[part] = s * b1 - b2 + coefficients[offset]!;
  }
}

/** One customer's scores as a plain object (dates as YYYY-MM-DD, null when not applicable). */
export function customerScoreAt(scores: CustomerScores, index: number) {
  const day = scores.expectedNextPurchaseDay[index]!;
  return {
    probabilityAlive: scores.probabilityAlive[index]!,
    purchaseProbability: scores.purchaseProbability[index]!,
    expectedPurchases: scores.expectedPurchases[index]!,
    expectedSpend: scores.expectedSpend[index]!,
    clv: scores.clv[index]!,
    churnRisk: CHURN_RISK_LABELS[scores.churnRisk[index]!]!,
    expectedNextPurchaseDate: Number.isNaN(day)
      ? null
      : new Date(day * 86_400_000).toISOString().slice(0, 10),
  };
}
