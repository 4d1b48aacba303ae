/**
 * A customer's observed economics from the warehouse's per-(source, channel) sums: the documented net
 * contribution (`orderNetContribution`) summed over the customer's rows, with the configured margin
 * rate applied to each group's revenue that has no margin figure of its own.
 */
import { configuredMarginRate, type EconomicsConfig } from './economics-config.ts';
import { emptyObservedEconomics, type ObservedEconomics } from './net-contribution.ts';

/** One group's sums (see `CustomerEconomicsRow` of the warehouse statement), cents. */
export interface EconomicsSums {
  customerId: string;
  source: string;
  channel: string | null;
  ownOrders: number;
  ownRevenueCents: number;
  ownKnownMarginCents: number;
  ownRatedRevenueCents: number;
  discountCents: number;
  shippingCostCents: number;
  returnedCents: number;
  plainRevenueCents: number;
}

const roundHalfAwayFromZero = (value: number) => Math.sign(value) * Math.round(Math.abs(value));

/**
 * Folds the groups into each customer's `ObservedEconomics`:
 *
 *   own net      = Σ known margin + round(Σ rated revenue × rate) − discount − shipping − returned
 *   historic net = own net + round(Σ plain revenue × rate)
 *
 * with the group's configured rate (channel, else source, else `economics.marginRate.default`, else
 * `clvMargin`) and the discount left out when `discountIncludedInAmount`. The rate is applied to the
 * group's sum, rounded once: per row rounding (`orderNetContribution`) can differ by at most half a
 * cent per row; rows with their own cost or margin are exact.
 */
export function observedEconomicsFromSums(
  rows: Iterable<EconomicsSums>,
  config: EconomicsConfig,
  clvMargin: number,
): Map<string, ObservedEconomics> {
  const byCustomer = new Map<string, ObservedEconomics>();
  for (const row of rows) {
    const rate = configuredMarginRate(config, row.source, row.channel, clvMargin);
    const discount = config.discountIncludedInAmount ? 0 : row.discountCents;
    const ownNet =
      row.ownKnownMarginCents +
      roundHalfAwayFromZero(row.ownRatedRevenueCents * rate) -
      discount -
      row.shippingCostCents -
      row.returnedCents;
    const observed = byCustomer.get(row.customerId) ?? emptyObservedEconomics();
    observed.ownOrders += row.ownOrders;
    observed.ownRevenueCents += row.ownRevenueCents;
    observed.ownNetCents += ownNet;
    observed.historicNetCents += ownNet + roundHalfAwayFromZero(row.plainRevenueCents * rate);
    byCustomer.set(row.customerId, observed);
  }
  return byCustomer;
}
