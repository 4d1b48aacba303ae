/**
 * The run report's economics figures (docs/economics.md): revenue vs net contribution per segment,
 * CLV/CAC per acquisition channel and the satisfaction bands, as additive sums each score part
 * fills and `finalize` merges in any order; then the rows the report shows.
 */
import * as z from 'zod';
import {
  addChannelCustomer,
  type ChannelEconomics,
  type ChannelEconomicsAccumulator,
  channelEconomics,
  emptyChannelEconomics,
  mergeChannelEconomics,
} from './acquisition.ts';
import type { SatisfactionScore } from './customer-attributes.ts';
import { emptyKeyedSums, type KeyedSums, mergeKeyedSums, sumsOf } from './keyed-sums.ts';
import {
  addGroupSatisfaction,
  addSatisfactionCustomer,
  emptyGroupSatisfaction,
  emptySatisfactionBands,
  type GroupSatisfactionAccumulator,
  groupSatisfaction,
  mergeGroupSatisfaction,
  mergeSatisfactionBands,
  type SatisfactionBandAccumulator,
  type SatisfactionBandSummary,
  satisfactionAdvice,
  satisfactionBandSummary,
} from './satisfaction.ts';

const SEGMENT_FIELDS = [
  'customers',
  'historicRevenue',
  'historicNetContribution',
  'grossClv',
  'netClv',
  'negativeNetContribution',
] as const;
type SegmentField = (typeof SEGMENT_FIELDS)[number];

export interface EconomicsAggregates {
  segments: KeyedSums<SegmentField>;
  /** Satisfaction per segment (mean score, net promoter score). */
  segmentSatisfaction: GroupSatisfactionAccumulator;
  channels: ChannelEconomicsAccumulator;
  satisfaction: SatisfactionBandAccumulator;
  /**
   * How many customers are high-value detractors (`isHighValueDetractor`): a count only, the list
   * itself lives on the score items (erased with them), never in the run record.
   */
  highValueDetractors?: number;
}

export const emptyEconomicsAggregates = (): EconomicsAggregates => ({
  segments: emptyKeyedSums<SegmentField>(),
  segmentSatisfaction: emptyGroupSatisfaction(),
  channels: emptyChannelEconomics(),
  satisfaction: emptySatisfactionBands(),
  highValueDetractors: 0,
});

export interface EconomicsReportCustomer {
  segment: string;
  historicRevenue: number;
  historicNetContribution: number;
  grossClv: number;
  netClv: number;
  negativeNetContribution: boolean;
  acquisitionChannel: string | null;
  acquisitionCost: number | null;
  satisfaction: SatisfactionScore | null;
  pAlive: number;
  /** Bought after the calibration end (the holdout weeks); null when the run has no such split. */
  purchasedInLastPeriod: boolean | null;
  /** On the high-value detractors list (`isHighValueDetractor`). */
  highValueDetractor?: boolean;
}

export function addEconomicsCustomer(aggregates: EconomicsAggregates, c: EconomicsReportCustomer): void {
  const s = sumsOf(aggregates.segments, c.segment, SEGMENT_FIELDS);
  s.customers += 1;
  s.historicRevenue += c.historicRevenue;
  s.historicNetContribution += c.historicNetContribution;
  s.grossClv += c.grossClv;
  s.netClv += c.netClv;
  if (c.negativeNetContribution) s.negativeNetContribution += 1;
  addGroupSatisfaction(aggregates.segmentSatisfaction, c.segment, c.satisfaction);
  addChannelCustomer(aggregates.channels, c);
  addSatisfactionCustomer(aggregates.satisfaction, c);
  if (c.highValueDetractor) aggregates.highValueDetractors = (aggregates.highValueDetractors ?? 0) + 1;
}

export const mergeEconomicsAggregates = (
  a: EconomicsAggregates,
  b: EconomicsAggregates,
): EconomicsAggregates => ({
  segments: mergeKeyedSums(a.segments, b.segments, SEGMENT_FIELDS),
  // Part results written by an earlier version may lack it.
  segmentSatisfaction: mergeGroupSatisfaction(a.segmentSatisfaction ?? {}, b.segmentSatisfaction ?? {}),
  channels: mergeChannelEconomics(a.channels, b.channels),
  satisfaction: mergeSatisfactionBands(a.satisfaction, b.satisfaction),
  highValueDetractors: (a.highValueDetractors ?? 0) + (b.highValueDetractors ?? 0),
});

