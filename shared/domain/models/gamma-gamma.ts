/**
 * Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for
 * Customer Base Analysis"; the note "The Gamma-Gamma Model of Monetary Value"). A customer's
 * transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers; the model is fitted on
 * each customer's number of repeat purchases x and their mean value zbar.
 *
 * Only customers with x > 0 and zbar > 0 carry information on spend. The others are left out of the
 * fit and counted by reason in the result; they are scored with the population mean.
 */
import { digamma, gammaln } from '../special.ts';
import { fitByMaximumLikelihood, type LikelihoodProblem, ModelFitError } from './fit.ts';
import type { FitOptions, FitResult, GammaGammaParams, SpendData } from './types.ts';

export const GAMMA_GAMMA_PARAM_NAMES = ['p', 'q', 'v'] as const;

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
  const positions = new Map<string, number>();
  const cx: number[] = [];
  const cz: number[] = [];
  const cw: number[] = [];
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
      const key = `${xi}|${zi}`;
      const at = positions.get(key);
      if (at === undefined) {
        positions.set(key, cx.length);
        cx.push(xi);
        cz.push(zi);
        cw.push(w);
      } else cw[at] = cw[at]! + w;
    }
  }
  return {
    data: {
      x: Float64Array.from(cx),
      zbar: Float64Array.from(cz),
      weight: Float64Array.from(cw),
      length: cx.length,
    },
    included,
    excluded,
  };
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
  let total = 0;
  let gp = 0;
  let gq = 0;
  let gv = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data.x[i]!;
    const z = data.zbar[i]!;
    const w = data.weight[i]!;
    const px = p * x;
    const lnTotal = Math.log(x * z + v);
    const lnZ = Math.log(z);
    const lnX = Math.log(x);
    total +=
      w *
      (gammaln(px + q) - gammaln(px) - lnGammaQ + q * lnV + (px - 1) * lnZ + px * lnX - (px + q) * lnTotal);
    if (gradient) {
      const psiPxQ = digamma(px + q);
      gp += w * x * (psiPxQ - digamma(px) + lnZ + lnX - lnTotal);
      gq += w * (psiPxQ - psiQ + lnV - lnTotal);
      gv += w * (q / v - (px + q) / (x * z + v));
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
  return { ...fitByMaximumLikelihood<GammaGammaParams>(problem, options), excluded: prepared.excluded };
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
