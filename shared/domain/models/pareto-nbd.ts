/**
 * Pareto/NBD (Schmittlein, Morrison & Colombo 1987): while alive a customer buys as a Poisson process
 * with rate λ ~ Gamma(r, α) and stays alive for an exponential lifetime with rate μ ~ Gamma(s, β).
 *
 * Likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions"):
 *
 *   L(x, t_x, T) = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · (G(t_x) − G(T)) ]
 *
 * where G(t) = (r+s+x) ∫_t^∞ (α+τ)^−(r+x) (β+τ)^−(s+1) dτ. The note writes G with
 * 2F1(r+s+x, s+1; r+s+x+1; ·) (α ≥ β) or 2F1(r+s+x, r+x; r+s+x+1; ·) (α < β); applying Euler's
 * transformation to those gives the form used here, whose 2F1 has first parameter 1:
 *
 *   α ≥ β:  G(t) = (α+t)^−(r+x) (β+t)^−s      · 2F1(1, r+x; r+s+x+1; (α−β)/(α+t))
 *   α < β:  G(t) = (α+t)^(1−r−x) (β+t)^−(s+1) · 2F1(1, s+1; r+s+x+1; (β−α)/(β+t))
 *
 * That 2F1 lies between 1 and 1/(1 − z): it cannot overflow, its series has positive decreasing terms
 * (a handful of them for typical parameters) and all powers stay in log space, so x in the thousands
 * and T of a million neither overflow nor underflow. The original form's 2F1 carries a factor
 * (1 − z)^−(r+x−1) (α < β) and needs log-space evaluation for heavy buyers. The same series also
 * gives ∂2F1/∂b, ∂c and ∂z, so the fit runs on the analytic gradient.
 *
 * Predictions follow the same note and Fader, Hardie & Lee's P(X(t) = x) note; they agree with the
 * BTYD (R) and lifetimes (Python) libraries.
 */
import { hyp2f1, signedLogHyp2f1 } from '../hyp2f1.ts';
import { integrate } from '../quadrature.ts';
import { betaln, digamma, gammaln, logAddExp, logSumExp } from '../special.ts';
import { columnMax, penalizerCuresPurchaseShortage, purchaseDataShortage } from './data-rules.ts';
import { fitByMaximumLikelihood, type LikelihoodProblem } from './fit.ts';
import type { CompressedRfm, FitOptions, FitResult, ParetoNbdParams, PurchasePredictor } from './types.ts';

export const PARETO_PARAM_NAMES = ['r', 'alpha', 's', 'beta'] as const;

/** (1 − e^(k·u)) / k for u ≤ 0, continuous through k = 0 (where it tends to −u). */
function oneMinusPowerOverExponent(k: number, u: number): number {
  const v = k * u;
  // expm1(v)/v → 1 as v → 0; below 1e−8 the second-order term is beneath double precision.
  const ratio = Math.abs(v) < 1e-8 ? 1 + v / 2 : Math.expm1(v) / v;
  return -u * ratio;
}

/**
 * ln G(t) for one customer; G as in the module comment. `rx` = r + x, `rsx` = r + s + x.
 */
function logG(alpha: number, s: number, beta: number, rx: number, rsx: number, t: number): number {
  const at = alpha + t;
  const bt = beta + t;
  if (alpha >= beta) {
    const f = hyp2f1(1, rx, rsx + 1, (alpha - beta) / at);
    return -rx * Math.log(at) - s * Math.log(bt) + Math.log(f);
  }
  const f = hyp2f1(1, s + 1, rsx + 1, (beta - alpha) / bt);
  return (1 - rx) * Math.log(at) - (s + 1) * Math.log(bt) + Math.log(f);
}

/**
 * ln of the bracket in L without its Γ(r+x) α^r β^s / Γ(r) factor, split into its two parts:
 * `alive` = ln[(α+T)^−(r+x) (β+T)^−s] (the customer is still alive at T) and `total` = ln of the
 * whole bracket. P(alive) = exp(alive − total).
 */
