/**
 * Per-customer predictions of a fitted model for `cvm predict`: P(alive), expected purchases and the
 * conditional distribution of the number of purchases over a horizon, expected spend and CLV for the
 * purchase models; P(alive), expected transactions and discounted residual value for BG/BB and sBG.
 */
import { type CustomersToScore, scoreCustomers } from './clv.ts';
import {
  type BgBbParams,
  bgbbConditionalExpected,
  bgbbDiscountedResidualTransactions,
  bgbbProbabilityAlive,
} from './models/bgbb.ts';
import { paretoNbdProbabilityOfPurchases } from './models/pareto-nbd.ts';
import { type SbgParams, sbgDiscountedResidualLifetime, sbgProbabilityAlive } from './models/sbg.ts';
import type { GammaGammaParams, PurchaseModelName } from './models/types.ts';
import type { TimeUnit } from './rfm-summary.ts';

export interface PredictionSettings {
  /** Time unit of the summary and of the model's rates. */
  unit: TimeUnit;
  /** Horizon of the expected purchases and of P(X = n), in the data's unit. */
  horizon: number;
  /** Largest n of the P(X = n) columns (0..maxN). */
  maxN: number;
  /** CLV horizon in months, yearly discount rate and margin (see clv.ts). */
  horizonMonths: number;
  annualDiscountRate: number;
  margin: number;
}

/** Predictions of one batch of customers, columnar, in input order. */
export interface PurchasePredictions {
  length: number;
  probabilityAlive: Float64Array;
  /** Expected repeat purchases in (T, T + horizon]. */
  expectedPurchases: Float64Array;
  /** probabilityOfPurchases[n][i] = P(X = n purchases in (T, T + horizon] | customer i's history). */
  probabilityOfPurchases: Float64Array[];
  /** Expected value per purchase and CLV; null without spend data and a spend model. */
  expectedSpend: Float64Array | null;
  clv: Float64Array | null;
}

/**
 * Conditional P(X(t) = n | x, t_x, T) for n = 0..out.length−1, given P(alive) of the customer.
 *
 * An alive customer's future is the model's own process with updated parameters: purchase rate
 * λ ~ Gamma(r + x, α + T) in every model; BG/NBD and MBG/NBD dropout p ~ Beta(a, b + x + shift)
 * (the customer survived x + shift coin flips; future dropouts follow purchases only), Pareto/NBD
 * dropout rate μ ~ Gamma(s, β + T). So P(X = n | history) = P(alive) · P_future(X(t) = n) + (1 −
 * P(alive)) · [n = 0] (lifetimes' `conditional_probability_of_n_purchases_up_to_time`).
 */
export function conditionalPurchaseProbabilities(
  model: PurchaseModelName,
  params: Readonly<Record<string, number>>,
  t: number,
  x: number,
  T: number,
  probabilityAlive: number,
  out: Float64Array,
): void {
  const K = out.length - 1;
  if (!(t > 0)) {
    out.fill(0);
    out[0] = 1;
    return;
  }
  const r = params['r']! + x;
  const alpha = params['alpha']! + T;
  if (model === 'pareto') {
    const future = { r, alpha, s: params['s']!, beta: params['beta']! + T };
    for (let n = 0; n <= K; n++) out[n] = probabilityAlive * paretoNbdProbabilityOfPurchases(future, t, n);
  } else {
    const a = params['a']!;
    const b = params['b']! + x + (model === 'mbgnbd' ? 1 : 0);
    // Negative binomial terms NB(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j, by recurrence.
    const q = t / (alpha + t);
    let nb = Math.exp(-r * Math.log1p(t / alpha));
    // B(a, b+n)/B(a, b) = Π_{k<n} (b+k)/(a+b+k).
    let betaRatio = 1;
    let previousRatio = 1;
    let cumulative = 0;
    for (let n = 0; n <= K; n++) {
      let p = betaRatio * nb;
      if (n > 0) {
        // Dropped out right after the n-th purchase: B(a+1, b+n−1)/B(a, b) · P(≥ n purchases).
        p += previousRatio * (a / (a + b + n - 1)) * Math.max(0, 1 - cumulative);
      }
      out[n] = probabilityAlive * p;
      cumulative += nb;
      nb *= ((r + n) / (n + 1)) * q;
      previousRatio = betaRatio;
      betaRatio *= (b + n) / (a + b + n);
    }
  }
  out[0] = out[0]! + (1 - probabilityAlive);
}

