/**
 * Order-level economics: the optional cost, margin, discount, shipping and return columns of a
 * transaction export, their validation (one reason code per bad row) and an order's net contribution.
 */
import { type DecimalSeparator, parseAmountCents } from '../ingest/amounts.ts';

/** Canonical order-economics fields an export column can be mapped to (all optional). */
export const ORDER_ECONOMICS_COLUMNS = [
  'cost',
  'margin_amount',
  'margin_rate',
  'discount',
  'shipping_cost',
  'returned_amount',
  'returned',
] as const;
export type OrderEconomicsColumn = (typeof ORDER_ECONOMICS_COLUMNS)[number];

/**
 * Header aliases (English, Dutch, German) in the normalized form of `normalizeHeader` (lower case, no
 * accents, spaces, `_ - . # / ( ) [ ]`; `%` is kept, so `Margin %` reads as `margin%`). A bare
 * `margin`/`marge` is an amount: a rate column says so (`rate`, `%`, `pct`, `percentage`).
 * `shipping` alone is deliberately absent: in most shops it is what the customer paid for shipping
 * (revenue), not what shipping cost.
 */
export const ORDER_ECONOMICS_ALIASES: Readonly<Record<OrderEconomicsColumn, readonly string[]>> = {
  cost: [
    'cost',
    'costs',
    'cogs',
    'costofgoods',
    'costofgoodssold',
    'costprice',
    'productcost',
    'goodscost',
    'inkoopprijs',
    'inkoopwaarde',
    'inkoopkosten',
    'kostprijs',
    'einkaufspreis',
    'wareneinsatz',
    'warenkosten',
    'selbstkosten',
    'herstellkosten',
  ],
  margin_amount: [
    'marginamount',
    'margin',
    'grossmargin',
    'grossprofit',
    'profit',
    'marge',
    'margebedrag',
    'brutomarge',
    'brutowinst',
    'winst',
    'deckungsbeitrag',
    'rohertrag',
    'bruttogewinn',
    'gewinn',
  ],
  margin_rate: [
    'marginrate',
    'margin%',
    'marginpct',
    'marginpercent',
    'marginpercentage',
    'grossmarginrate',
    'grossmargin%',
    'marge%',
    'margepct',
    'margepercentage',
    'brutomarge%',
    'margein%',
    'margensatz',
    'handelsspanne',
    'rohertragsquote',
  ],
  discount: [
    'discount',
    'discountamount',
    'discounts',
    'totaldiscount',
    'korting',
    'kortingsbedrag',
    'rabatt',
    'rabattbetrag',
    'nachlass',
  ],
  shipping_cost: [
    'shippingcost',
    'shippingcosts',
    'fulfillmentcost',
    'fulfilmentcost',
    'deliverycost',
    'freightcost',
    'verzendkosten',
    'bezorgkosten',
    'versandkosten',
    'lieferkosten',
    'frachtkosten',
  ],
  returned_amount: [
    'returnedamount',
    'returnamount',
    'returnsamount',
    'returns',
    'returnvalue',
    'refundedamount',
    'retourbedrag',
    'retourwaarde',
    'retourenbetrag',
    'retourenwert',
    'erstattungsbetrag',
  ],
  returned: [
    'returned',
    'isreturned',
    'return',
    'retour',
    'geretourneerd',
    'retourniert',
    'retoure',
    'zuruckgesendet',
  ],
};

/** Reject reasons of the order-economics columns (in addition to the transaction reasons). */
export type OrderEconomicsRejectReason =
  | 'cost_invalid'
  | 'margin_amount_invalid'
  | 'margin_rate_invalid'
  | 'margin_conflict'
  | 'discount_invalid'
  | 'shipping_cost_invalid'
  | 'returned_invalid'
  | 'returned_conflict';

/**
 * An order row's own economics, money in cents; null = the column is absent or empty. What the clean
 * Parquet stores (see docs/economics.md for the column types).
 */
