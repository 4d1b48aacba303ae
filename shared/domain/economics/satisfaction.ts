/**
 * Value for the customer: satisfaction bands (NPS and CSAT), per-band and per-segment aggregates as
 * mergeable accumulators, the high-value detractors, and what to add when no scores exist.
 */
import { csvField } from '../playbook/audiences.ts';
import type { ValueTier } from '../score.ts';
import type { SatisfactionScore } from './customer-attributes.ts';
import type { EconomicsConfig } from './economics-config.ts';
import { emptyKeyedSums, type KeyedSums, mergeKeyedSums, sumsOf } from './keyed-sums.ts';

export const SATISFACTION_BANDS = ['detractor', 'passive', 'promoter'] as const;
export type SatisfactionBand = (typeof SATISFACTION_BANDS)[number];
/** Band key of customers without a satisfaction score. */
export const NO_SCORE = 'unknown' as const;

/**
 * NPS (0–10): detractors 0–6, passives 7–8, promoters 9–10 (Reichheld's bands).
 * CSAT (1–5): detractors 1–3, passives 4, promoters 5 — only the top answer counts as a promoter and
 * the neutral middle counts against, as NPS does with its 6.
 */
export function satisfactionBand(score: SatisfactionScore): SatisfactionBand {
  if (score.scale === 'nps')
    return score.score >= 9 ? 'promoter' : score.score >= 7 ? 'passive' : 'detractor';
  return score.score >= 5 ? 'promoter' : score.score >= 4 ? 'passive' : 'detractor';
}

/** The score on a common 0–100 scale (NPS × 10; CSAT (score − 1) × 25), to average across scales. */
export const satisfactionPercent = (score: SatisfactionScore) =>
  score.scale === 'nps' ? score.score * 10 : (score.score - 1) * 25;

const BAND_FIELDS = [
  'customers',
  'withLastPeriodInfo',
  'purchasedLastPeriod',
  'sumPAlive',
  'sumGrossClv',
  'sumNetClv',
] as const;
type BandField = (typeof BAND_FIELDS)[number];

/** Sums per band (`detractor`, `passive`, `promoter`, `unknown`). */
export type SatisfactionBandAccumulator = KeyedSums<BandField>;
export const emptySatisfactionBands = (): SatisfactionBandAccumulator => emptyKeyedSums<BandField>();

export interface SatisfactionCustomer {
  satisfaction: SatisfactionScore | null;
  /** Bought in the last period (e.g. the holdout weeks); null when the run does not know. */
  purchasedInLastPeriod: boolean | null;
  pAlive: number;
  grossClv: number;
  netClv: number;
}

export function addSatisfactionCustomer(
  accumulator: SatisfactionBandAccumulator,
  c: SatisfactionCustomer,
): void {
  const band = c.satisfaction ? satisfactionBand(c.satisfaction) : NO_SCORE;
  const sums = sumsOf(accumulator, band, BAND_FIELDS);
  sums.customers += 1;
  if (c.purchasedInLastPeriod !== null) {
    sums.withLastPeriodInfo += 1;
    if (c.purchasedInLastPeriod) sums.purchasedLastPeriod += 1;
  }
  sums.sumPAlive += c.pAlive;
  sums.sumGrossClv += c.grossClv;
  sums.sumNetClv += c.netClv;
}

export const mergeSatisfactionBands = (a: SatisfactionBandAccumulator, b: SatisfactionBandAccumulator) =>
  mergeKeyedSums(a, b, BAND_FIELDS);

export interface SatisfactionBandSummary {
  band: SatisfactionBand | typeof NO_SCORE;
  customers: number;
  /** Share who bought in the last period; null when the run had no such information. */
  retention: number | null;
  /** Mean P(alive): the model's view of retention. */
  meanPAlive: number;
  meanGrossClv: number;
  meanNetClv: number;
}

/** Every band listed (zeros when empty), detractor → promoter, then `unknown`. */
export function satisfactionBandSummary(accumulator: SatisfactionBandAccumulator): SatisfactionBandSummary[] {
  return [...SATISFACTION_BANDS, NO_SCORE].map((band): SatisfactionBandSummary => {
    const s = Object.hasOwn(accumulator, band) ? accumulator[band]! : null;
    const n = s?.customers ?? 0;
    return {
      band,
      customers: n,
      retention: s && s.withLastPeriodInfo > 0 ? s.purchasedLastPeriod / s.withLastPeriodInfo : null,
      meanPAlive: s && n > 0 ? s.sumPAlive / n : 0,
      meanGrossClv: s && n > 0 ? s.sumGrossClv / n : 0,
      meanNetClv: s && n > 0 ? s.sumNetClv / n : 0,
    };
  });
}

const GROUP_FIELDS = [
  'customers',
  'scored',
  'npsCount',
  'npsSum',
  'csatCount',
  'csatSum',
  'percentSum',
  'detractors',
  'passives',
  'promoters',
] as const;
type GroupField = (typeof GROUP_FIELDS)[number];

/** Satisfaction sums per segment or rung (the key is the caller's: segment name, rung id, …). */
export type GroupSatisfactionAccumulator = KeyedSums<GroupField>;
export const emptyGroupSatisfaction = (): GroupSatisfactionAccumulator => emptyKeyedSums<GroupField>();

