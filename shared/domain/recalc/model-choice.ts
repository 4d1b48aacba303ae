/**
 * The automatic model choice of a continuous-family run: which purchase models compete and which
 * one wins the holdout check (only fits the data identify may win).
 */
import {
  chooseIdentifiedModel,
  isIdentifiedFit,
  type ModelCandidate,
  PURCHASE_MODEL_NAMES,
} from '../models/purchase-models.ts';
import type { PurchaseModelName } from '../models/types.ts';

/** Above this share of one-time buyers (x = 0) the run states why MBG/NBD is among the candidates. */
export const ONE_TIME_BUYER_SHARE = 0.6;

/** Share of customers without a repeat purchase in a (compressed) histogram. */
export function oneTimeBuyerShare(rows: readonly { frequency: number; customers: number }[]): number {
  let total = 0;
  let once = 0;
  for (const row of rows) {
    total += row.customers;
    if (row.frequency === 0) once += row.customers;
  }
  return total > 0 ? once / total : 0;
}

/**
 * The candidates of `auto`. MBG/NBD lets a customer leave right after the first purchase, which
 * BG/NBD cannot; it stays a candidate for every data set and matters most when one-time buyers
 * dominate, so the run says so then (the holdout check decides either way).
 */
export function autoCandidates(histogram: readonly { frequency: number; customers: number }[]): {
  models: PurchaseModelName[];
  note: string | null;
} {
  const share = oneTimeBuyerShare(histogram);
  return {
    models: [...PURCHASE_MODEL_NAMES],
    note:
      share > ONE_TIME_BUYER_SHARE
        ? `${(share * 100).toFixed(0)} % of the calibration customers bought once: MBG/NBD (a customer may leave right after the first purchase) is among the candidates`
        : null,
  };
}

/**
 * The candidates of `auto` in the order they should be tried on the full period: identified fits by
 * holdout error, then the others by holdout error (used only when no fit is identified).
 */
export function rankAutoModels(candidates: readonly ModelCandidate[]): PurchaseModelName[] {
  const usable = candidates.filter((c) => c.fit !== null && Number.isFinite(c.holdoutError));
  const byError = (a: ModelCandidate, b: ModelCandidate) => a.holdoutError - b.holdoutError;
  const identified = usable.filter((c) => isIdentifiedFit(c.fit!)).sort(byError);
  const rest = usable.filter((c) => !isIdentifiedFit(c.fit!)).sort(byError);
  return [...identified, ...rest].map((c) => c.model);
}

/**
 * The winner of `auto`: the lowest per-customer holdout error among identified fits; when no fit is
 * identified, the lowest error overall (the run then warns); BG/NBD when no candidate has a result.
 */
export function chooseAutoModel(candidates: readonly ModelCandidate[]): {
  model: PurchaseModelName;
  note: string | null;
} {
  const identified = chooseIdentifiedModel(candidates);
  if (identified) return { model: identified, note: null };
  const ranked = candidates
    .filter((c) => c.fit !== null && Number.isFinite(c.holdoutError))
    .sort((a, b) => a.holdoutError - b.holdoutError);
  const best = ranked[0];
  if (!best) return { model: 'bgnbd', note: 'model auto: no holdout result, BG/NBD chosen' };
  return {
    model: best.model,
    note: `model auto: no candidate is identified on the calibration period; ${best.model} (lowest holdout error) chosen`,
  };
}
