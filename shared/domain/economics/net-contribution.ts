/**
 * Net CLV: the revenue CLV of the spend model times each customer's expected net/revenue ratio (own
 * ratio shrunk toward their group's), minus the expected cost to serve; gross and net side by side.
 */
import { type ClvOptions, type CustomersToScore, scoreCustomers } from '../clv.ts';
import type { PurchaseModelName } from '../models/types.ts';
import type { CostToServe } from './cost-to-serve.ts';
import { emptyKeyedSums, type KeyedSums, mergeKeyedSums, sumsOf } from './keyed-sums.ts';
import type { OrderNetContribution } from './order-economics.ts';

/**
 * A customer's (or group's) observed economics, cents. `own*` sum the orders with figures of their
 * own (cost, margin, discount, shipping or returns): only they say something about the customer's
 * ratio. `historicNetCents` sums the net contribution of every order (configured rates included).
 */
export interface ObservedEconomics {
  ownOrders: number;
  ownRevenueCents: number;
  ownNetCents: number;
  historicNetCents: number;
}

export const emptyObservedEconomics = (): ObservedEconomics => ({
  ownOrders: 0,
  ownRevenueCents: 0,
  ownNetCents: 0,
  historicNetCents: 0,
});

/** Adds one order row (its amount and `orderNetContribution`) to a customer's observed economics. */
export function addObservedOrder(
  observed: ObservedEconomics,
  amountCents: number,
  order: OrderNetContribution,
): ObservedEconomics {
  observed.historicNetCents += order.netCents;
  if (order.ownFigures) {
    observed.ownOrders += 1;
    observed.ownRevenueCents += amountCents;
    observed.ownNetCents += order.netCents;
  }
  return observed;
}

const GROUP_FIELDS = ['ownOrders', 'ownRevenueCents', 'ownNetCents'] as const;
type GroupField = (typeof GROUP_FIELDS)[number];

/**
 * Observed economics per group (acquisition channel, else source): the prior of the customers' ratios.
 * Computed over all customers before scoring (or in SQL), merged across parts in any order.
 */
export type NetRatioGroups = KeyedSums<GroupField>;
export const emptyNetRatioGroups = (): NetRatioGroups => emptyKeyedSums<GroupField>();

export function addToNetRatioGroup(groups: NetRatioGroups, group: string, observed: ObservedEconomics): void {
  const sums = sumsOf(groups, group, GROUP_FIELDS);
  sums.ownOrders += observed.ownOrders;
  sums.ownRevenueCents += observed.ownRevenueCents;
  sums.ownNetCents += observed.ownNetCents;
}

export const mergeNetRatioGroups = (a: NetRatioGroups, b: NetRatioGroups): NetRatioGroups =>
  mergeKeyedSums(a, b, GROUP_FIELDS);

/**
 * The group's net/revenue ratio (revenue-weighted: Σ net / Σ revenue of its orders with figures);
 * null when the group has no such orders or no positive revenue in them.
 */
export function groupNetRatio(groups: NetRatioGroups, group: string): number | null {
  if (!Object.hasOwn(groups, group)) return null;
  const sums = groups[group]!;
  return sums.ownOrders > 0 && sums.ownRevenueCents > 0 ? sums.ownNetCents / sums.ownRevenueCents : null;
}

export type NetRatioBasis = 'customer_and_group' | 'customer_and_configured' | 'group' | 'configured';

export interface NetRatioInput {
  observed: ObservedEconomics;
  /** `groupNetRatio` of the customer's group; null when the group has no figures. */
  groupRatio: number | null;
  /** `configuredMarginRate` for the customer's channel/source (default: the run's clv.margin). */
  configuredRate: number;
  /** `ratioShrinkageOrders` (k). */
  shrinkageOrders: number;
}