function logBracket(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  tx: number,
  T: number,
  out: { alive: number; total: number },
): void {
  const rx = r + x;
  const rsx = rx + s;
  const alive = -rx * Math.log(alpha + T) - s * Math.log(beta + T);
  out.alive = alive;
  if (!(tx < T)) {
    // Bought at the very end of the window: no room to have died unobserved after t_x.
    out.total = alive;
    return;
  }
  const atTx = logG(alpha, s, beta, rx, rsx, tx);
  const atT = logG(alpha, s, beta, rx, rsx, T);
  // G decreases in t, so G(t_x) − G(T) > 0; rounding can still make it ≤ 0 when t_x ≈ T.
  const difference = atT < atTx ? atTx + Math.log1p(-Math.exp(atT - atTx)) : Number.NEGATIVE_INFINITY;
  out.total = logAddExp(alive, Math.log(s) - Math.log(rsx) + difference);
}

function assertParams(params: ParetoNbdParams): void {
  const { r, alpha, s, beta } = params;
  if (!(r > 0 && alpha > 0 && s > 0 && beta > 0) || !Number.isFinite(r + alpha + s + beta)) {
    throw new RangeError(
      `pareto: parameters r, alpha, s, beta must be positive finite numbers, got r=${r}, alpha=${alpha}, s=${s}, beta=${beta}`,
    );
  }
}

/** Log-likelihood of one customer (unweighted). */
export function paretoNbdCustomerLogLikelihood(
  params: ParetoNbdParams,
  x: number,
  tx: number,
  T: number,
): number {
  const { r, alpha, s, beta } = params;
  const parts = { alive: 0, total: 0 };
  logBracket(r, alpha, s, beta, x, tx, T, parts);
  const value = gammaln(r + x) - gammaln(r) + r * Math.log(alpha) + s * Math.log(beta) + parts.total;
  return x === 0 ? checkedNoRepeatLogProbability(value, r, alpha, s, beta, T) : value;
}

/**
 * ln P(no repeat purchase in (0, T]), the likelihood of a row with x = 0, by quadrature. A customer
 * who dies at ω buys nothing before min(ω, T) with probability (α/(α+min(ω, T)))^r; integrating by
 * parts over the Pareto lifetime, with U = ln(1 + T/α), u(τ) = ln(1 + τ/α) and v = 1 − e^(−r·u):
 *
 *   P = e^(−rU) + ∫_0^{1−e^(−rU)} (1 − S(τ(v))) dv,   S(τ) = (β/(β+τ))^s.
 *
 * Both terms are ≥ 0 and P ≤ 1, so ln P is finite and lies in [−rU, 0] for any parameters — unlike
 * the closed form, whose hypergeometric terms lose all accuracy in extreme corners (r or s near
 * 1e−300, z → 1) and there returned +∞ or a positive log-probability.
 */
export function paretoNbdNoRepeatLogProbability(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  T: number,
): number {
  const logNeverBought = -r * Math.log1p(T / alpha);
  const end = -Math.expm1(logNeverBought);
  const diedBeforeBuying = integrate(
    (v) => {
      const tau = alpha * Math.expm1(-Math.log1p(-v) / r);
      return -Math.expm1(-s * Math.log1p(tau / beta));
    },
    0,
    end,
  );
  const value = diedBeforeBuying > 0 ? logAddExp(logNeverBought, Math.log(diedBeforeBuying)) : logNeverBought;
  return Math.min(0, value);
}

/**
 * The closed-form ln P of an x = 0 row when it lies where a log-probability must (within
 * [−r ln(1 + T/α), 0], with rounding room), else the quadrature's value.
 */
function checkedNoRepeatLogProbability(
  closedForm: number,
  r: number,
  alpha: number,
  s: number,
  beta: number,
  T: number,
): number {
  const lower = -r * Math.log1p(T / alpha);
  if (closedForm <= 0 && closedForm >= lower * (1 + 1e-9) - 1e-300) return closedForm;
  return paretoNbdNoRepeatLogProbability(r, alpha, s, beta, T);
}

/** ∂/∂[r, α, s, β] of the quadrature's ln P by central differences (only in the corners it serves). */
function noRepeatGradient(r: number, alpha: number, s: number, beta: number, T: number, out: number[]): void {
  const params = [r, alpha, s, beta];
  for (let i = 0; i < 4; i++) {
    const h = params[i]! * 1e-6;
    const up = [...params];
    const down = [...params];
    up[i] = params[i]! + h;
    down[i] = params[i]! - h;
    out[i] =
      (paretoNbdNoRepeatLogProbability(up[0]!, up[1]!, up[2]!, up[3]!, T) -
        paretoNbdNoRepeatLogProbability(down[0]!, down[1]!, down[2]!, down[3]!, T)) /
      (2 * h);
  }
}

