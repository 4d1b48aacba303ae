/**
 * Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for
 * Customer Base Analysis"; the note "The Gamma-Gamma Model of Monetary Value"). A customer's
 * transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers; the model is fitted on
 * each customer's number of repeat purchases x and their mean value zbar.
 *
 * Only customers with x > 0 and zbar > 0 carry information on spend. The others are left out of the
 * fit and counted by reason in the result; they are scored with the population mean.
 */

import { distinctRows } from '../rfm-summary.ts';
import { digamma, gammaln } from '../special.ts';
import { fitByMaximumLikelihood, type LikelihoodProblem, ModelFitError } from './fit.ts';
import { groupRowsByValue } from './grouping.ts';
import type { FitOptions, FitResult, GammaGammaParams, SpendData } from './types.ts';

export const GAMMA_GAMMA_PARAM_NAMES = ['p', 'q', 'v'] as const;

/** Above twice this many (x, zbar) rows the fit starts from a subsample's optimum. */
const SPEND_WARM_START_ROWS = 50_000;

/** Why customers were left out of the spend fit. */
export interface SpendExclusions {
  /** x = 0: no repeat purchase, so no repeat spend was observed. */
  noRepeatPurchases: number;
  /** x > 0 but mean value ≤ 0. */
  nonPositiveSpend: number;
  /** x or zbar not a finite number, or x negative. */
  invalid: number;
}

export interface PreparedSpendData {
  data: SpendData;
  /** Customers kept (sum of weights). */
  included: number;
  excluded: SpendExclusions;
}

/** Keeps the customers the spend model can use, collapsing identical (x, zbar) pairs into weights. */
export function prepareSpendData(
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
  weights?: ArrayLike<number>,
): PreparedSpendData {
  if (zbar.length !== x.length || (weights && weights.length !== x.length)) {
    throw new RangeError('x, zbar (and weights) must have the same length');
  }
  const excluded: SpendExclusions = { noRepeatPurchases: 0, nonPositiveSpend: 0, invalid: 0 };
  const keep = new Int32Array(x.length);
  let kept = 0;
  let included = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const zi = zbar[i]!;
    const w = weights ? weights[i]! : 1;
    if (!Number.isFinite(xi) || !Number.isFinite(zi) || xi < 0) excluded.invalid += w;
    else if (xi === 0) excluded.noRepeatPurchases += w;
    else if (zi <= 0) excluded.nonPositiveSpend += w;
    else {
      included += w;
      keep[kept++] = i;
    }
  }
  const keptX = new Float64Array(kept);
  const keptZ = new Float64Array(kept);
  const keptW = new Float64Array(kept);
  for (let k = 0; k < kept; k++) {
    const i = keep[k]!;
    keptX[k] = x[i]!;
    keptZ[k] = zbar[i]!;
    keptW[k] = weights ? weights[i]! : 1;
  }
  // Identical (x, zbar) pairs collapse into one weighted row (first-appearance order).
  const distinct = distinctRows([keptX, keptZ], kept, keptW);
  const cx = new Float64Array(distinct.length);
  const cz = new Float64Array(distinct.length);
  for (let k = 0; k < distinct.length; k++) {
    cx[k] = keptX[distinct.first[k]!]!;
    cz[k] = keptZ[distinct.first[k]!]!;
  }
  return {
    data: { x: cx, zbar: cz, weight: distinct.weight.slice(), length: distinct.length },
    included,
    excluded,
  };
}

/**
 * Spend rows regrouped by x (cached per data object, treated as immutable): everything that depends
 * on x only (lnΓ, ψ, ln x) is computed once per distinct x and per evaluation, and ln zbar once
 * per row for the whole fit, so a likelihood pass costs one logarithm per row.
 */
interface GroupedSpend {
  x: Float64Array;
  lnX: Float64Array;
  start: Int32Array;
  groupWeight: Float64Array;
  /** Σ w·ln zbar per group. */
  groupWeightedLnZ: Float64Array;
  /** x·zbar per row, in group order. */
  xz: Float64Array;
  weight: Float64Array;
}

