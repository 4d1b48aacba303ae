/**
 * Places a customer on the value ladder: rung reached, state (active, slipping, lapsed), next rung and
 * what concretely is missing to reach it, in numbers and in words.
 */
import type { TimeUnit } from '../rfm-summary.ts';
import type { ValueTier } from '../score.ts';
import type { ValueTierThresholds } from '../segments.ts';
import type { Ladder, LadderState, Rung, RungRule, StateCondition } from './playbook-config.ts';

/**
 * The per-customer figures the playbook needs: a subset of a run's customer score, so the
 * recalculation can pass its scores as they are.
 */
export interface LadderCustomer {
  customerId: string;
  /** Distinct orders (gifts) up to the as-of date. */
  historicOrders: number;
  /** Repeat purchase days (x), in the model's sense. */
  frequency: number;
  /** First to last purchase (t_x), in `timeUnit`. */
  recency: number;
  /** First purchase to the as-of date, in `timeUnit`. */
  T: number;
  timeUnit: TimeUnit;
  /** As-of date of the run, YYYY-MM-DD. */
  asOf: string;
  /** Predicted CLV over the run's horizon, run currency. */
  clv: number;
  expectedPurchases90d: number;
  pAlive: number;
  /** P(no purchase in the next 90 days) from the model; derived from P(alive) and expected purchases when absent. */
  probabilityNoPurchase90d?: number | null;
  valueTier: ValueTier;
  historicRevenue: number;
  currency: string;
  /** Expected net contribution is negative (serving costs more than the margin): serve cheaper. */
  negativeNetContribution?: boolean;
}

/** Run-level figures the texts and the value-tier gap need. */
export interface LadderContext {
  /** CLV horizon of the run, for "over the next 12 months". */
  clvHorizonMonths: number;
  /** The run's value-tier thresholds; without them a tier gap has no amount. */
  tierThresholds?: ValueTierThresholds | null;
}

export type RungGapKind =
  | 'orders'
  | 'repeatPurchases'
  | 'recentPurchase'
  | 'tenure'
  | 'historicRevenue'
  | 'clv'
  | 'valueTier';

/** One unmet condition of the next rung. */
export interface RungGap {
  kind: RungGapKind;
  /** How much is missing (orders, purchases, days or money); null when the run cannot say. */
  missing: number | null;
  /** Days left to do it before the customer slips or loses the current rung; null when no deadline applies. */
  withinDays: number | null;
  text: string;
}

export interface ToNextRung {
  gaps: RungGap[];
  /** The gaps in one sentence, e.g. "1 more order within 45 days and EUR 38 more predicted value over the next 12 months". */
  text: string;
}

export interface LadderPosition {
  customerId: string;
  rung: string;
  rungIndex: number;
  state: LadderState;
  /** Null on the top rung. */
  nextRung: string | null;
  toNextRung: ToNextRung | null;
  daysSinceLastPurchase: number;
  tenureDays: number;
}

const DAYS_PER_UNIT: Record<TimeUnit, number> = { days: 1, weeks: 7 };
const TIER_ORDER: Record<ValueTier, number> = { top1: 0, top10: 1, top25: 2, rest: 3 };
const TIER_SHARE_TEXT: Record<Exclude<ValueTier, 'rest'>, string> = {
  top1: 'top 1 %',
  top10: 'top 10 %',
  top25: 'top 25 %',
};

// Whole days: summaries in weeks are rounded to two decimals, so fractions of a day are noise.
export const daysSinceLastPurchase = (c: LadderCustomer) =>
  Math.round((c.T - c.recency) * DAYS_PER_UNIT[c.timeUnit]);
export const tenureDays = (c: LadderCustomer) => Math.round(c.T * DAYS_PER_UNIT[c.timeUnit]);

/**
 * P(no purchase in the next 90 days): the model's figure when given, else
 * (1 − P(alive)) + P(alive) · exp(−E[purchases | alive]) with E[purchases | alive] =
 * expectedPurchases90d / P(alive) (in BG/NBD, MBG/NBD and Pareto/NBD the expectation factors that
 * way). Treating an alive customer's purchases as Poisson ignores the spread of purchase rates, so by
 * Jensen's inequality this is a lower bound of the model's figure.
 */
