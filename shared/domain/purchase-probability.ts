/**
 * Probability that a customer makes at least one purchase in the next t, given the history
 * (x, t_x, T): the quantity churn-risk bands are built on (P(alive) alone says nothing about x = 0
 * BG/NBD customers, whose P(alive) is 1 however long ago they bought).
 */
import { paretoNbdCustomerLogLikelihood } from './models/pareto-nbd.ts';
import type { PurchaseModelName } from './models/types.ts';

/**
 * 1 − P(X(T, T + t] = 0 | x, t_x, T).
 *
 * BG/NBD and MBG/NBD: a customer drops out only right after a purchase, so one who is alive at T
 * stays alive until the next purchase; given alive, the purchase rate is Gamma(r + x, α + T), and
 * P(no purchase in t | alive) = E[e^(−λt)] = ((α + T)/(α + T + t))^(r+x). Hence
 *   P(at least one) = P(alive) · (1 − ((α + T)/(α + T + t))^(r+x)).
 * Pareto/NBD (dropout at any time): "history (x, t_x, T) and nothing in (T, T + t]" is the history
 * (x, t_x, T + t), so by Bayes P(no purchase in t | history) = L(x, t_x, T + t) / L(x, t_x, T).
 * (The same identity holds for the beta-geometric models; the unit test checks both forms agree.)
 */
export function probabilityOfPurchaseWithin(
  model: PurchaseModelName,
  params: Readonly<Record<string, number>>,
  t: number,
  x: number,
  tx: number,
  T: number,
  probabilityAlive: number,
): number {
  if (!(t > 0)) return 0;
  if (model === 'pareto') {
    const p = { r: params['r']!, alpha: params['alpha']!, s: params['s']!, beta: params['beta']! };
    const logRatio =
      paretoNbdCustomerLogLikelihood(p, x, tx, T + t) - paretoNbdCustomerLogLikelihood(p, x, tx, T);
    return clampProbability(-Math.expm1(Math.min(0, logRatio)));
  }
  const r = params['r']!;
  const alpha = params['alpha']!;
  const noPurchaseIfAlive = -(r + x) * Math.log1p(t / (alpha + T));
  return clampProbability(probabilityAlive * -Math.expm1(noPurchaseIfAlive));
}

// NaN (a degenerate likelihood) counts as no purchase probability, never as a band of its own.
const clampProbability = (p: number) => (Number.isNaN(p) ? 0 : Math.min(1, Math.max(0, p)));
