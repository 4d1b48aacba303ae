/**
 * Scoring of the discrete (BG/BB) and contractual (sBG) families: P(alive), expected transactions
 * and CLV per customer from period summaries, in the same columnar shape as the continuous scores.
 */
import { type ChurnBands, type CustomerScores, churnRiskBand } from '../clv.ts';
import {
  type BgBbParams,
  bgbbConditionalExpected,
  bgbbOpportunitySeries,
  bgbbProbabilityAlive,
} from '../models/bgbb.ts';
import { conditionalExpectedAverageSpend } from '../models/gamma-gamma.ts';
import { type SbgParams, sbgProbabilityAlive } from '../models/sbg.ts';
import type { GammaGammaParams } from '../models/types.ts';
import { type FamilyPeriod, type ModelFamily, periodLengthDays } from '../recalc-config.ts';
import type { TimeUnit } from '../rfm-summary.ts';

/** The models of the period families. */
export const FAMILY_MODEL_NAMES = ['bgbb', 'sbg'] as const;
export type FamilyModelName = (typeof FAMILY_MODEL_NAMES)[number];

export function isFamilyModelName(name: string): name is FamilyModelName {
  return (FAMILY_MODEL_NAMES as readonly string[]).includes(name);
}

/** The model a family fits (the continuous family chooses among the purchase models instead). */
export function familyModelOf(family: Exclude<ModelFamily, 'noncontractual-continuous'>): FamilyModelName {
  return family === 'contractual' ? 'sbg' : 'bgbb';
}

export interface FamilyScoringOptions {
  period: FamilyPeriod;
  /** Campaign starts of `period: "campaign"` (their mean gap is the period length). */
  campaigns?: readonly string[] | undefined;
  horizonMonths: number;
  annualDiscountRate: number;
  margin: number;
  churnBands: ChurnBands;
  /** Time unit of the run (stated in the terms; period summaries do not use it). */
  unit: TimeUnit;
}

/** Periods per year and the CLV horizon in periods (at least one: the next opportunity). */
export function familyHorizon(
  options: Pick<FamilyScoringOptions, 'period' | 'campaigns' | 'horizonMonths' | 'annualDiscountRate'>,
) {
  const perYear = 365.25 / periodLengthDays(options);
  return {
    periods: Math.max(1, Math.round((options.horizonMonths * perYear) / 12)),
    discountRatePerPeriod: (1 + options.annualDiscountRate) ** (1 / perYear) - 1,
  };
}

/** One customer's period summary: x transactions (renewals) of n opportunities, the last at t_x. */
export interface PeriodSummaryColumns {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  n: ArrayLike<number>;
  /** BG/BB: mean value of the repeat periods (0 when none); sBG: mean payment per paid period. */
  monetaryValue: ArrayLike<number>;
}

/**
 * BG/BB scores. P(alive) is the paper's P(alive at the next opportunity); expected transactions are
 * those of the horizon's periods; CLV = margin × expected spend per transaction × Σ_{k=1..H}
 * (E[X(k)] − E[X(k−1)]) / (1 + d)^k, the discounted expected residual transactions within the
 * horizon (the closed-form DERT is its limit for an unbounded horizon).
 */
export function scoreBgBb(
  params: BgBbParams,
  spend: GammaGammaParams | null,
  fallbackSpend: number,
  rows: PeriodSummaryColumns,
  options: FamilyScoringOptions,
): CustomerScores {
  const { periods, discountRatePerPeriod } = familyHorizon(options);
  const scores = emptyScores(rows.x.length, periods, discountRatePerPeriod, options);
  for (let i = 0; i < scores.length; i++) {
    const x = rows.x[i]!;
    const tx = rows.tx[i]!;
    const n = rows.n[i]!;
    const alive = bgbbProbabilityAlive(params, x, tx, n, 1);
    let discounted = 0;
    let previous = 0;
    let nextPeriod = 0;
    for (let k = 1; k <= periods; k++) {
      const cumulative = bgbbConditionalExpected(params, k, x, tx, n);
      if (k === 1) nextPeriod = cumulative;
      discounted += (cumulative - previous) / (1 + discountRatePerPeriod) ** k;
      previous = cumulative;
    }
    const own = rows.monetaryValue[i]!;
    const expectedSpend = spend
      ? conditionalExpectedAverageSpend(spend, x, own)
      : own > 0
        ? own
        : fallbackSpend;
    scores.probabilityAlive[i] = alive;
    scores.expectedPurchases[i] = previous;
    scores.expectedSpend[i] = expectedSpend;
    scores.clv[i] = options.margin * expectedSpend * discounted;
    // At most one transaction per period: the expected number in the next period is the probability
    // of one, the discrete counterpart of the continuous models' P(purchase within 90 days).
    scores.purchaseProbability[i] = nextPeriod;
    scores.churnRisk[i] = churnRiskBand(nextPeriod, options.churnBands);
  }
  return scores;
}

/**
 * sBG scores from (renewals, opportunities): P(alive) = still a member (1 while every renewal was
 * paid, 0 after a missed one); expected renewals of the horizon Σ_{k=1..H} S(n+k)/S(n); CLV = margin
 * × mean payment per period × Σ_{k=1..H} S(n+k)/S(n) / (1 + d)^k (the discounted expected residual
 * lifetime within the horizon).
 */