/**
 * Total weighted log-likelihood at params [r, alpha, s, beta] (natural scale); NaN outside the
 * parameter space. With `gradient`, also writes ∂LL/∂[r, alpha, s, beta] into it. lnΓ(r + x) and
 * ψ(r + x) are computed once per distinct x.
 */
export function paretoNbdLogLikelihoodAt(
  params: ArrayLike<number>,
  data: CompressedRfm,
  gradient?: Float64Array,
): number {
  const r = params[0]!;
  const alpha = params[1]!;
  const s = params[2]!;
  const beta = params[3]!;
  if (!(r > 0 && alpha > 0 && s > 0 && beta > 0)) return Number.NaN;
  if (gradient) return logLikelihoodWithGradient(r, alpha, s, beta, data, gradient);
  const constant = -gammaln(r) + r * Math.log(alpha) + s * Math.log(beta);
  const logGammaRx = new Map<number, number>();
  const parts = { alive: 0, total: 0 };
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data.x[i]!;
    let lg = logGammaRx.get(x);
    if (lg === undefined) {
      lg = gammaln(r + x);
      logGammaRx.set(x, lg);
    }
    logBracket(r, alpha, s, beta, x, data.tx[i]!, data.T[i]!, parts);
    const value = lg + constant + parts.total;
    total +=
      data.weight[i]! *
      (x === 0 ? checkedNoRepeatLogProbability(value, r, alpha, s, beta, data.T[i]!) : value);
  }
  return total;
}

/** Past this z the derivative series is slow; the general 2F1 and its contiguous relation take over. */
const DERIVATIVE_SERIES_LIMIT = 0.9;

/**
 * F = 2F1(1, b; c; z) = Σ (b)_n/(c)_n z^n with ∂F/∂b, ∂F/∂c and ∂F/∂z, written into
 * out[0..3]. For z ≤ 0.9 one pass over the series gives all four (terms are positive, and
 * ∂ ln term_n/∂b = Σ_{k<n} 1/(b+k)); above, F and ∂F/∂z = (b/c) 2F1(2, b+1; c+1; z) come from the
 * general 2F1 and the parameter derivatives from a fourth-order central difference. Its step (1e−3
 * relative) is deliberately wide: c − 1 − b is often an integer (s = 1, r + x = 2, …), where 2F1 takes
 * the logarithmic connection formula, and steps much closer to it would land where the ordinary
 * formula cancels.
 */
