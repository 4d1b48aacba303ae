/**
 * MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD in which a customer may also drop out right
 * after the first purchase, so a customer with no repeat purchases is not certainly alive. It is the
 * beta-geometric kernel of bgnbd.ts with one extra drop-out opportunity (shift 1).
 */
import {
  betaGeometricConditionalExpected,
  betaGeometricCustomerLogLikelihood,
  betaGeometricExpected,
  betaGeometricLogLikelihood,
  betaGeometricProbabilityAlive,
  betaGeometricProbabilityOfPurchases,
  betaGeometricProblem,
  createBetaGeometricPredictor,
} from './bgnbd.ts';
import { fitByMaximumLikelihood } from './fit.ts';
import type { CompressedRfm, FitOptions, FitResult, MbgNbdParams, PurchasePredictor } from './types.ts';

export function fitMbgNbd(data: CompressedRfm, options: FitOptions = {}): FitResult<MbgNbdParams> {
  return fitByMaximumLikelihood<MbgNbdParams>(betaGeometricProblem('mbgnbd', 1, data), options);
}

export function mbgnbdLogLikelihood(params: MbgNbdParams, data: CompressedRfm): number {
  return betaGeometricLogLikelihood(1, [params.r, params.alpha, params.a, params.b], data);
}

export function mbgnbdCustomerLogLikelihood(params: MbgNbdParams, x: number, tx: number, T: number): number {
  return betaGeometricCustomerLogLikelihood(1, params, x, tx, T);
}

/** P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)). */
export function mbgnbdProbabilityAlive(params: MbgNbdParams, x: number, tx: number, T: number): number {
  return betaGeometricProbabilityAlive(1, params, x, tx, T);
}

export function mbgnbdConditionalExpectedPurchases(
  params: MbgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  return betaGeometricConditionalExpected(1, params, t, x, tx, T);
}

/** E[X(t)] = b/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b+1; a+b; t/(α+t))]. */
export function mbgnbdExpectedPurchases(params: MbgNbdParams, t: number): number {
  return betaGeometricExpected(1, params, t);
}

export function mbgnbdProbabilityOfPurchases(params: MbgNbdParams, t: number, n: number): number {
  return betaGeometricProbabilityOfPurchases(1, params, t, n);
}

/** Reusable MBG/NBD predictor for scoring many customers. */
export function createMbgNbdPredictor(params: MbgNbdParams): PurchasePredictor {
  return createBetaGeometricPredictor(1, params);
}