const groupedSpendCache = new WeakMap<SpendData, GroupedSpend>();

function groupSpendByX(data: SpendData): GroupedSpend {
  const cached = groupedSpendCache.get(data);
  if (cached) return cached;
  const { values, rowGroup, start } = groupRowsByValue(data.x, data.length);
  const groups = values.length;
  const next = start.slice(0, groups);
  const xz = new Float64Array(data.length);
  const weight = new Float64Array(data.length);
  const groupWeight = new Float64Array(groups);
  const groupWeightedLnZ = new Float64Array(groups);
  for (let i = 0; i < data.length; i++) {
    const g = rowGroup[i]!;
    const at = next[g]!;
    next[g] = at + 1;
    const w = data.weight[i]!;
    xz[at] = data.x[i]! * data.zbar[i]!;
    weight[at] = w;
    groupWeight[g] = groupWeight[g]! + w;
    groupWeightedLnZ[g] = groupWeightedLnZ[g]! + w * Math.log(data.zbar[i]!);
  }
  const x = Float64Array.from(values);
  const grouped: GroupedSpend = {
    x,
    lnX: x.map(Math.log),
    start,
    groupWeight,
    groupWeightedLnZ,
    xz,
    weight,
  };
  groupedSpendCache.set(data, grouped);
  return grouped;
}

/** Total weighted log-likelihood at [p, q, v]; with `gradient`, writes ∂LL/∂[p, q, v]. */
export function gammaGammaLogLikelihood(
  params: ArrayLike<number>,
  data: SpendData,
  gradient?: Float64Array,
): number {
  const p = params[0]!;
  const q = params[1]!;
  const v = params[2]!;
  if (!(p > 0 && q > 0 && v > 0)) return Number.NaN;
  const lnV = Math.log(v);
  const lnGammaQ = gammaln(q);
  const psiQ = gradient ? digamma(q) : 0;
  const grouped = groupSpendByX(data);
  const { xz, weight, start } = grouped;
  let total = 0;
  let gp = 0;
  let gq = 0;
  let gv = 0;
  for (let g = 0; g < grouped.x.length; g++) {
    const x = grouped.x[g]!;
    const lnX = grouped.lnX[g]!;
    const W = grouped.groupWeight[g]!;
    const sumLnZ = grouped.groupWeightedLnZ[g]!;
    const px = p * x;
    // Σ w·ln(x·zbar + v) and Σ w/(x·zbar + v) over the group's rows: the only per-row work.
    let sumLnTotal = 0;
    let sumInverse = 0;
    const to = start[g + 1]!;
    if (gradient) {
      for (let i = start[g]!; i < to; i++) {
        const t = xz[i]! + v;
        sumLnTotal += weight[i]! * Math.log(t);
        sumInverse += weight[i]! / t;
      }
    } else {
      for (let i = start[g]!; i < to; i++) sumLnTotal += weight[i]! * Math.log(xz[i]! + v);
    }
    total +=
      W * (gammaln(px + q) - gammaln(px) - lnGammaQ + q * lnV + px * lnX) +
      (px - 1) * sumLnZ -
      (px + q) * sumLnTotal;
    if (gradient) {
      const psiPxQ = digamma(px + q);
      gp += x * (W * (psiPxQ - digamma(px) + lnX) + sumLnZ - sumLnTotal);
      gq += W * (psiPxQ - psiQ + lnV) - sumLnTotal;
      gv += (W * q) / v - (px + q) * sumInverse;
    }
  }
  if (gradient) {
    gradient[0] = gp;
    gradient[1] = gq;
    gradient[2] = gv;
  }
  return total;
}

export type GammaGammaFit = FitResult<GammaGammaParams> & { excluded: SpendExclusions };

/**
 * Fits Gamma-Gamma on (x, zbar) per customer (zbar = mean value of the repeat purchases). Customers
 * with x = 0 or zbar ≤ 0 are left out and counted in `excluded`; throws ModelFitError if none remain.
 */