export function addGroupSatisfaction(
  accumulator: GroupSatisfactionAccumulator,
  group: string,
  satisfaction: SatisfactionScore | null,
): void {
  const sums = sumsOf(accumulator, group, GROUP_FIELDS);
  sums.customers += 1;
  if (!satisfaction) return;
  sums.scored += 1;
  if (satisfaction.scale === 'nps') {
    sums.npsCount += 1;
    sums.npsSum += satisfaction.score;
  } else {
    sums.csatCount += 1;
    sums.csatSum += satisfaction.score;
  }
  sums.percentSum += satisfactionPercent(satisfaction);
  const band = satisfactionBand(satisfaction);
  if (band === 'detractor') sums.detractors += 1;
  else if (band === 'passive') sums.passives += 1;
  else sums.promoters += 1;
}

export const mergeGroupSatisfaction = (a: GroupSatisfactionAccumulator, b: GroupSatisfactionAccumulator) =>
  mergeKeyedSums(a, b, GROUP_FIELDS);

export interface GroupSatisfaction {
  group: string;
  customers: number;
  /** Customers with a score. */
  scored: number;
  meanNps: number | null;
  meanCsat: number | null;
  /** Mean on the common 0–100 scale (both scales). */
  meanPercent: number | null;
  /** (promoters − detractors) / scored × 100, −100 to 100 (bands of both scales). */
  netPromoterScore: number | null;
}

export function groupSatisfaction(accumulator: GroupSatisfactionAccumulator): GroupSatisfaction[] {
  return Object.keys(accumulator)
    .sort()
    .map((group) => {
      const s = accumulator[group]!;
      return {
        group,
        customers: s.customers,
        scored: s.scored,
        meanNps: s.npsCount > 0 ? s.npsSum / s.npsCount : null,
        meanCsat: s.csatCount > 0 ? s.csatSum / s.csatCount : null,
        meanPercent: s.scored > 0 ? s.percentSum / s.scored : null,
        netPromoterScore: s.scored > 0 ? ((s.promoters - s.detractors) / s.scored) * 100 : null,
      };
    });
}

const TIER_RANK: Record<ValueTier, number> = { top1: 0, top10: 1, top25: 2, rest: 3 };

export interface DetractorCandidate {
  customerId: string;
  valueTier: ValueTier;
  netClv: number;
  satisfaction: SatisfactionScore | null;
}

/** High value (tier at or above `minValueTier`, or net CLV ≥ `minNetClv`) and a detractor. */
export function isHighValueDetractor(
  c: DetractorCandidate,
  highValue: EconomicsConfig['highValue'],
): boolean {
  if (!c.satisfaction || satisfactionBand(c.satisfaction) !== 'detractor') return false;
  if (TIER_RANK[c.valueTier] <= TIER_RANK[highValue.minValueTier]) return true;
  return highValue.minNetClv !== undefined && c.netClv >= highValue.minNetClv;
}

/** The high-value detractors, most valuable first (ties by id, so parts merge to the same list). */
export function selectHighValueDetractors<C extends DetractorCandidate>(
  customers: Iterable<C>,
  highValue: EconomicsConfig['highValue'],
): C[] {
  const selected: C[] = [];
  for (const c of customers) if (isHighValueDetractor(c, highValue)) selected.push(c);
  return selected.sort(compareDetractors);
}

/** Most valuable first (net CLV descending), ties by customer id: the list's one order. */
export const compareDetractors = (a: DetractorCandidate, b: DetractorCandidate): number =>
  b.netClv - a.netClv || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);

/** The run list of the high-value detractors: its name in the API, the table index and the run folder. */
export const HIGH_VALUE_DETRACTORS_LIST = 'high-value-detractors';

/** One listed customer as the run's list file carries it. */
export interface HighValueDetractorRow extends DetractorCandidate {
  clv: number;
  segment: string;
  currency: string;
}

/** Columns of the list file, in order (money to the cent in the run currency). */
export const HIGH_VALUE_DETRACTORS_CSV_COLUMNS = [
  'rank',
  'customer_id',
  'net_clv',
  'clv',
  'value_tier',
  'satisfaction_scale',
  'satisfaction_score',
  'segment',
  'currency',
] as const;

/** The list file: every listed customer, ranked in the list's order; the header only when empty. */
export function highValueDetractorsCsv(rows: Iterable<HighValueDetractorRow>): string {
  const lines: string[] = [HIGH_VALUE_DETRACTORS_CSV_COLUMNS.join(',')];
  [...rows].sort(compareDetractors).forEach((row, i) => {
    const values = [
      i + 1,
      row.customerId,
      row.netClv.toFixed(2),
      row.clv.toFixed(2),
      row.valueTier,
      row.satisfaction?.scale ?? null,
      row.satisfaction?.score ?? null,
      row.segment,
      row.currency,
    ];
    lines.push(values.map(csvField).join(','));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * What to add when the run has no satisfaction scores (null when it has some): the report and the
 * playbook show this instead of empty bands.
 */
export function satisfactionAdvice(summary: readonly SatisfactionBandSummary[]): string | null {
  const scored = summary.filter((s) => s.band !== NO_SCORE).reduce((n, s) => n + s.customers, 0);
  if (scored > 0) return null;
  return (
    'No satisfaction scores yet, so the value for the customer cannot be shown. Add a customer ' +
    'attributes export with a customer_id column and an nps column (0–10, "How likely are you to ' +
    'recommend us?") or a csat column (1–5); a column named satisfaction needs economics.satisfactionScale ' +
    'set to "nps" or "csat". Optional: updated_at, so the latest score wins.'
  );
}