function unitHyp2f1WithDerivatives(b: number, c: number, z: number, out: Float64Array): void {
  if (z > DERIVATIVE_SERIES_LIMIT) {
    const derivative = (f: (h: number) => number, h: number) =>
      (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
    out[0] = hyp2f1(1, b, c, z);
    out[1] = derivative((h) => hyp2f1(1, b + h, c, z), 1e-3 * Math.max(1, b));
    out[2] = derivative((h) => hyp2f1(1, b, c + h, z), 1e-3 * Math.max(1, c));
    out[3] = (b / c) * hyp2f1(2, b + 1, c + 1, z);
    return;
  }
  let term = 1;
  let sum = 1;
  let sumB = 0;
  let sumC = 0;
  let sumZ = 0;
  let harmonicB = 0;
  let harmonicC = 0;
  for (let n = 0; n < 100_000; n++) {
    harmonicB += 1 / (b + n);
    harmonicC += 1 / (c + n);
    const ratio = ((b + n) / (c + n)) * z;
    term *= ratio;
    sum += term;
    sumB += term * harmonicB;
    sumC -= term * harmonicC;
    sumZ += (n + 1) * term;
    // The ratio rises towards z (b < c), so z bounds the remaining ratios; the derivative sums carry
    // weights up to ~n, hence the (n + 2)/(1 − z)² tail factor.
    if (term * (n + 2) * (1 + harmonicB + harmonicC) <= 1e-16 * sum * (1 - z) * (1 - z)) break;
  }
  out[0] = sum;
  out[1] = sumB;
  out[2] = sumC;
  out[3] = z > 0 ? sumZ / z : b / c;
}

/**
 * ln G(t) (see the module comment) and its partial derivatives, into out = [ln G, ∂/∂r, ∂/∂α, ∂/∂s, ∂/∂β].
 * `series` is a scratch buffer of length 4.
 */
function logGWithGradient(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  t: number,
  out: Float64Array,
  series: Float64Array,
): void {
  const rx = r + x;
  const c = rx + s + 1;
  const at = alpha + t;
  const bt = beta + t;
  const logAt = Math.log(at);
  const logBt = Math.log(bt);
  if (alpha >= beta) {
    // ln G = −(r+x) ln(α+t) − s ln(β+t) + ln F(1, r+x; r+s+x+1; (α−β)/(α+t))
    unitHyp2f1WithDerivatives(rx, c, (alpha - beta) / at, series);
    const f = series[0]!;
    const dB = series[1]! / f;
    const dC = series[2]! / f;
    const dZ = series[3]! / f;
    out[0] = -rx * logAt - s * logBt + Math.log(f);
    out[1] = -logAt + dB + dC;
    out[2] = -rx / at + (dZ * bt) / (at * at);
    out[3] = -logBt + dC;
    out[4] = -s / bt - dZ / at;
    return;
  }
  // ln G = (1−r−x) ln(α+t) − (s+1) ln(β+t) + ln F(1, s+1; r+s+x+1; (β−α)/(β+t))
  unitHyp2f1WithDerivatives(s + 1, c, (beta - alpha) / bt, series);
  const f = series[0]!;
  const dB = series[1]! / f;
  const dC = series[2]! / f;
  const dZ = series[3]! / f;
  out[0] = (1 - rx) * logAt - (s + 1) * logBt + Math.log(f);
  out[1] = -logAt + dC;
  out[2] = (1 - rx) / at - dZ / bt;
  out[3] = -logBt + dB + dC;
  out[4] = -(s + 1) / bt + (dZ * at) / (bt * bt);
}

/**
 * Value and gradient in one pass. With W the likelihood bracket (module comment),
 * ∂ ln W = w_A ∂ ln A + w_D ∂ ln K + (K G(t_x)/W) ∂ ln G(t_x) − (K G(T)/W) ∂ ln G(T), where
 * A = (α+T)^−(r+x) (β+T)^−s, K = s/(r+s+x), D = G(t_x) − G(T) and the weights w_A = A/W, w_D = K D/W.
 * Each weight is formed in log space, so no ratio of huge numbers appears.
 */
function logLikelihoodWithGradient(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  data: CompressedRfm,
  gradient: Float64Array,
): number {
  const logAlpha = Math.log(alpha);
  const logBeta = Math.log(beta);
  const logGammaR = gammaln(r);
  const digammaR = digamma(r);
  const perX = new Map<number, { logGamma: number; digamma: number }>();
  const atTx = new Float64Array(5);
  const atT = new Float64Array(5);
  const series = new Float64Array(4);
  const cornerGradient = [0, 0, 0, 0];
  let total = 0;
  let gradR = 0;
  let gradAlpha = 0;
  let gradS = 0;
  let gradBeta = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data.x[i]!;
    const tx = data.tx[i]!;
    const T = data.T[i]!;
    const w = data.weight[i]!;
    let xTerms = perX.get(x);
    if (xTerms === undefined) {
      xTerms = { logGamma: gammaln(r + x), digamma: digamma(r + x) };
      perX.set(x, xTerms);
    }
    const rx = r + x;
    const rsx = rx + s;
    const aT = alpha + T;
    const bT = beta + T;
    const logAT = Math.log(aT);
    const logBT = Math.log(bT);
    const logA = -rx * logAT - s * logBT;
    let logW = logA;
    let dR = -logAT;
    let dAlpha = -rx / aT;
    let dS = -logBT;
    let dBeta = -s / bT;
    if (tx < T) {
      logGWithGradient(r, alpha, s, beta, x, tx, atTx, series);
      logGWithGradient(r, alpha, s, beta, x, T, atT, series);
      const logGTx = atTx[0]!;
      const logGT = atT[0]!;
      if (logGT < logGTx) {
        const logK = Math.log(s) - Math.log(rsx);
        const logD = logGTx + Math.log1p(-Math.exp(logGT - logGTx));
        logW = logAddExp(logA, logK + logD);
        const weightA = Math.exp(logA - logW);
        const weightD = Math.exp(logK + logD - logW);
        const weightTx = Math.exp(logK + logGTx - logW);
        const weightT = Math.exp(logK + logGT - logW);
        dR = weightA * dR + weightD * (-1 / rsx) + weightTx * atTx[1]! - weightT * atT[1]!;
        dAlpha = weightA * dAlpha + weightTx * atTx[2]! - weightT * atT[2]!;
        dS = weightA * dS + weightD * (1 / s - 1 / rsx) + weightTx * atTx[3]! - weightT * atT[3]!;
        dBeta = weightA * dBeta + weightTx * atTx[4]! - weightT * atT[4]!;
      }
    }
    const value = xTerms.logGamma - logGammaR + r * logAlpha + s * logBeta + logW;
    if (x === 0) {
      const checked = checkedNoRepeatLogProbability(value, r, alpha, s, beta, T);
      if (checked !== value) {
        noRepeatGradient(r, alpha, s, beta, T, cornerGradient);
        total += w * checked;
        gradR += w * cornerGradient[0]!;
        gradAlpha += w * cornerGradient[1]!;
        gradS += w * cornerGradient[2]!;
        gradBeta += w * cornerGradient[3]!;
        continue;
      }
    }
    total += w * value;
    gradR += w * (xTerms.digamma - digammaR + logAlpha + dR);
    gradAlpha += w * (r / alpha + dAlpha);
    gradS += w * (logBeta + dS);
    gradBeta += w * (s / beta + dBeta);
  }
  gradient[0] = gradR;
  gradient[1] = gradAlpha;
  gradient[2] = gradS;
  gradient[3] = gradBeta;
  return total;
}

