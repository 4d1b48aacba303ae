/**
 * Special functions used by the BTYD models. The heavy lifting comes from @stdlib (accurate over the
 * whole real line); this module gives them one import point and adds the log-space helpers the
 * likelihoods need so that heavy buyers (x in the thousands) and long histories do not overflow.
 */
import betalnImpl from '@stdlib/math-base-special-betaln';
import digammaImpl from '@stdlib/math-base-special-digamma';
import gammalnImpl from '@stdlib/math-base-special-gammaln';
import trigammaImpl from '@stdlib/math-base-special-trigamma';

/** ln Γ(x) for x > 0. */
export const gammaln: (x: number) => number = gammalnImpl;
/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), without forming Γ values. */
export const betaln: (a: number, b: number) => number = betalnImpl;
/** ψ(x) = d/dx ln Γ(x). */
export const digamma: (x: number) => number = digammaImpl;
/** ψ′(x). */
export const trigamma: (x: number) => number = trigammaImpl;

/** ln(e^u + e^v) without overflow; either argument may be −∞. */
export function logAddExp(u: number, v: number): number {
  if (u === Number.NEGATIVE_INFINITY) return v;
  if (v === Number.NEGATIVE_INFINITY) return u;
  return u > v ? u + Math.log1p(Math.exp(v - u)) : v + Math.log1p(Math.exp(u - v));
}

/** ln Σ e^{values[i]}; −∞ for an empty input. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > max) max = v;
  }
  if (max === Number.NEGATIVE_INFINITY || !Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
}

/** ln(1 + e^z) (softplus), stable for any z. */
export function log1pExp(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** 1 / (1 + e^z) (logistic of −z), stable for any z: exactly 0 for huge z, 1 for very negative z. */
export function inverseOnePlusExp(z: number): number {
  if (z > 0) {
    const e = Math.exp(-z);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(z));
}

/** ln(n!) for n ≥ 0. */
export function logFactorial(n: number): number {
  return gammaln(n + 1);
}

/**
 * ln Γ(x + n) − ln Γ(x) (the log rising factorial (x)_n) without subtracting two huge numbers: for
 * x ≫ n the difference of lnΓ values near 1e300 would be pure rounding, so n·ln x (+ its first
 * correction) is used there.
 */
export function logRising(x: number, n: number): number {
  if (n === 0) return 0;
  if (Number.isInteger(n) && n > 0 && n <= 32) {
    // Few factors: summing their logs keeps full relative accuracy at any x.
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Math.log(x + k);
    return sum;
  }
  if (x > 1e12 * Math.max(1, n * n)) return n * Math.log(x) + (n * (n - 1)) / (2 * x);
  return gammaln(x + n) - gammaln(x);
}
