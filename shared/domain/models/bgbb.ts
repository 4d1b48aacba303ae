/**
 * BG/BB (Fader, Hardie & Shang 2010, "Customer-Base Analysis in a Discrete-Time Noncontractual
 * Setting"): customers with discrete transaction opportunities (yearly donations, campaigns).
 *
 * While alive a customer transacts at each opportunity with probability p ~ Beta(α, β) and, after
 * each opportunity, dies with probability θ ~ Beta(γ, δ). Data per customer: x transactions in n
 * opportunities, the last at opportunity t_x (0 when x = 0). With B(·,·) the beta function:
 *
 *   L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
 *     + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)
 *
 * Everything is a probability, so every term is ≤ 0 in log space; sums are taken with logSumExp.
 * Data use the CompressedRfm columns with T = n (the number of opportunities).
 */
import { hyp2f1 } from '../hyp2f1.ts';
import { betaln, gammaln, logSumExp } from '../special.ts';
import { columnMax } from './data-rules.ts';
import { fitByMaximumLikelihood, type LikelihoodProblem } from './fit.ts';
import type { CompressedRfm, FitOptions, FitResult } from './types.ts';

export interface BgBbParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

export const BGBB_PARAM_NAMES = ['alpha', 'beta', 'gamma', 'delta'] as const;

function checkParams(p: BgBbParams): void {
  const { alpha, beta, gamma, delta } = p;
  if (!(alpha > 0 && beta > 0 && gamma > 0 && delta > 0) || !Number.isFinite(alpha + beta + gamma + delta)) {
    throw new RangeError(
      `bgbb: parameters alpha, beta, gamma, delta must be positive finite numbers, got alpha=${alpha}, beta=${beta}, gamma=${gamma}, delta=${delta}`,
    );
  }
}

/** ln L of one customer: x transactions, last at opportunity tx, out of n opportunities. */
export function bgbbCustomerLogLikelihood(params: BgBbParams, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = params;
  const lnBab = betaln(alpha, beta);
  const lnBgd = betaln(gamma, delta);
  const terms: number[] = [betaln(alpha + x, beta + n - x) - lnBab + betaln(gamma, delta + n) - lnBgd];
  for (let i = 0; i <= n - tx - 1; i++) {
    terms.push(betaln(alpha + x, beta + tx - x + i) - lnBab + betaln(gamma + 1, delta + tx + i) - lnBgd);
  }
  return Math.min(0, logSumExp(terms));
}

/** Total weighted log-likelihood at [alpha, beta, gamma, delta]. */
export function bgbbLogLikelihoodAt(params: ArrayLike<number>, data: CompressedRfm): number {
  const p = { alpha: params[0]!, beta: params[1]!, gamma: params[2]!, delta: params[3]! };
  if (!(p.alpha > 0 && p.beta > 0 && p.gamma > 0 && p.delta > 0)) return Number.NaN;
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    total += data.weight[i]! * bgbbCustomerLogLikelihood(p, data.x[i]!, data.tx[i]!, data.T[i]!);
  }
  return total;
}

/** Why the data cannot identify BG/BB, or null. */
export function bgbbDataShortage(data: CompressedRfm): string | null {
  let customers = 0;
  let repeat = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < data.length; i++) {
    const w = data.weight[i]!;
    if (!(w > 0)) continue;
    customers += w;
    if (data.x[i]! > 0) repeat += w;
    distinct.add(`${data.x[i]}|${data.tx[i]}|${data.T[i]}`);
  }
  if (repeat === 0) {
    return `none of the ${customers} customers transacted after the first period (frequency 0 everywhere); BG/BB needs repeat transactions to tell transaction and dropout probabilities apart.`;
  }
  if (distinct.size < 2) {
    return `all ${customers} customers have the same (frequency, recency, periods); BG/BB needs at least 2 different patterns.`;
  }
  return null;
}