export interface SegmentEconomics {
  segment: string;
  customers: number;
  historicRevenue: number;
  historicNetContribution: number;
  /** Net contribution / revenue so far; null without positive revenue. */
  netShare: number | null;
  grossClv: number;
  netClv: number;
  negativeNetContribution: number;
  /** Customers with a satisfaction score. */
  satisfactionScored: number;
  /** Mean satisfaction on the common 0–100 scale; null without scores. */
  meanSatisfaction: number | null;
  /** (promoters − detractors) / scored × 100; null without scores. */
  netPromoterScore: number | null;
}

/** Channels kept in the run record (largest first): channel names come from customer data. */
export const MAX_REPORTED_CHANNELS = 50;

/** What the report shows (and the run record keeps): rows per segment, channel and band. */
export const economicsReportSchema = z.object({
  segments: z.array(
    z.object({
      segment: z.string(),
      customers: z.number(),
      historicRevenue: z.number(),
      historicNetContribution: z.number(),
      netShare: z.number().nullable(),
      grossClv: z.number(),
      netClv: z.number(),
      negativeNetContribution: z.number(),
      satisfactionScored: z.number(),
      meanSatisfaction: z.number().nullable(),
      netPromoterScore: z.number().nullable(),
    }),
  ),
  channels: z.array(
    z.object({
      channel: z.string(),
      customers: z.number(),
      meanGrossClv: z.number(),
      meanNetClv: z.number(),
      negativeNetContribution: z.number(),
      customersWithCost: z.number(),
      meanAcquisitionCost: z.number().nullable(),
      netClvToCac: z.number().nullable(),
      lifetimeNetToCac: z.number().nullable(),
    }),
  ),
  /** Channels beyond {@link MAX_REPORTED_CHANNELS} left out of `channels`. */
  channelsOmitted: z.number().int().nonnegative(),
  satisfactionBands: z.array(
    z.object({
      band: z.enum(['detractor', 'passive', 'promoter', 'unknown']),
      customers: z.number(),
      retention: z.number().nullable(),
      meanPAlive: z.number(),
      meanGrossClv: z.number(),
      meanNetClv: z.number(),
    }),
  ),
  /** What to add when no customer has a satisfaction score; null when some have. */
  satisfactionAdvice: z.string().nullable(),
  /**
   * Customers on the high-value detractors list (`GET /playbook/high-value-detractors`); absent in
   * records written before the list existed.
   */
  highValueDetractors: z.number().int().nonnegative().optional(),
});
export type EconomicsReport = z.infer<typeof economicsReportSchema>;
// The schema describes the domain's rows: a change to either must show here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatches: [
  Same<EconomicsReport['segments'][number], SegmentEconomics>,
  Same<EconomicsReport['channels'][number], ChannelEconomics>,
  Same<EconomicsReport['satisfactionBands'][number], SatisfactionBandSummary>,
] = [true, true, true];
void schemaMatches;

export function economicsReport(aggregates: EconomicsAggregates): EconomicsReport {
  const satisfaction = new Map(
    groupSatisfaction(aggregates.segmentSatisfaction ?? {}).map((g) => [g.group, g]),
  );
  const segments = Object.keys(aggregates.segments)
    .map((segment): SegmentEconomics => {
      const s = aggregates.segments[segment]!;
      const scored = satisfaction.get(segment);
      return {
        segment,
        customers: s.customers,
        historicRevenue: s.historicRevenue,
        historicNetContribution: s.historicNetContribution,
        netShare: s.historicRevenue > 0 ? s.historicNetContribution / s.historicRevenue : null,
        grossClv: s.grossClv,
        netClv: s.netClv,
        negativeNetContribution: s.negativeNetContribution,
        satisfactionScored: scored?.scored ?? 0,
        meanSatisfaction: scored?.meanPercent ?? null,
        netPromoterScore: scored?.netPromoterScore ?? null,
      };
    })
    .sort(
      (a, b) =>
        b.historicRevenue - a.historicRevenue || (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0),
    );
  const satisfactionBands = satisfactionBandSummary(aggregates.satisfaction);
  const channels = channelEconomics(aggregates.channels);
  return {
    segments,
    channels: channels.slice(0, MAX_REPORTED_CHANNELS),
    channelsOmitted: Math.max(0, channels.length - MAX_REPORTED_CHANNELS),
    satisfactionBands,
    satisfactionAdvice: satisfactionAdvice(satisfactionBands),
    highValueDetractors: aggregates.highValueDetractors ?? 0,
  };
}