export interface OrderEconomics {
  /** Cost of goods, ≥ 0. */
  costCents: number | null;
  /** Gross margin = amount − cost of goods; may be negative (sold below cost). */
  marginAmountCents: number | null;
  /** Gross margin as a share of the amount, 0–1. */
  marginRate: number | null;
  /** Discount given, ≥ 0 (exports that write it as a negative deduction are read by magnitude). */
  discountCents: number | null;
  /** What shipping the order cost the seller, ≥ 0. */
  shippingCostCents: number | null;
  /** Revenue refunded for returned goods, 0 ≤ returned ≤ amount. */
  returnedCents: number | null;
  /** The whole order was returned (the `returned` flag); its amount counts as returned. */
  returnedWhole: boolean | null;
}

export const NO_ORDER_ECONOMICS: Readonly<OrderEconomics> = Object.freeze({
  costCents: null,
  marginAmountCents: null,
  marginRate: null,
  discountCents: null,
  shippingCostCents: null,
  returnedCents: null,
  returnedWhole: null,
});

/** Whether the row carries any economics figure of its own (else the configured rate applies). */
export const hasOwnEconomics = (e: OrderEconomics) =>
  e.costCents !== null ||
  e.marginAmountCents !== null ||
  e.marginRate !== null ||
  e.discountCents !== null ||
  e.shippingCostCents !== null ||
  e.returnedCents !== null ||
  e.returnedWhole !== null;

export type Validated<T, Reason extends string> =
  | { ok: true; value: T }
  | { ok: false; reason: Reason; message: string };

const quote = (text: string) => `'${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`;
const formatCents = (cents: number) => {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
};

/**
 * A rate: `0.35`, `0,35`, `35%`, `35 %` (the `%` divides by 100). Either decimal separator is read
 * (rates have no thousands grouping). NaN when not a number. Range checks are the caller's.
 */
export function parseRate(text: string): number {
  let body = text.trim();
  let percent = false;
  if (body.endsWith('%')) {
    percent = true;
    body = body.slice(0, -1).trimEnd();
  }
  if (!/^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/.test(body)) return Number.NaN;
  const value = Number(body.replace(',', '.'));
  return percent ? value / 100 : value;
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'x', 'ja', 'j', 'waar', 'wahr']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'nee', 'nein', 'onwaar', 'falsch']);

/** A yes/no value in English, Dutch or German (`1`/`0` and `x` too); null when it is neither. */
export function parseFlag(text: string): boolean | null {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}

/**
 * Validates an order row's economics values (raw texts by canonical field; absent or blank = not
 * given) against its amount in cents (null for a line item without an amount: the checks against
 * the amount are then skipped). The first failing check is the reason; the message names the field.
 *
 * Combination rules: cost and margin_amount must agree exactly (margin = amount − cost); a margin_rate
 * given with either must agree to within half a percentage point of the amount (or one cent); a
 * refund row (amount < 0) is itself a return, so it cannot carry a returned amount or flag; the
 * returned flag and a returned amount must agree (flag yes ⇒ amount = the order amount).
 */
