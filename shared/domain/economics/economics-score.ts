/**
 * The economics fields of a published customer score (docs/economics.md §3): net CLV next to the
 * score's `clv` (which stays the gross CLV), cost to serve, CLV/CAC, acquisition channel and
 * satisfaction. Present only in runs with economics; a few numbers, so score items stay small.
 */
import * as z from 'zod';
import type { CustomerAttributes } from './customer-attributes.ts';
import { satisfactionBand } from './satisfaction.ts';
import type { EconomicsScore } from './score-economics.ts';

export const customerEconomicsScoreSchema = z
  .object({
    netClv: z
      .number()
      .describe(
        'Net CLV: expected net contribution over the run horizon (the gross `clv` × the customer’s expected net/revenue ratio) minus the expected cost to serve; may be negative',
      ),
    costToServe: z
      .number()
      .nonnegative()
      .describe(
        'Expected cost to serve over the horizon: handling cost per expected order plus service cost',
      ),
    netRatio: z
      .number()
      .describe('Expected net contribution per unit of revenue (own ratio shrunk toward the group’s)'),
    historicNetContribution: z.number().describe('Net contribution of the orders so far'),
    negativeNetContribution: z
      .boolean()
      .describe('The net CLV is below zero: the customer costs more than they bring'),
    acquisitionChannel: z.string().nullable().describe('Acquisition channel from the customer attributes'),
    acquisitionCost: z
      .number()
      .nullable()
      .describe(
        'Acquisition cost: the customer’s own, else the channel’s configured cost; null when unknown',
      ),
    clvToCac: z
      .number()
      .nullable()
      .describe('netClv / acquisitionCost; null without a positive acquisition cost'),
    satisfaction: z
      .object({
        scale: z.enum(['nps', 'csat']),
        score: z.number().int(),
        band: z.enum(['detractor', 'passive', 'promoter']),
      })
      .nullable()
      .describe('Latest satisfaction score (NPS 0–10 or CSAT 1–5) and its band; null when none was exported'),
    highValueDetractor: z
      .boolean()
      .optional()
      .describe(
        'A detractor of high value (value tier at or above economics.highValue.minValueTier, or net CLV ≥ economics.highValue.minNetClv): listed by GET /playbook/high-value-detractors',
      ),
  })
  .describe(
    'Customer economics (net CLV, cost to serve, CLV/CAC, satisfaction); only in runs with economics data',
  );
export type CustomerEconomicsScore = z.infer<typeof customerEconomicsScoreSchema>;

const round = (value: number, digits: number) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The published fields of one customer's economics (money to the cent, ratios to 6 digits). */
export function customerEconomicsScore(
  economics: EconomicsScore,
  attributes: Pick<CustomerAttributes, 'satisfaction'> | null,
  highValueDetractor = false,
): CustomerEconomicsScore {
  const satisfaction = attributes?.satisfaction ?? null;
  return {
    netClv: round(economics.netClv, 2),
    costToServe: round(economics.costToServe, 2),
    netRatio: round(economics.netRatio, 6),
    historicNetContribution: round(economics.historicNetContribution, 2),
    negativeNetContribution: economics.negativeNetContribution,
    acquisitionChannel: economics.acquisitionChannel,
    acquisitionCost: economics.acquisitionCost,
    clvToCac: economics.clvToCac === null ? null : round(economics.clvToCac, 6),
    satisfaction: satisfaction ? { ...satisfaction, band: satisfactionBand(satisfaction) } : null,
    // Only on the listed customers: the flag is what puts a score item on the list's index.
    ...(highValueDetractor ? { highValueDetractor: true } : {}),
  };
}