/**
 * Scores a batch of customers of a purchase model. Spend and CLV need both the customers' mean
 * repeat values and Gamma-Gamma parameters; otherwise they are null.
 */
export function predictPurchases(
  model: PurchaseModelName,
  params: Readonly<Record<string, number>>,
  spend: GammaGammaParams | null,
  customers: CustomersToScore,
  settings: PredictionSettings,
): PurchasePredictions {
  const n = customers.x.length;
  const withSpend = spend !== null && customers.monetaryValue !== undefined;
  const scores = scoreCustomers(
    model,
    params,
    withSpend ? spend : null,
    withSpend ? customers : { ...customers, monetaryValue: new Float64Array(n) },
    {
      unit: settings.unit,
      horizonMonths: settings.horizonMonths,
      annualDiscountRate: settings.annualDiscountRate,
      margin: settings.margin,
      expectedPurchasesHorizon: settings.horizon,
    },
  );
  const K = settings.maxN;
  const probabilityOfPurchases = Array.from({ length: K + 1 }, () => new Float64Array(n));
  const row = new Float64Array(K + 1);
  for (let i = 0; i < n; i++) {
    conditionalPurchaseProbabilities(
      model,
      params,
      settings.horizon,
      customers.x[i]!,
      customers.T[i]!,
      scores.probabilityAlive[i]!,
      row,
    );
    for (let k = 0; k <= K; k++) probabilityOfPurchases[k]![i] = row[k]!;
  }
  return {
    length: n,
    probabilityAlive: scores.probabilityAlive,
    expectedPurchases: scores.expectedPurchases,
    probabilityOfPurchases,
    expectedSpend: withSpend ? scores.expectedSpend : null,
    clv: withSpend ? scores.clv : null,
  };
}

/** Predictions of BG/BB (donors) or sBG (subscribers) per summary row. */
export interface DiscretePredictions {
  length: number;
  /** BG/BB: P(alive at the next opportunity); sBG: P(still subscribed at the next renewal). */
  probabilityAlive: Float64Array;
  /** BG/BB: expected transactions, sBG: expected renewals, in the next `horizon` opportunities. */
  expected: Float64Array;
  /**
   * BG/BB: discounted expected residual transactions (DERT); sBG: discounted expected residual
   * lifetime (DERL, 0 once cancelled); discount rate per opportunity.
   */
  discountedResidual: Float64Array;
}

/**
 * BG/BB rows are (frequency x, recency t_x, periods n); sBG rows are (recency = renewals made,
 * T = renewal opportunities), cancelled when recency < T.
 */
export function predictDiscrete(
  model: 'bgbb' | 'sbg',
  params: Readonly<Record<string, number>>,
  rows: { x: ArrayLike<number>; tx: ArrayLike<number>; T: ArrayLike<number>; length: number },
  horizon: number,
  discountRatePerOpportunity: number,
): DiscretePredictions {
  const n = rows.length;
  const out: DiscretePredictions = {
    length: n,
    probabilityAlive: new Float64Array(n),
    expected: new Float64Array(n),
    discountedResidual: new Float64Array(n),
  };
  const future = Math.floor(horizon);
  if (model === 'bgbb') {
    const p = params as unknown as BgBbParams;
    for (let i = 0; i < n; i++) {
      const [x, tx, periods] = [rows.x[i]!, rows.tx[i]!, rows.T[i]!];
      out.probabilityAlive[i] = bgbbProbabilityAlive(p, x, tx, periods);
      out.expected[i] = bgbbConditionalExpected(p, future, x, tx, periods);
      out.discountedResidual[i] = bgbbDiscountedResidualTransactions(
        p,
        discountRatePerOpportunity,
        x,
        tx,
        periods,
      );
    }
    return out;
  }
  const p = params as unknown as SbgParams;
  for (let i = 0; i < n; i++) {
    const [recency, T] = [rows.tx[i]!, rows.T[i]!];
    if (recency < T) continue; // cancelled: all zero
    out.probabilityAlive[i] = sbgProbabilityAlive(p, recency, T, 1);
    let renewals = 0;
    for (let k = 1; k <= future; k++) renewals += sbgProbabilityAlive(p, recency, T, k);
    out.expected[i] = renewals;
    out.discountedResidual[i] = sbgDiscountedResidualLifetime(p, discountRatePerOpportunity, T);
  }
  return out;
}
