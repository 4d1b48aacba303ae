/**
 * RFM segments and value tiers (churn-risk bands come with the scores from `clv.ts`).
 *
 * RFM scores (1–5) are relative to the run's customer base and come from the warehouse SQL, which
 * sees every customer at once. Value tiers are relative too, so their CLV thresholds are computed
 * once per run (before customers are scored part by part); the functions here turn one customer's
 * figures into labels given those thresholds.
 */
import type { RecalcConfig, SegmentRule } from './recalc-config.ts';
import { matchSegmentRule } from './recalc-config.ts';
import type { ValueTier } from './score.ts';

export interface RfmScores {
  r: number;
  f: number;
  m: number;
}

/** Combined frequency/monetary score: the mean of F and M, halves rounded up. */
export const fmScore = (scores: RfmScores) => Math.round((scores.f + scores.m) / 2);

/** The segment of an RFM score under a grid (validated to cover every cell). */
export function rfmSegment(scores: RfmScores, grid: readonly SegmentRule[]): string {
  const rule = matchSegmentRule(grid, scores.r, fmScore(scores));
  if (!rule) throw new Error(`segment grid has no rule for R${scores.r}/FM${fmScore(scores)}`);
  return rule.name;
}

/** Lowest CLV of each tier: a customer belongs to the first tier whose threshold their CLV reaches. */
export interface ValueTierThresholds {
  top1: number;
  top10: number;
  top25: number;
}

/**
 * CLV thresholds of the value tiers: the CLV of the customer at rank ⌈share × n⌉ (descending).
 * Customers tied with that customer join the tier, so a tier can hold slightly more than its share.
 */
export function valueTierThresholds(
  clvs: ArrayLike<number>,
  tiers: RecalcConfig['valueTiers'],
): ValueTierThresholds {
  const sorted = Float64Array.from(clvs).sort().reverse();
  const n = sorted.length;
  // Number.MAX_VALUE rather than Infinity: thresholds travel as JSON between steps.
  const at = (share: number) => (n === 0 ? Number.MAX_VALUE : sorted[Math.max(0, Math.ceil(share * n) - 1)]!);
  return { top1: at(tiers.top1), top10: at(tiers.top10), top25: at(tiers.top25) };
}

export function valueTier(clv: number, thresholds: ValueTierThresholds): ValueTier {
  if (clv >= thresholds.top1) return 'top1';
  if (clv >= thresholds.top10) return 'top10';
  if (clv >= thresholds.top25) return 'top25';
  return 'rest';
}