export function probabilityNoPurchase90d(c: LadderCustomer): number {
  if (c.probabilityNoPurchase90d !== undefined && c.probabilityNoPurchase90d !== null) {
    return clamp01(c.probabilityNoPurchase90d);
  }
  if (!(c.pAlive > 0)) return 1;
  const alive = Math.min(1, c.pAlive);
  return clamp01(1 - alive + alive * Math.exp(-Math.max(0, c.expectedPurchases90d) / alive));
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

/** Whether a customer meets a rung's rule (conditions only; the state is separate). */
export function meetsRungRule(rule: RungRule, c: LadderCustomer): boolean {
  if (rule.minOrders !== undefined && c.historicOrders < rule.minOrders) return false;
  if (rule.minRepeatPurchases !== undefined && c.frequency < rule.minRepeatPurchases) return false;
  if (rule.maxDaysSinceLastPurchase !== undefined && daysSinceLastPurchase(c) > rule.maxDaysSinceLastPurchase)
    return false;
  if (rule.minTenureDays !== undefined && tenureDays(c) < rule.minTenureDays) return false;
  if (rule.minHistoricRevenue !== undefined && c.historicRevenue < rule.minHistoricRevenue) return false;
  if (rule.minClv !== undefined && c.clv < rule.minClv) return false;
  if (rule.minValueTier !== undefined && TIER_ORDER[c.valueTier] > TIER_ORDER[rule.minValueTier])
    return false;
  return true;
}

/** Whether a customer meets the rule of the rung with this id (e.g. the next rung at the holdout end). */
export function meetsRung(ladder: Ladder, rungId: string, c: LadderCustomer): boolean {
  const rung = ladder.rungs.find((candidate) => candidate.id === rungId);
  if (!rung) throw new RangeError(`ladder '${ladder.name}' has no rung '${rungId}'`);
  return meetsRungRule(rung.rule, c);
}

function meetsStateCondition(condition: StateCondition, c: LadderCustomer, days: number): boolean {
  if (condition.minDaysSinceLastPurchase !== undefined && days < condition.minDaysSinceLastPurchase)
    return false;
  if (condition.maxPAlive !== undefined && c.pAlive > condition.maxPAlive) return false;
  if (
    condition.minProbabilityNoPurchase90d !== undefined &&
    probabilityNoPurchase90d(c) < condition.minProbabilityNoPurchase90d
  )
    return false;
  return true;
}

/** Lapsed when any lapsed condition holds, else slipping when any slipping condition holds, else active. */
export function ladderState(ladder: Ladder, c: LadderCustomer): LadderState {
  const days = daysSinceLastPurchase(c);
  if (ladder.states.lapsed.whenAny.some((condition) => meetsStateCondition(condition, c, days)))
    return 'lapsed';
  if (ladder.states.slipping.whenAny.some((condition) => meetsStateCondition(condition, c, days)))
    return 'slipping';
  return 'active';
}

/**
 * Rung = the highest rung whose rule the customer meets (the first rung has no conditions). Highest
 * rather than "climbed in order": a donor whose one gift was a major gift is a major donor.
 */
export function placeOnLadder(ladder: Ladder, c: LadderCustomer, context: LadderContext): LadderPosition {
  let rungIndex = 0;
  for (let i = ladder.rungs.length - 1; i > 0; i--) {
    if (meetsRungRule(ladder.rungs[i]!.rule, c)) {
      rungIndex = i;
      break;
    }
  }
  const state = ladderState(ladder, c);
  const next = ladder.rungs[rungIndex + 1];
  return {
    customerId: c.customerId,
    rung: ladder.rungs[rungIndex]!.id,
    rungIndex,
    state,
    nextRung: next?.id ?? null,
    toNextRung: next ? toNextRung(ladder, rungIndex, state, c, context) : null,
    daysSinceLastPurchase: daysSinceLastPurchase(c),
    tenureDays: tenureDays(c),
  };
}

/**
 * Days an active customer has left to buy before dropping: before their current rung's recency limit
 * runs out, or before a purely time-based slipping/lapsed condition starts to hold. Null when nothing
 * but the model's figures can take them off the ladder, or when they are off it already.
 */
export function purchaseDeadlineDays(
  ladder: Ladder,
  currentRung: Rung,
  state: LadderState,
  days: number,
): number | null {
  if (state !== 'active') return null;
  let deadline = Number.POSITIVE_INFINITY;
  const keepRungLimit = currentRung.rule.maxDaysSinceLastPurchase;
  // Kept while days since last purchase ≤ limit: a purchase on day (limit − days) from now still counts.
  if (keepRungLimit !== undefined) deadline = Math.min(deadline, keepRungLimit - days);
  for (const condition of [...ladder.states.slipping.whenAny, ...ladder.states.lapsed.whenAny]) {
    const timeOnly =
      condition.minDaysSinceLastPurchase !== undefined &&
      condition.maxPAlive === undefined &&
      condition.minProbabilityNoPurchase90d === undefined;
    // Slips on the day days since last purchase reaches the minimum: buy at least one day earlier.
    if (timeOnly) deadline = Math.min(deadline, condition.minDaysSinceLastPurchase! - 1 - days);
  }
  return Number.isFinite(deadline) && deadline >= 0 ? deadline : null;
}

function toNextRung(
  ladder: Ladder,
  rungIndex: number,
  state: LadderState,
  c: LadderCustomer,
  context: LadderContext,
): ToNextRung {
  const rule = ladder.rungs[rungIndex + 1]!.rule;
  const days = daysSinceLastPurchase(c);
  const deadline = purchaseDeadlineDays(ladder, ladder.rungs[rungIndex]!, state, days);
  const within =
    deadline === null ? '' : deadline === 0 ? ' today' : ` within ${plural(deadline, 'day', 'days')}`;
  const { singular, plural: orders } = ladder.orderNoun;
  const gaps: RungGap[] = [];

  if (rule.minOrders !== undefined && c.historicOrders < rule.minOrders) {
    const missing = rule.minOrders - c.historicOrders;
    gaps.push({
      kind: 'orders',
      missing,
      withinDays: deadline,
      text: `${missing} more ${missing === 1 ? singular : orders}${within}`,
    });
  }
  if (rule.minRepeatPurchases !== undefined && c.frequency < rule.minRepeatPurchases) {
    const missing = Math.ceil(rule.minRepeatPurchases - c.frequency);
    gaps.push({
      kind: 'repeatPurchases',
      missing,
      withinDays: deadline,
      text: `${plural(missing, 'more purchase day', 'more purchase days')}${within}`,
    });
  }
  // Any new order resets the days since the last purchase, so a recency gap only shows on its own.
  const limit = rule.maxDaysSinceLastPurchase;
  if (limit !== undefined && days > limit && gaps.length === 0) {
    gaps.push({
      kind: 'recentPurchase',
      missing: 1,
      withinDays: null,
      text: `a new ${singular} (the last was ${plural(days, 'day', 'days')} ago; ${ladderRungLabel(ladder, rungIndex + 1)} needs one in the last ${plural(limit, 'day', 'days')})`,
    });
  }
  if (rule.minTenureDays !== undefined && tenureDays(c) < rule.minTenureDays) {
    const missing = rule.minTenureDays - tenureDays(c);
    gaps.push({
      kind: 'tenure',
      missing,
      withinDays: null,
      text: `${plural(missing, 'more day', 'more days')} as a customer`,
    });
  }
  if (rule.minHistoricRevenue !== undefined && c.historicRevenue < rule.minHistoricRevenue) {
    const missing = rule.minHistoricRevenue - c.historicRevenue;
    gaps.push({
      kind: 'historicRevenue',
      missing,
      withinDays: null,
      text: `${money(missing, c.currency)} more in ${orders}`,
    });
  }
  const clvGap = clvNeeded(rule, c, context);
  if (clvGap) gaps.push(clvGap);

  const text =
    gaps.length > 0 ? gaps.map((gap) => gap.text).join(' and ') : 'nothing: meets the rule already';
  return { gaps, text };
}

/** The CLV the next rung needs: its own minimum, or its value tier's threshold, whichever is higher. */
function clvNeeded(rule: RungRule, c: LadderCustomer, context: LadderContext): RungGap | null {
  const horizon = `over the next ${plural(context.clvHorizonMonths, 'month', 'months')}`;
  const tier = rule.minValueTier;
  const tierMissing = tier !== undefined && TIER_ORDER[c.valueTier] > TIER_ORDER[tier];
  const tierThreshold = tierMissing && context.tierThresholds ? context.tierThresholds[tier] : undefined;
  const clvMissing = rule.minClv !== undefined && c.clv < rule.minClv;
  if (!tierMissing && !clvMissing) return null;
  if (tierMissing && tierThreshold === undefined) {
    return {
      kind: 'valueTier',
      missing: null,
      withinDays: null,
      text: `a place in the ${TIER_SHARE_TEXT[tier]} by predicted value ${horizon}`,
    };
  }
  const target = Math.max(
    clvMissing ? rule.minClv! : Number.NEGATIVE_INFINITY,
    tierThreshold ?? Number.NEGATIVE_INFINITY,
  );
  const missing = Math.max(0, target - c.clv);
  const tierNote = tierMissing && target === tierThreshold ? ` (${TIER_SHARE_TEXT[tier]})` : '';
  return {
    kind: tierMissing && target === tierThreshold ? 'valueTier' : 'clv',
    missing,
    withinDays: null,
    text: `${money(missing, c.currency)} more predicted value ${horizon}${tierNote}`,
  };
}

const ladderRungLabel = (ladder: Ladder, index: number) => ladder.rungs[index]!.label;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** A missing amount, rounded up to whole currency units: "EUR 38" means at least that much. */
export function money(amount: number, currency: string): string {
  // The tolerance keeps 38.000000001 (rounding noise) from becoming 39; any real shortfall shows as ≥ 1.
  const whole = amount > 0 ? Math.max(1, Math.ceil(amount - 1e-9)) : 0;
  return `${currency} ${whole}`;
}