export function fitGammaGamma(
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
  options: FitOptions & { weights?: ArrayLike<number> } = {},
): GammaGammaFit {
  const prepared = prepareSpendData(x, zbar, options.weights);
  if (prepared.included === 0) {
    const e = prepared.excluded;
    throw new ModelFitError(
      `gamma-gamma: no customer has repeat purchases with a positive mean value (left out: ${e.noRepeatPurchases} without repeat purchases, ${e.nonPositiveSpend} with mean value ≤ 0, ${e.invalid} invalid); the spend model needs customers with x > 0 and monetary value > 0.`,
      { model: 'gamma-gamma', attempts: [] },
    );
  }
  const { data } = prepared;
  let meanSpend = 0;
  for (let i = 0; i < data.length; i++) meanSpend += data.weight[i]! * data.zbar[i]!;
  meanSpend /= prepared.included;
  const problem: LikelihoodProblem = {
    model: 'gamma-gamma',
    paramNames: GAMMA_GAMMA_PARAM_NAMES,
    defaultStarts: [
      [1, 1, 1],
      [2, 3, Math.max(meanSpend, 1e-3)],
    ],
    customers: prepared.included,
    rows: data.length,
    hasGradient: true,
    logLikelihood: (params, gradient) => gammaGammaLogLikelihood(params, data, gradient),
  };
  const { weights: _weights, ...fitOptions } = options;
  if (data.length > 2 * SPEND_WARM_START_ROWS && !fitOptions.starts) {
    // As for the purchase models: fit an evenly spaced subsample first, then finish on all rows
    // from its optimum and curvature (a few full passes instead of two cold starts).
    const step = data.length / SPEND_WARM_START_ROWS;
    const pick = (column: Float64Array) =>
      Float64Array.from({ length: SPEND_WARM_START_ROWS }, (_, i) => column[Math.floor(i * step)]!);
    const sample: SpendData = {
      x: pick(data.x),
      zbar: pick(data.zbar),
      weight: pick(data.weight),
      length: SPEND_WARM_START_ROWS,
    };
    let sampleWeight = 0;
    for (let i = 0; i < sample.length; i++) sampleWeight += sample.weight[i]!;
    try {
      const warm = fitByMaximumLikelihood<GammaGammaParams>(
        {
          ...problem,
          customers: sampleWeight,
          rows: sample.length,
          logLikelihood: (params, gradient) => gammaGammaLogLikelihood(params, sample, gradient),
        },
        { ...fitOptions, skipStandardErrors: true },
      );
      const full = fitByMaximumLikelihood<GammaGammaParams>(problem, {
        ...fitOptions,
        starts: [[warm.params.p, warm.params.q, warm.params.v]],
        initialInverseHessian: warm.inverseHessian,
      });
      return { ...full, evaluations: full.evaluations + warm.evaluations, excluded: prepared.excluded };
    } catch (error) {
      // A misleading subsample: fall back to the cold starts below.
      if (!(error instanceof ModelFitError)) throw error;
    }
  }
  return { ...fitByMaximumLikelihood<GammaGammaParams>(problem, fitOptions), excluded: prepared.excluded };
}

/**
 * E[mean transaction value | x, zbar] = (p (v + x·zbar)) / (p·x + q − 1): a weighted average of the
 * population mean p·v/(q−1) and the customer's own mean. x = 0 (or zbar ≤ 0) gives the population
 * mean. NaN when q ≤ 1 (the population mean is infinite).
 */
export function conditionalExpectedAverageSpend(params: GammaGammaParams, x: number, zbar: number): number {
  const { p, q, v } = params;
  if (!(q > 1)) return Number.NaN;
  if (!(x > 0 && zbar > 0)) return (p * v) / (q - 1);
  return (p * (v + x * zbar)) / (p * x + q - 1);
}

/** Population mean transaction value p·v/(q − 1). */
export function populationMeanSpend(params: GammaGammaParams): number {
  return params.q > 1 ? (params.p * params.v) / (params.q - 1) : Number.NaN;
}
