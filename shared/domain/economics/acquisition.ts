/**
 * Acquisition cost per customer and CLV/CAC, per customer and per acquisition channel (additive
 * accumulators, so the recalculation's parts merge in any order).
 */
import type { CustomerAttributes } from './customer-attributes.ts';
import type { EconomicsConfig } from './economics-config.ts';
import { emptyKeyedSums, type KeyedSums, mergeKeyedSums, sumsOf } from './keyed-sums.ts';

/** Channel key of customers whose acquisition channel nobody exported. */
export const UNKNOWN_CHANNEL = '(unknown)';

export type AcquisitionCostBasis = 'customer' | 'channel' | 'none';

/** The customer's own acquisition cost, else their channel's configured cost per customer, else none. */
export function acquisitionCost(
  attributes: Pick<CustomerAttributes, 'acquisitionCostCents' | 'acquisitionChannel'> | null,
  config: EconomicsConfig,
): { cost: number | null; basis: AcquisitionCostBasis } {
  if (attributes?.acquisitionCostCents != null) {
    return { cost: attributes.acquisitionCostCents / 100, basis: 'customer' };
  }
  const channel = attributes?.acquisitionChannel;
  if (channel != null && Object.hasOwn(config.acquisitionCostByChannel, channel)) {
    return { cost: config.acquisitionCostByChannel[channel]!, basis: 'channel' };
  }
  return { cost: null, basis: 'none' };
}

/** value / CAC; null without a cost or with a cost of 0 (a ratio to nothing says nothing). */
export const clvToCac = (value: number, cost: number | null): number | null =>
  cost !== null && cost > 0 ? value / cost : null;

const CHANNEL_FIELDS = [
  'customers',
  'grossClv',
  'netClv',
  'negativeNetContribution',
  'customersWithCost',
  'acquisitionCost',
  'netClvWithCost',
  'lifetimeNetWithCost',
] as const;
type ChannelField = (typeof CHANNEL_FIELDS)[number];

/** Sums per acquisition channel. */
export type ChannelEconomicsAccumulator = KeyedSums<ChannelField>;
export const emptyChannelEconomics = (): ChannelEconomicsAccumulator => emptyKeyedSums<ChannelField>();

export interface ChannelCustomer {
  acquisitionChannel: string | null;
  grossClv: number;
  netClv: number;
  negativeNetContribution: boolean;
  acquisitionCost: number | null;
  /** Net contribution of the orders so far (run currency). */
  historicNetContribution: number;
}

export function addChannelCustomer(accumulator: ChannelEconomicsAccumulator, c: ChannelCustomer): void {
  const sums = sumsOf(accumulator, c.acquisitionChannel ?? UNKNOWN_CHANNEL, CHANNEL_FIELDS);
  sums.customers += 1;
  sums.grossClv += c.grossClv;
  sums.netClv += c.netClv;
  if (c.negativeNetContribution) sums.negativeNetContribution += 1;
  // The ratio compares like with like: only customers whose cost is known enter either side.
  if (c.acquisitionCost !== null) {
    sums.customersWithCost += 1;
    sums.acquisitionCost += c.acquisitionCost;
    sums.netClvWithCost += c.netClv;
    sums.lifetimeNetWithCost += c.historicNetContribution + c.netClv;
  }
}

export const mergeChannelEconomics = (a: ChannelEconomicsAccumulator, b: ChannelEconomicsAccumulator) =>
  mergeKeyedSums(a, b, CHANNEL_FIELDS);

export interface ChannelEconomics {
  channel: string;
  customers: number;
  meanGrossClv: number;
  meanNetClv: number;
  /** Customers with a negative net CLV. */
  negativeNetContribution: number;
  customersWithCost: number;
  meanAcquisitionCost: number | null;
  /** Σ net CLV / Σ acquisition cost over customers with a known cost: the horizon's return on acquisition. */
  netClvToCac: number | null;
  /** (Σ net contribution so far + Σ net CLV) / Σ acquisition cost: what acquiring them has paid and will pay. */
  lifetimeNetToCac: number | null;
}

/** One row per channel, by customers (descending), then name. */
export function channelEconomics(accumulator: ChannelEconomicsAccumulator): ChannelEconomics[] {
  return Object.keys(accumulator)
    .map((channel) => {
      const s = accumulator[channel]!;
      return {
        channel,
        customers: s.customers,
        meanGrossClv: s.customers > 0 ? s.grossClv / s.customers : 0,
        meanNetClv: s.customers > 0 ? s.netClv / s.customers : 0,
        negativeNetContribution: s.negativeNetContribution,
        customersWithCost: s.customersWithCost,
        meanAcquisitionCost: s.customersWithCost > 0 ? s.acquisitionCost / s.customersWithCost : null,
        netClvToCac: clvToCac(s.netClvWithCost, s.customersWithCost > 0 ? s.acquisitionCost : null),
        lifetimeNetToCac: clvToCac(s.lifetimeNetWithCost, s.customersWithCost > 0 ? s.acquisitionCost : null),
      };
    })
    .sort(
      (a, b) => b.customers - a.customers || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0),
    );
}