/** Checks one row of BG/BB data; returns what is wrong or null. */
export function bgbbRowProblem(x: number, tx: number, n: number): string | null {
  if (!Number.isInteger(n) || n < 1) return `periods must be a whole number ≥ 1, got ${n}`;
  if (!Number.isInteger(x) || x < 0 || x > n)
    return `frequency must be a whole number from 0 to periods (${n}), got ${x}`;
  if (!Number.isInteger(tx) || tx < 0 || tx > n)
    return `recency must be a whole number from 0 to periods (${n}), got ${tx}`;
  if (x === 0 && tx !== 0) return `recency must be 0 when frequency is 0, got ${tx}`;
  if (x > 0 && tx < x)
    return `recency (${tx}) must be at least frequency (${x}): it is the last period with a transaction`;
  return null;
}

export function bgbbProblem(data: CompressedRfm): LikelihoodProblem {
  let customers = 0;
  for (let i = 0; i < data.length; i++) customers += data.weight[i]!;
  return {
    model: 'bgbb',
    paramNames: BGBB_PARAM_NAMES,
    defaultStarts: [
      [1, 1, 1, 1],
      [0.5, 0.5, 0.5, 3],
    ],
    customers,
    rows: data.length,
    hasGradient: false,
    logLikelihood: (params) => bgbbLogLikelihoodAt(params, data),
    maxT: columnMax(data.T),
    insufficientData: () => bgbbDataShortage(data),
  };
}

/** Fits BG/BB by maximum likelihood on the shared harness (lifetimes' penalty: mean −LL + λ Σ p²). */
export function fitBgBb(data: CompressedRfm, options: FitOptions = {}): FitResult<BgBbParams> {
  return fitByMaximumLikelihood<BgBbParams>(bgbbProblem(data), options);
}

/**
 * P(alive at opportunity n + m | x, t_x, n): alive after the last observed opportunity and m more
 * (m = 1: alive at the next opportunity, the paper's P(alive in period n + 1)).
 */
export function bgbbProbabilityAlive(params: BgBbParams, x: number, tx: number, n: number, m = 1): number {
  checkParams(params);
  const { alpha, beta, gamma, delta } = params;
  const numerator =
    betaln(alpha + x, beta + n - x) -
    betaln(alpha, beta) +
    betaln(gamma, delta + n + m) -
    betaln(gamma, delta);
  return Math.min(1, Math.exp(numerator - bgbbCustomerLogLikelihood(params, x, tx, n)));
}

/** ln[Γ(1+δ+k)/Γ(γ+δ+k)]. */
function logSurvivalRatio(gamma: number, delta: number, k: number): number {
  return gammaln(1 + delta + k) - gammaln(gamma + delta + k);
}

/**
 * Expected transactions in the next `future` opportunities (n, n + future] given (x, t_x, n)
 * (Fader, Hardie & Shang 2010, eq. 13).
 */
export function bgbbConditionalExpected(
  params: BgBbParams,
  future: number,
  x: number,
  tx: number,
  n: number,
): number {
  checkParams(params);
  if (!(future > 0)) return 0;
  const { alpha, beta, gamma, delta } = params;
  const lnL = bgbbCustomerLogLikelihood(params, x, tx, n);
  const head =
    betaln(alpha + x + 1, beta + n - x) -
    betaln(alpha, beta) +
    Math.log(delta) -
    Math.log(Math.abs(gamma - 1)) +
    gammaln(gamma + delta) -
    gammaln(1 + delta) -
    lnL;
  if (Math.abs(gamma - 1) < 1e-9) {
    // γ → 1: the bracket / (γ − 1) tends to Σ_{k=1..future} Γ(1+δ+n+k−1)... use the sum of survival.
    return bgbbExpectedBySum(params, future, x, tx, n);
  }
  const first = logSurvivalRatio(gamma, delta, n);
  const second = logSurvivalRatio(gamma, delta, n + future);
  const bracket = Math.exp(first) - Math.exp(second);
  return Math.exp(head) * bracket * Math.sign(gamma - 1);
}