/**
 * Expected net contribution per unit of revenue:
 *
 *   ρ = (n · r + k · prior) / (n + k),  r = own net / own revenue, n = orders with own figures,
 *   prior = the group's ratio, else the configured rate.
 *
 * A credibility-weighted mean: a customer with k such orders is trusted half-way. Without own orders
 * (or with own revenue ≤ 0, where r means nothing) ρ is the prior itself — exactly, so that a run
 * without economics data keeps ρ = clv.margin and net CLV = gross CLV to the last bit.
 */
export function expectedNetRatio(input: NetRatioInput): { ratio: number; basis: NetRatioBasis } {
  const { observed, groupRatio, configuredRate, shrinkageOrders } = input;
  const prior = groupRatio ?? configuredRate;
  if (observed.ownOrders === 0 || !(observed.ownRevenueCents > 0)) {
    return { ratio: prior, basis: groupRatio === null ? 'configured' : 'group' };
  }
  const own = observed.ownNetCents / observed.ownRevenueCents;
  const n = observed.ownOrders;
  return {
    ratio: (n * own + shrinkageOrders * prior) / (n + shrinkageOrders),
    basis: groupRatio === null ? 'customer_and_configured' : 'customer_and_group',
  };
}

/**
 * Σ_i E[purchases in month i] / (1 + d)^i per customer — the CLV's discounted expected orders —
 * computed by clv.ts itself (spend 1 per order, margin 1), so its discounting and interpolation are
 * reused as they are. Needs a second scoring pass; see docs/economics.md for the one-pass proposal.
 */
export function discountedExpectedPurchases(
  model: PurchaseModelName,
  params: Readonly<Record<string, number>>,
  customers: Pick<CustomersToScore, 'x' | 'tx' | 'T'>,
  options: ClvOptions,
): Float64Array {
  const ones = new Float64Array(customers.x.length).fill(1);
  return scoreCustomers(model, params, null, { ...customers, monetaryValue: ones }, { ...options, margin: 1 })
    .clv;
}

export interface NetClvInput {
  /** Today's CLV from clv.ts: margin × E[spend] × discounted expected purchases. */
  grossClv: number;
  /** The margin `grossClv` was computed with (the run's clv.margin, > 0). */
  margin: number;
  /** Expected spend per order (revenue), from the spend model. */
  expectedSpend: number;
  discountedExpectedPurchases: number;
  /** `expectedNetRatio(...).ratio`. */
  netRatio: number;
  costToServe: CostToServe;
  handlingCostPerOrder: number;
}

export interface NetClv {
  grossClv: number;
  /** grossClv / margin × ρ: the net contribution of the expected orders before cost to serve. */
  netContributionValue: number;
  costToServe: number;
  /** netContributionValue − cost to serve. */
  netClv: number;
  /** E[spend] × ρ − handling cost per order. */
  expectedNetContributionPerOrder: number;
  /** Net CLV below zero: serving the customer costs more than their orders bring. */
  negativeNetContribution: boolean;
}

/**
 * netClv = grossClv × (ρ / margin) − cost to serve. Gamma-Gamma stays fitted on revenue (it cannot
 * take the zero and negative values of net contribution); ρ carries each customer's economics.
 * With ρ = margin and no costs, netClv === grossClv exactly (x × 1 − 0 = x in floating point).
 */
export function netClv(input: NetClvInput): NetClv {
  if (!(input.margin > 0)) throw new RangeError(`margin must be > 0, got ${input.margin}`);
  const factor = input.netRatio / input.margin;
  const netContributionValue = factor === 1 ? input.grossClv : input.grossClv * factor;
  const cost = input.costToServe.total;
  const value = cost === 0 ? netContributionValue : netContributionValue - cost;
  return {
    grossClv: input.grossClv,
    netContributionValue,
    costToServe: cost,
    netClv: value,
    expectedNetContributionPerOrder: input.expectedSpend * input.netRatio - input.handlingCostPerOrder,
    negativeNetContribution: value < 0,
  };
}
