/**
 * Net CLV next to gross CLV for a batch of scored customers (docs/economics.md §3): each customer's
 * expected net/revenue ratio (own figures shrunk toward the group's), cost to serve, acquisition cost
 * and CLV/CAC, from the warehouse's economics sums and attributes. The score fields are named as the
 * design proposes: `grossClv` (today's `clv`), `netClv`, `costToServe`, `clvToCac`,
 * `negativeNetContribution`.
 */
import type { CustomerScores } from '../clv.ts';
import { acquisitionCost, clvToCac } from './acquisition.ts';
import { discountedMonths, expectedCostToServe, serviceCostPerMonth } from './cost-to-serve.ts';
import type { CustomerAttributes } from './customer-attributes.ts';
import { configuredMarginRate, type EconomicsConfig } from './economics-config.ts';
import {
  addToNetRatioGroup,
  emptyNetRatioGroups,
  emptyObservedEconomics,
  expectedNetRatio,
  groupNetRatio,
  type NetRatioBasis,
  type NetRatioGroups,
  netClv,
  type ObservedEconomics,
} from './net-contribution.ts';

/** What scoring knows of one customer's economics. */
export interface CustomerEconomicsInput {
  customerId: string;
  /** From the economics sums (`observedEconomicsFromSums`); null = no orders in the period. */
  observed: ObservedEconomics | null;
  attributes: CustomerAttributes | null;
  /** The source the customer bought most from (for the configured margin rate and the group). */
  primarySource: string | null;
}

/** A customer's economics as the run's summaries carry them (the customer id is the row's). */
export interface SummaryEconomics {
  primarySource: string | null;
  observed: ObservedEconomics | null;
  attributes: Omit<CustomerAttributes, 'customerId'> | null;
}

/** The group whose ratio is a customer's prior: acquisition channel, else source. */
export const netRatioGroupOf = (c: Pick<CustomerEconomicsInput, 'attributes' | 'primarySource'>) =>
  c.attributes?.acquisitionChannel != null
    ? `channel:${c.attributes.acquisitionChannel}`
    : `source:${c.primarySource ?? ''}`;

/** The groups' observed economics over all customers of the run (the priors of their ratios). */
export function netRatioGroupsOf(customers: Iterable<CustomerEconomicsInput>): NetRatioGroups {
  const groups = emptyNetRatioGroups();
  for (const c of customers) {
    if (c.observed) addToNetRatioGroup(groups, netRatioGroupOf(c), c.observed);
  }
  return groups;
}

/** The economics fields of one customer's score, run currency. */
export interface EconomicsScore {
  /** Today's CLV (revenue × clv.margin), unchanged. */
  grossClv: number;
  /** Expected net contribution over the horizon minus cost to serve; may be negative. */
  netClv: number;
  costToServe: number;
  /** E[spend] × ρ − handling cost per order. */
  expectedNetContributionPerOrder: number;
  negativeNetContribution: boolean;
  netRatio: number;
  netRatioBasis: NetRatioBasis;
  /** Net contribution of the orders so far (configured rates included). */
  historicNetContribution: number;
  acquisitionChannel: string | null;
  acquisitionCost: number | null;
  /** netClv / acquisition cost; null without a positive cost. */
  clvToCac: number | null;
}

export interface ScoreEconomicsInput {
  /** `scoreSummaryRows` of the same customers, in the same order. */
  scores: CustomerScores;
  /**
   * `discountedExpectedPurchases` of the same customers (the period families: `familyValueFactors`'
   * discounted expected transactions).
   */
  discountedExpectedPurchases: ArrayLike<number>;
  /**
   * Period families only (`familyValueFactors`): the discounted expected months alive, which the
   * service cost is charged over instead of P(alive) today × the discounted months of the horizon.
   */
  discountedAliveMonths?: ArrayLike<number>;
  customers: readonly CustomerEconomicsInput[];
  /** `netRatioGroupsOf` over every customer of the run (not just this batch). */
  groups: NetRatioGroups;
  config: EconomicsConfig;
  /** The run's clv.margin (what `scores.clv` was computed with). */
  clvMargin: number;
}

/**
 * Net CLV per customer (docs/economics.md §3). Without economics data (no figures, no attributes,
 * default settings) every `netClv` equals `grossClv` exactly and every cost is 0.
 */
export function scoreEconomics(input: ScoreEconomicsInput): EconomicsScore[] {
  const { scores, config } = input;
  if (input.customers.length !== scores.length) {
    throw new RangeError(`${input.customers.length} customers for ${scores.length} scores`);
  }
  const months = discountedMonths(scores.terms);
  return input.customers.map((customer, i) => {
    const observed = customer.observed ?? emptyObservedEconomics();
    const configuredRate = configuredMarginRate(config, customer.primarySource, null, input.clvMargin);
    const ratio = expectedNetRatio({
      observed,
      groupRatio: groupNetRatio(input.groups, netRatioGroupOf(customer)),
      configuredRate,
      shrinkageOrders: config.ratioShrinkageOrders,
    });
    const costToServe = expectedCostToServe({
      discountedExpectedPurchases: input.discountedExpectedPurchases[i]!,
      probabilityAlive: scores.probabilityAlive[i]!,
      handlingCostPerOrder: config.handlingCostPerOrder,
      serviceCostPerMonth: serviceCostPerMonth(customer.attributes, config).perMonth,
      discountedMonths: months,
      ...(input.discountedAliveMonths ? { discountedAliveMonths: input.discountedAliveMonths[i]! } : {}),
    });
    const value = netClv({
      grossClv: scores.clv[i]!,
      margin: input.clvMargin,
      expectedSpend: scores.expectedSpend[i]!,
      discountedExpectedPurchases: input.discountedExpectedPurchases[i]!,
      netRatio: ratio.ratio,
      costToServe,
      handlingCostPerOrder: config.handlingCostPerOrder,
    });
    const cac = acquisitionCost(customer.attributes, config).cost;
    return {
      grossClv: value.grossClv,
      netClv: value.netClv,
      costToServe: value.costToServe,
      expectedNetContributionPerOrder: value.expectedNetContributionPerOrder,
      negativeNetContribution: value.negativeNetContribution,
      netRatio: ratio.ratio,
      netRatioBasis: ratio.basis,
      historicNetContribution: observed.historicNetCents / 100,
      acquisitionChannel: customer.attributes?.acquisitionChannel ?? null,
      acquisitionCost: cac,
      clvToCac: clvToCac(value.netClv, cac),
    };
  });
}