/** Σ_{k=1..future} P(transaction at opportunity n + k | history), term by term. */
function bgbbExpectedBySum(params: BgBbParams, future: number, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = params;
  const lnL = bgbbCustomerLogLikelihood(params, x, tx, n);
  let sum = 0;
  for (let k = 1; k <= future; k++) {
    sum += Math.exp(
      betaln(alpha + x + 1, beta + n - x) -
        betaln(alpha, beta) +
        betaln(gamma, delta + n + k) -
        betaln(gamma, delta) -
        lnL,
    );
  }
  return sum;
}

/**
 * Per future opportunity k = 1..`future`, given (x, t_x, n): the probability of a transaction at
 * opportunity n + k (the k-th term of E[X(k)] − E[X(k−1)]) and of being alive at it
 * (`bgbbProbabilityAlive(…, k)`). Both share B(γ, δ+n+k) and the likelihood, so the series costs one
 * likelihood per customer instead of one per opportunity (what the net CLV of the period families
 * needs per customer).
 */
export function bgbbOpportunitySeries(
  params: BgBbParams,
  future: number,
  x: number,
  tx: number,
  n: number,
): { transaction: Float64Array; alive: Float64Array } {
  checkParams(params);
  const { alpha, beta, gamma, delta } = params;
  const lnL = bgbbCustomerLogLikelihood(params, x, tx, n);
  const base = -betaln(alpha, beta) - betaln(gamma, delta) - lnL;
  const buys = betaln(alpha + x + 1, beta + n - x) + base;
  const lives = betaln(alpha + x, beta + n - x) + base;
  const transaction = new Float64Array(future);
  const alive = new Float64Array(future);
  for (let k = 1; k <= future; k++) {
    const survives = betaln(gamma, delta + n + k);
    transaction[k - 1] = Math.exp(buys + survives);
    alive[k - 1] = Math.min(1, Math.exp(lives + survives));
  }
  return { transaction, alive };
}

/** Unconditional P(X(n) = x): x transactions in the first n opportunities (paper eq. 7). */
export function bgbbProbabilityOfTransactions(params: BgBbParams, n: number, x: number): number {
  checkParams(params);
  const { alpha, beta, gamma, delta } = params;
  const lnBab = betaln(alpha, beta);
  const lnBgd = betaln(gamma, delta);
  const lnChoose = (a: number, b: number) => gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1);
  const terms = [lnChoose(n, x) + betaln(alpha + x, beta + n - x) - lnBab + betaln(gamma, delta + n) - lnBgd];
  for (let i = x; i <= n - 1; i++) {
    terms.push(
      lnChoose(i, x) + betaln(alpha + x, beta + i - x) - lnBab + betaln(gamma + 1, delta + i) - lnBgd,
    );
  }
  return Math.min(1, Math.exp(logSumExp(terms)));
}

/**
 * Discounted expected residual transactions (DERT) at per-opportunity discount rate d, given
 * (x, t_x, n) (Fader, Hardie & Shang 2010, eq. 14): the expected number of future transactions, each
 * discounted by (1 + d)^k for the k-th future opportunity. CLV = DERT × value per transaction.
 */
export function bgbbDiscountedResidualTransactions(
  params: BgBbParams,
  discountRate: number,
  x: number,
  tx: number,
  n: number,
): number {
  checkParams(params);
  if (!(discountRate > 0)) throw new RangeError(`bgbb: the discount rate must be > 0, got ${discountRate}`);
  const { alpha, beta, gamma, delta } = params;
  const lnL = bgbbCustomerLogLikelihood(params, x, tx, n);
  const lead =
    betaln(alpha + x + 1, beta + n - x) -
    betaln(alpha, beta) +
    betaln(gamma, delta + n + 1) -
    betaln(gamma, delta) -
    Math.log1p(discountRate) -
    lnL;
  return Math.exp(lead) * hyp2f1(1, delta + n + 1, gamma + delta + n + 1, 1 / (1 + discountRate));
}