export function validateOrderEconomics(
  values: Partial<Record<OrderEconomicsColumn, string | null | undefined>>,
  amountCents: number | null,
  decimal: DecimalSeparator,
): Validated<OrderEconomics, OrderEconomicsRejectReason> {
  const text = (column: OrderEconomicsColumn) => {
    const value = values[column];
    return value === undefined || value === null ? '' : value.trim();
  };
  const money = (column: OrderEconomicsColumn) => {
    const t = text(column);
    return t === '' ? null : parseAmountCents(t, decimal);
  };
  const fail = (reason: OrderEconomicsRejectReason, message: string) =>
    ({ ok: false, reason, message }) as const;
  const notAmount = (column: OrderEconomicsColumn) =>
    `${column}: ${quote(text(column))} is not a valid amount (decimal separator '${decimal}' in this file)`;
  const refund = amountCents !== null && amountCents < 0;

  const cost = money('cost');
  if (cost !== null) {
    if (Number.isNaN(cost)) return fail('cost_invalid', notAmount('cost'));
    if (cost < 0) {
      return fail(
        'cost_invalid',
        `cost: ${quote(text('cost'))} is negative; the cost of goods is an amount ≥ 0`,
      );
    }
  }

  const margin = money('margin_amount');
  if (margin !== null) {
    if (Number.isNaN(margin)) return fail('margin_amount_invalid', notAmount('margin_amount'));
    if (amountCents !== null && (refund ? margin < amountCents : margin > amountCents)) {
      return fail(
        'margin_amount_invalid',
        `margin_amount: ${quote(text('margin_amount'))} is more than the order amount ${formatCents(amountCents)}; the margin is amount − cost of goods`,
      );
    }
  }

  let rate: number | null = null;
  const rateText = text('margin_rate');
  if (rateText !== '') {
    rate = parseRate(rateText);
    if (Number.isNaN(rate)) {
      return fail(
        'margin_rate_invalid',
        `margin_rate: ${quote(rateText)} is not a rate (write 0.35 or 35 %)`,
      );
    }
    if (rate < 0) {
      return fail(
        'margin_rate_invalid',
        `margin_rate: ${quote(rateText)} is negative; a loss-making order gives its cost or a negative margin_amount`,
      );
    }
    if (rate > 1) {
      return fail(
        'margin_rate_invalid',
        `margin_rate: ${quote(rateText)} is above 1; a rate is a share of the amount (write 0.35 or 35 %)`,
      );
    }
  }

  if (amountCents !== null) {
    if (cost !== null && margin !== null && margin !== amountCents - cost) {
      return fail(
        'margin_conflict',
        `margin_amount ${formatCents(margin)} and cost ${formatCents(cost)} disagree: amount ${formatCents(amountCents)} − cost is ${formatCents(amountCents - cost)}`,
      );
    }
    const known = cost !== null ? amountCents - cost : margin;
    if (rate !== null && known !== null) {
      const tolerance = Math.max(1, 0.005 * Math.abs(amountCents));
      if (Math.abs(rate * amountCents - known) > tolerance) {
        return fail(
          'margin_conflict',
          `margin_rate ${quote(rateText)} disagrees with the ${cost !== null ? 'cost' : 'margin_amount'}: the margin is ${formatCents(known)} of ${formatCents(amountCents)}`,
        );
      }
    }
  }

  const discount = money('discount');
  if (discount !== null && Number.isNaN(discount)) return fail('discount_invalid', notAmount('discount'));

  const shipping = money('shipping_cost');
  if (shipping !== null) {
    if (Number.isNaN(shipping)) return fail('shipping_cost_invalid', notAmount('shipping_cost'));
    if (shipping < 0) {
      return fail(
        'shipping_cost_invalid',
        `shipping_cost: ${quote(text('shipping_cost'))} is negative; what shipping cost is an amount ≥ 0`,
      );
    }
  }

  const returned = money('returned_amount');
  if (returned !== null) {
    if (Number.isNaN(returned)) return fail('returned_invalid', notAmount('returned_amount'));
    if (returned < 0) {
      return fail(
        'returned_invalid',
        `returned_amount: ${quote(text('returned_amount'))} is negative; the value of returned goods is ≥ 0`,
      );
    }
    if (amountCents !== null && !refund && returned > amountCents) {
      return fail(
        'returned_invalid',
        `returned_amount: ${quote(text('returned_amount'))} is more than the order amount ${formatCents(amountCents)}`,
      );
    }
  }
  let whole: boolean | null = null;
  const flagText = text('returned');
  if (flagText !== '') {
    whole = parseFlag(flagText);
    if (whole === null) {
      return fail(
        'returned_invalid',
        `returned: ${quote(flagText)} is not yes or no (accepted: yes/no, true/false, 1/0, ja/nee, ja/nein, x)`,
      );
    }
  }
  if (refund && (whole === true || (returned !== null && returned > 0))) {
    return fail(
      'returned_conflict',
      `${whole === true ? 'returned' : 'returned_amount'}: the row is a refund (amount ${formatCents(amountCents!)}), which is itself the return`,
    );
  }
  if (whole !== null && returned !== null) {
    const expected = whole ? amountCents : 0;
    if (expected !== null && returned !== expected) {
      return fail(
        'returned_conflict',
        `returned is '${flagText}' but returned_amount is ${formatCents(returned)}${whole ? ` (the order amount is ${formatCents(amountCents!)})` : ''}`,
      );
    }
  }

  return {
    ok: true,
    value: {
      costCents: cost,
      marginAmountCents: margin,
      marginRate: rate,
      // Exports write discounts either way round ("5.00" or "-5.00" off); both mean 5.00 off.
      discountCents: discount === null ? null : Math.abs(discount),
      shippingCostCents: shipping,
      returnedCents: returned,
      returnedWhole: whole,
    },
  };
}

