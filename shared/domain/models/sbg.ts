/**
 * sBG, the shifted-beta-geometric model (Fader & Hardie 2007, "How to Project Customer Retention")
 * for subscriptions: at each renewal opportunity a customer cancels with probability θ ~ Beta(γ, δ).
 *
 * Data per customer: T renewal opportunities observed, recency = renewals made. recency < T: the
 * customer cancelled at opportunity recency + 1, P = B(γ+1, δ+recency)/B(γ,δ); recency = T: still
 * active, S(T) = B(γ, δ+T)/B(γ,δ). Columns use CompressedRfm with tx = recency, T = T (x unused).
 */
import { hyp2f1 } from '../hyp2f1.ts';
import { betaln } from '../special.ts';
import { fitByMaximumLikelihood, type LikelihoodProblem } from './fit.ts';
import type { CompressedRfm, FitOptions, FitResult } from './types.ts';

export interface SbgParams {
  gamma: number;
  delta: number;
}

export const SBG_PARAM_NAMES = ['gamma', 'delta'] as const;

function checkParams(p: SbgParams): void {
  if (!(p.gamma > 0 && p.delta > 0) || !Number.isFinite(p.gamma + p.delta)) {
    throw new RangeError(
      `sbg: parameters gamma, delta must be positive finite numbers, got gamma=${p.gamma}, delta=${p.delta}`,
    );
  }
}

/** ln-probability of one customer's history: cancelled at recency + 1 (recency < T) or active after T. */
export function sbgCustomerLogLikelihood(params: SbgParams, recency: number, T: number): number {
  const { gamma, delta } = params;
  const lnB = betaln(gamma, delta);
  const value = recency < T ? betaln(gamma + 1, delta + recency) - lnB : betaln(gamma, delta + T) - lnB;
  return Math.min(0, value);
}

export function sbgLogLikelihoodAt(params: ArrayLike<number>, data: CompressedRfm): number {
  const p = { gamma: params[0]!, delta: params[1]! };
  if (!(p.gamma > 0 && p.delta > 0)) return Number.NaN;
  let total = 0;
  for (let i = 0; i < data.length; i++)
    total += data.weight[i]! * sbgCustomerLogLikelihood(p, data.tx[i]!, data.T[i]!);
  return total;
}

/** Checks one row; returns what is wrong or null. */
export function sbgRowProblem(recency: number, T: number): string | null {
  if (!Number.isInteger(T) || T < 1)
    return `T (renewal opportunities observed) must be a whole number ≥ 1, got ${T}`;
  if (!Number.isInteger(recency) || recency < 0 || recency > T)
    return `recency (renewals made) must be a whole number from 0 to T (${T}), got ${recency}`;
  return null;
}

/** Why the data cannot identify sBG, or null. */
export function sbgDataShortage(data: CompressedRfm): string | null {
  let cancelled = 0;
  let customers = 0;
  const cancelAt = new Set<number>();
  const horizons = new Set<number>();
  for (let i = 0; i < data.length; i++) {
    const w = data.weight[i]!;
    if (!(w > 0)) continue;
    customers += w;
    horizons.add(data.T[i]!);
    if (data.tx[i]! < data.T[i]!) {
      cancelled += w;
      cancelAt.add(data.tx[i]!);
    }
  }
  if (cancelled === 0) {
    return `none of the ${customers} customers cancelled, so the churn probability cannot be estimated; sBG needs cancellations.`;
  }
  if (cancelAt.size < 2 && horizons.size < 2 && cancelled === customers) {
    return `every customer cancelled at the same opportunity; sBG needs cancellations at 2 or more opportunities (or active customers) to tell γ and δ apart.`;
  }
  return null;
}

export function sbgProblem(data: CompressedRfm): LikelihoodProblem {
  let customers = 0;
  for (let i = 0; i < data.length; i++) customers += data.weight[i]!;
  return {
    model: 'sbg',
    paramNames: SBG_PARAM_NAMES,
    defaultStarts: [
      [1, 1],
      [0.5, 3],
    ],
    customers,
    rows: data.length,
    hasGradient: false,
    logLikelihood: (params) => sbgLogLikelihoodAt(params, data),
    insufficientData: () => sbgDataShortage(data),
  };
}

export function fitSbg(data: CompressedRfm, options: FitOptions = {}): FitResult<SbgParams> {
  return fitByMaximumLikelihood<SbgParams>(sbgProblem(data), options);
}

/** S(t) = P(still subscribed after t renewal opportunities) = B(γ, δ+t)/B(γ, δ). */
export function sbgSurvival(params: SbgParams, t: number): number {
  checkParams(params);
  return Math.exp(betaln(params.gamma, params.delta + t) - betaln(params.gamma, params.delta));
}

/** Retention rate at opportunity t: S(t)/S(t−1) = (δ + t − 1)/(γ + δ + t − 1), rising with t. */
export function sbgRetention(params: SbgParams, t: number): number {
  checkParams(params);
  return (params.delta + t - 1) / (params.gamma + params.delta + t - 1);
}

/** Survivors of a cohort of `size` after 0..horizon opportunities. */
export function sbgSurvivalCurve(params: SbgParams, horizon: number, size = 1): number[] {
  return Array.from({ length: horizon + 1 }, (_, t) => size * sbgSurvival(params, t));
}

/**
 * Discounted expected residual lifetime of a customer active after `renewals` renewals: expected
 * number of future renewals, the k-th discounted by (1 + d)^k, i.e. Σ_{k≥1} S(n+k)/S(n) (1+d)^−k
 * = 2F1(1, δ+n; γ+δ+n; 1/(1+d)) − 1. Multiply by the value of one renewal for the residual CLV
 * (add 1 for a payment due now).
 */
export function sbgDiscountedResidualLifetime(
  params: SbgParams,
  discountRate: number,
  renewals: number,
): number {
  checkParams(params);
  if (!(discountRate > 0)) throw new RangeError(`sbg: the discount rate must be > 0, got ${discountRate}`);
  const { gamma, delta } = params;
  return hyp2f1(1, delta + renewals, gamma + delta + renewals, 1 / (1 + discountRate)) - 1;
}

/** P(active at opportunity T + m | active after T renewals) = S(T+m)/S(T). */
export function sbgProbabilityAlive(params: SbgParams, recency: number, T: number, m = 0): number {
  checkParams(params);
  if (recency < T) return 0;
  return Math.exp(betaln(params.gamma, params.delta + T + m) - betaln(params.gamma, params.delta + T));
}
