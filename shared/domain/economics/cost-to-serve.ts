/**
 * Expected cost to serve a customer over the CLV horizon: handling per expected order plus service
 * cost per month while the customer is alive, discounted the way the CLV is.
 */
import type { ClvTerms } from '../clv.ts';
import type { CustomerAttributes } from './customer-attributes.ts';
import type { EconomicsConfig } from './economics-config.ts';

/** Σ_{i=1..H} 1 / (1 + d)^i: the present value of 1 per month over the CLV horizon (clv.ts's factors). */
export function discountedMonths(terms: ClvTerms): number {
  let sum = 0;
  for (let i = 0; i < terms.periods; i++) sum += (1 + terms.discountRatePerPeriod) ** -(i + 1);
  return sum;
}

export type ServiceCostBasis = 'attributes_cost' | 'attributes_contacts' | 'configured' | 'none';

/**
 * Service cost per month, run currency: the customer's own service cost per period, else their
 * service contacts × cost per contact, else the configured cost per period; each divided by the
 * period's months.
 */
export function serviceCostPerMonth(
  attributes: Pick<CustomerAttributes, 'serviceCostCents' | 'serviceContacts'> | null,
  config: EconomicsConfig,
): { perMonth: number; basis: ServiceCostBasis } {
  const months = config.servicePeriodMonths;
  if (attributes?.serviceCostCents != null) {
    return { perMonth: attributes.serviceCostCents / 100 / months, basis: 'attributes_cost' };
  }
  if (attributes?.serviceContacts != null) {
    return {
      perMonth: (attributes.serviceContacts * config.costPerServiceContact) / months,
      basis: 'attributes_contacts',
    };
  }
  if (config.serviceCostPerPeriod > 0) {
    return { perMonth: config.serviceCostPerPeriod / months, basis: 'configured' };
  }
  return { perMonth: 0, basis: 'none' };
}

export interface CostToServeInput {
  /** Σ_i E[purchases in month i] / (1 + d)^i: the CLV's discounted expected orders. */
  discountedExpectedPurchases: number;
  probabilityAlive: number;
  handlingCostPerOrder: number;
  serviceCostPerMonth: number;
  /** `discountedMonths(terms)`. */
  discountedMonths: number;
  /**
   * The period families' Σ_k P(alive in period k) × months per period / (1 + d)^k
   * (`familyValueFactors`): when given, service = cost per month × this, P(alive) weighted period by
   * period instead of P(alive) today over the whole horizon.
   */
  discountedAliveMonths?: number;
}

export interface CostToServe {
  handling: number;
  service: number;
  total: number;
}

/**
 * handling = cost per order × discounted expected orders;
 * service = cost per month × P(alive) × Σ_i 1/(1 + d)^i.
 * Service is charged for the whole horizon to the customer alive now: slightly more than the exact
 * figure (which would use P(alive) at each future month), the cautious side for a cost.
 * Zero costs give exactly 0 (no 0 × NaN).
 */
export function expectedCostToServe(input: CostToServeInput): CostToServe {
  const handling =
    input.handlingCostPerOrder === 0 ? 0 : input.handlingCostPerOrder * input.discountedExpectedPurchases;
  const service =
    input.serviceCostPerMonth === 0
      ? 0
      : input.discountedAliveMonths !== undefined
        ? input.serviceCostPerMonth * input.discountedAliveMonths
        : input.serviceCostPerMonth * input.probabilityAlive * input.discountedMonths;
  return { handling, service, total: handling + service };
}