/** Total weighted Pareto/NBD log-likelihood of `data`. */
export function paretoNbdLogLikelihood(params: ParetoNbdParams, data: CompressedRfm): number {
  return paretoNbdLogLikelihoodAt([params.r, params.alpha, params.s, params.beta], data);
}

/** A likelihood problem for the shared fit harness, with the analytic gradient. */
export function paretoNbdProblem(data: CompressedRfm): LikelihoodProblem {
  let customers = 0;
  let weightedT = 0;
  for (let i = 0; i < data.length; i++) {
    customers += data.weight[i]!;
    weightedT += data.weight[i]! * data.T[i]!;
  }
  const meanT = customers > 0 ? weightedT / customers : 1;
  // Starts: one scaled to the data's time unit (α and β are in time units, so days vs weeks shifts
  // them by 7), one at the lifetimes default of all ones.
  const timeScale = Math.max(meanT / 3, 1e-3);
  return {
    model: 'pareto',
    paramNames: PARETO_PARAM_NAMES,
    defaultStarts: [
      [0.5, timeScale, 0.5, timeScale],
      [1, 1, 1, 1],
    ],
    customers,
    rows: data.length,
    hasGradient: true,
    logLikelihood: (params, gradient) => paretoNbdLogLikelihoodAt(params, data, gradient),
    timeParams: [1, 3],
    penalizeTotal: true,
    maxT: columnMax(data.T),
    insufficientData: () => purchaseDataShortage(data),
    penalizerCuresShortage: () => penalizerCuresPurchaseShortage(data),
  };
}

/** Fits Pareto/NBD by maximum likelihood on the shared harness (penalizer, starts, tolerances: FitOptions). */
export function fitParetoNbd(data: CompressedRfm, options: FitOptions = {}): FitResult<ParetoNbdParams> {
  return fitByMaximumLikelihood<ParetoNbdParams>(paretoNbdProblem(data), options);
}

// ---------------------------------------------------------------------------------------------
// Predictions

/** P(alive at T | x, t_x, T). */
export function paretoNbdProbabilityAlive(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  assertParams(params);
  const parts = { alive: 0, total: 0 };
  logBracket(params.r, params.alpha, params.s, params.beta, x, tx, T, parts);
  return Math.min(1, Math.exp(parts.alive - parts.total));
}

/**
 * E[purchases in (T, T + t] | x, t_x, T] = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)],
 * continuous through s = 1 (where the bracket over s − 1 becomes ln((β+T+t)/(β+T))).
 */
export function paretoNbdConditionalExpected(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  const out = new Float64Array(1);
  createParetoNbdPredictor(params).conditionalExpectedCurve(Float64Array.of(t), x, tx, T, out);
  return out[0]!;
}

/** E[X(t)]: expected repeat purchases in (0, t] of a customer who made the first purchase at 0. */
export function paretoNbdExpected(params: ParetoNbdParams, t: number): number {
  assertParams(params);
  const { r, alpha, s, beta } = params;
  if (!(t > 0)) return 0;
  // rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)]
  return ((r * beta) / alpha) * oneMinusPowerOverExponent(s - 1, -Math.log1p(t / beta));
}