/** How the goods margin of an order was known. */
export type MarginBasis = 'cost' | 'margin_amount' | 'margin_rate' | 'configured_rate';

export interface OrderNetContribution {
  /** Net contribution in cents (whole cents: rate products are rounded half away from zero). */
  netCents: number;
  /** Goods margin before discount, shipping and returns. */
  goodsMarginCents: number;
  basis: MarginBasis;
  /** The row had figures of its own (it informs the customer's net/revenue ratio). */
  ownFigures: boolean;
}

export interface NetContributionOptions {
  /** Margin rate when the row has no cost or margin: channel, source or default (`configuredMarginRate`). */
  configuredRate: number;
  /** The export's amount is already net of `discount` (do not subtract it again). Default false. */
  discountIncludedInAmount?: boolean;
}

const roundHalfAwayFromZero = (value: number) => Math.sign(value) * Math.round(Math.abs(value));

/**
 * Net contribution of one order row:
 *
 *   goods margin − discount − shipping cost − returned,
 *   goods margin = amount − cost, else margin_amount, else amount × margin_rate, else amount × the
 *   configured rate;  returned = the amount when the `returned` flag is yes, else returned_amount.
 *
 * A missing discount, shipping cost or return is 0. The cost of returned goods is not recovered (the
 * whole order returned gives −cost − discount − shipping): returned goods are rarely sold again at
 * full price, and the conservative figure is the one a marketer should plan with. With no figures
 * and rate 1 the result is the amount, to the cent.
 */
export function orderNetContribution(
  amountCents: number,
  economics: OrderEconomics,
  options: NetContributionOptions,
): OrderNetContribution {
  let goodsMarginCents: number;
  let basis: MarginBasis;
  if (economics.costCents !== null) {
    goodsMarginCents = amountCents - economics.costCents;
    basis = 'cost';
  } else if (economics.marginAmountCents !== null) {
    goodsMarginCents = economics.marginAmountCents;
    basis = 'margin_amount';
  } else if (economics.marginRate !== null) {
    goodsMarginCents = roundHalfAwayFromZero(amountCents * economics.marginRate);
    basis = 'margin_rate';
  } else {
    goodsMarginCents = roundHalfAwayFromZero(amountCents * options.configuredRate);
    basis = 'configured_rate';
  }
  const discount = options.discountIncludedInAmount ? 0 : (economics.discountCents ?? 0);
  const returned = economics.returnedWhole ? amountCents : (economics.returnedCents ?? 0);
  const netCents = goodsMarginCents - discount - (economics.shippingCostCents ?? 0) - returned;
  return { netCents, goodsMarginCents, basis, ownFigures: hasOwnEconomics(economics) };
}