export function scoreSbg(
  params: SbgParams,
  rows: PeriodSummaryColumns,
  options: FamilyScoringOptions,
): CustomerScores {
  const { periods, discountRatePerPeriod } = familyHorizon(options);
  const scores = emptyScores(rows.x.length, periods, discountRatePerPeriod, options);
  for (let i = 0; i < scores.length; i++) {
    const renewals = rows.tx[i]!;
    const n = rows.n[i]!;
    const alive = sbgProbabilityAlive(params, renewals, n, 0);
    const { expected, discounted } = sbgHorizon(params, renewals, n, alive, periods, discountRatePerPeriod);
    const payment = rows.monetaryValue[i]!;
    scores.probabilityAlive[i] = alive;
    scores.expectedPurchases[i] = expected;
    scores.expectedSpend[i] = payment;
    scores.clv[i] = options.margin * payment * discounted;
    // The probability of the next renewal: a member who has cancelled has none.
    const renews = alive > 0 ? sbgProbabilityAlive(params, renewals, n, 1) : 0;
    scores.purchaseProbability[i] = renews;
    scores.churnRisk[i] = churnRiskBand(renews, options.churnBands);
  }
  return scores;
}

function emptyScores(
  length: number,
  periods: number,
  discountRatePerPeriod: number,
  options: FamilyScoringOptions,
): CustomerScores {
  return {
    length,
    probabilityAlive: new Float64Array(length),
    purchaseProbability: new Float64Array(length),
    expectedPurchases: new Float64Array(length),
    expectedSpend: new Float64Array(length),
    clv: new Float64Array(length),
    churnRisk: new Uint8Array(length),
    // No purchase date inside a period is predicted: the next opportunity is the next period.
    expectedNextPurchaseDay: new Float64Array(length).fill(Number.NaN),
    terms: {
      unit: options.unit,
      periodLength: 1,
      periods,
      discountRatePerPeriod,
      annualDiscountRate: options.annualDiscountRate,
      margin: options.margin,
      expectedPurchasesHorizon: periods,
    },
    churnBands: options.churnBands,
  };
}

/**
 * One sBG member over the horizon: expected renewals Σ_{k=1..H} S(n+k)/S(n) and their discounted sum
 * Σ S(n+k)/S(n) / (1 + d)^k; a member who has cancelled (alive = 0) has neither.
 */
function sbgHorizon(
  params: SbgParams,
  renewals: number,
  n: number,
  alive: number,
  periods: number,
  d: number,
) {
  let expected = 0;
  let discounted = 0;
  if (alive > 0) {
    for (let k = 1; k <= periods; k++) {
      const survival = sbgProbabilityAlive(params, renewals, n, k);
      expected += survival;
      discounted += survival / (1 + d) ** k;
    }
  }
  return { expected, discounted };
}

/**
 * What the net CLV of a period family needs besides the scores (docs/recalc.md, "Net CLV of the
 * period families"), per customer:
 * - `discountedTransactions` D = the discounted expected transactions the CLV multiplies (CLV =
 *   margin × spend per transaction × D; BG/BB summed term by term with `bgbbOpportunitySeries`, equal
 *   to the CLV's closed-form differences to rounding, unit-tested), so net CLV = D × (net per
 *   transaction − handling) − service;
 * - `discountedAliveMonths` A = Σ_{k=1..H} P(alive in period k) × months per period / (1 + d)^k, the
 *   months of service the customer is expected to need, discounted: a monthly service cost times A
 *   is the discounted service cost of the horizon. BG/BB: P(alive at opportunity n + k | x, t_x, n);
 *   sBG: the survival S(n+k)/S(n) of a member still paying, 0 for one who has cancelled (who is then
 *   worth exactly 0, net or gross).
 */
export interface FamilyValueFactors {
  discountedTransactions: Float64Array;
  discountedAliveMonths: Float64Array;
}

export function familyValueFactors(
  model: FamilyModelName,
  params: Readonly<Record<string, number>>,
  rows: Pick<PeriodSummaryColumns, 'x' | 'tx' | 'n'>,
  options: Pick<FamilyScoringOptions, 'period' | 'horizonMonths' | 'annualDiscountRate'>,
): FamilyValueFactors {
  const { periods, discountRatePerPeriod: d } = familyHorizon(options);
  const monthsPerPeriod = options.period === 'year' ? 12 : 1;
  const length = rows.x.length;
  const discountedTransactions = new Float64Array(length);
  const discountedAliveMonths = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const x = rows.x[i]!;
    const tx = rows.tx[i]!;
    const n = rows.n[i]!;
    let alivePeriods = 0;
    if (model === 'sbg') {
      const sbg = { gamma: params.gamma!, delta: params.delta! };
      const alive = sbgProbabilityAlive(sbg, tx, n, 0);
      // The member pays in each period they are alive in: the discounted expected renewals are the
      // discounted expected periods alive.
      const horizon = sbgHorizon(sbg, tx, n, alive, periods, d);
      discountedTransactions[i] = horizon.discounted;
      alivePeriods = horizon.discounted;
    } else {
      const bgbb = { alpha: params.alpha!, beta: params.beta!, gamma: params.gamma!, delta: params.delta! };
      // Term by term: the same D as the CLV's closed-form differences (to rounding), at one
      // likelihood per customer.
      const series = bgbbOpportunitySeries(bgbb, periods, x, tx, n);
      let transactions = 0;
      for (let k = 1; k <= periods; k++) {
        const factor = (1 + d) ** k;
        transactions += series.transaction[k - 1]! / factor;
        alivePeriods += series.alive[k - 1]! / factor;
      }
      discountedTransactions[i] = transactions;
    }
    discountedAliveMonths[i] = alivePeriods * monthsPerPeriod;
  }
  return { discountedTransactions, discountedAliveMonths };
}