/**
 * P(X(t) = n): probability of exactly n repeat purchases in (0, t] (Fader, Hardie & Lee, "Deriving
 * an Expression for P(X(t) = x) Under the Pareto/NBD Model"):
 *
 *   Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n (β/(β+t))^s
 *   + α^r β^s B(r+n, s+1)/B(r, s) · [B₁ − Σ_{i=0}^{n} Γ(r+s+i)/Γ(r+s) t^i/i! · B₂(i)]
 *
 * with, for α ≥ β, B₁ = 2F1(r+s, s+1; r+s+n+1; (α−β)/α) / α^(r+s) and
 * B₂(i) = 2F1(r+s+i, s+1; r+s+n+1; (α−β)/(α+t)) / (α+t)^(r+s+i); for α < β the same with α and β
 * swapped in the arguments and s+1 replaced by r+n. Terms are combined in log space; the bracket is
 * the probability of dying before t after n purchases and is clamped at 0 against rounding.
 */
export function paretoNbdProbabilityOfPurchases(params: ParetoNbdParams, t: number, n: number): number {
  assertParams(params);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`pareto: n must be a non-negative integer, got ${n}`);
  const { r, alpha, s, beta } = params;
  if (!(t > 0)) return n === 0 ? 1 : 0;
  const logAliveTerm =
    gammaln(r + n) -
    gammaln(r) -
    gammaln(n + 1) +
    r * Math.log(alpha / (alpha + t)) +
    (n === 0 ? 0 : n * Math.log(t / (alpha + t))) +
    s * Math.log(beta / (beta + t));

  const alphaLarger = alpha >= beta;
  const big = alphaLarger ? alpha : beta;
  const small = alphaLarger ? beta : alpha;
  const second = alphaLarger ? s + 1 : r + n;
  const c = r + s + n + 1;
  const logB1 = logPositiveHyp2f1(r + s, second, c, (big - small) / big) - (r + s) * Math.log(big);
  const logTerms = new Float64Array(n + 1);
  const zt = (big - small) / (big + t);
  const logBigT = Math.log(big + t);
  const logT = Math.log(t);
  const logGammaRs = gammaln(r + s);
  for (let i = 0; i <= n; i++) {
    logTerms[i] =
      gammaln(r + s + i) -
      logGammaRs +
      i * logT -
      gammaln(i + 1) +
      logPositiveHyp2f1(r + s + i, second, c, zt) -
      (r + s + i) * logBigT;
  }
  const logSubtracted = logSumExp(logTerms);
  const logDeadTerm =
    logSubtracted < logB1
      ? r * Math.log(alpha) +
        s * Math.log(beta) +
        betaln(r + n, s + 1) -
        betaln(r, s) +
        logB1 +
        Math.log1p(-Math.exp(logSubtracted - logB1))
      : Number.NEGATIVE_INFINITY;
  return Math.min(1, Math.exp(logAliveTerm) + Math.exp(logDeadTerm));
}

/** ln 2F1 for arguments where 2F1 is positive (all parameters positive, 0 ≤ z < 1). */
function logPositiveHyp2f1(a: number, b: number, c: number, z: number): number {
  return signedLogHyp2f1(a, b, c, z).logAbs;
}

/** Predictions for one parameter set (the scoring interface shared by all purchase models). */
export function createParetoNbdPredictor(params: ParetoNbdParams): PurchasePredictor {
  assertParams(params);
  const { r, alpha, s, beta } = params;
  const parts = { alive: 0, total: 0 };
  // Scoring asks for P(alive) and then the expectation curve of the same customer; the curve needs
  // P(alive) too, so the last one is remembered instead of evaluating the 2F1s twice.
  let lastX = Number.NaN;
  let lastTx = Number.NaN;
  let lastT = Number.NaN;
  let lastAlive = Number.NaN;
  const probabilityAlive = (x: number, tx: number, T: number): number => {
    if (x === lastX && tx === lastTx && T === lastT) return lastAlive;
    logBracket(r, alpha, s, beta, x, tx, T, parts);
    lastX = x;
    lastTx = tx;
    lastT = T;
    lastAlive = Math.min(1, Math.exp(parts.alive - parts.total));
    return lastAlive;
  };
  return {
    probabilityAlive,
    conditionalExpectedCurve(times, x, tx, T, out) {
      const factor = (probabilityAlive(x, tx, T) * (r + x) * (beta + T)) / (alpha + T);
      for (let j = 0; j < times.length; j++) {
        const t = times[j]!;
        out[j] = t > 0 ? factor * oneMinusPowerOverExponent(s - 1, -Math.log1p(t / (beta + T))) : 0;
      }
    },
  };
}
