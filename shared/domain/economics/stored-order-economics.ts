/**
 * The form in which an order row's economics reach clean data: money only. A row's own margin rate is
 * resolved to a margin amount at ingest (rounded half away from zero to whole cents, exactly as
 * `orderNetContribution` rounds it), so the clean Parquet and the warehouse SQL deal in DECIMAL(18,2)
 * amounts alone and the net contribution per order is one sum in SQL. Nothing is lost for the
 * formula: cost still comes first, then the margin amount, and a rate-only row's margin amount is
 * the very product the formula would have used (property-tested).
 */
import type { OrderEconomics } from './order-economics.ts';

export interface StoredOrderEconomics {
  costCents: number | null;
  /** The row's margin amount, else its margin rate × amount; null when it had neither. */
  marginAmountCents: number | null;
  discountCents: number | null;
  shippingCostCents: number | null;
  returnedCents: number | null;
  returned: boolean | null;
}

const roundHalfAwayFromZero = (value: number) => Math.sign(value) * Math.round(Math.abs(value));

/**
 * `amountCents` null = a line item without an amount, which the clean data stores as 0 (see
 * `finishWithDuckDb`): its rate resolves against 0.
 */
export function storedOrderEconomics(e: OrderEconomics, amountCents: number | null): StoredOrderEconomics {
  let margin = e.marginAmountCents;
  if (margin === null && e.marginRate !== null) {
    const product = roundHalfAwayFromZero((amountCents ?? 0) * e.marginRate);
    margin = product === 0 ? 0 : product; // no -0 in clean data
  }
  return {
    costCents: e.costCents,
    marginAmountCents: margin,
    discountCents: e.discountCents,
    shippingCostCents: e.shippingCostCents,
    returnedCents: e.returnedCents,
    returned: e.returnedWhole,
  };
}

/** The stored form read back as `OrderEconomics` (what the warehouse sees): the rate is gone. */
export function orderEconomicsFromStored(s: StoredOrderEconomics): OrderEconomics {
  return {
    costCents: s.costCents,
    marginAmountCents: s.marginAmountCents,
    marginRate: null,
    discountCents: s.discountCents,
    shippingCostCents: s.shippingCostCents,
    returnedCents: s.returnedCents,
    returnedWhole: s.returned,
  };
}
