// Order economics: each column's validation (reason code + message naming the field), the
// combination rules, and the net contribution of an order.
import { describe, expect, it } from 'vitest';
import {
  NO_ORDER_ECONOMICS,
  ORDER_ECONOMICS_ALIASES,
  type OrderEconomics,
  orderNetContribution,
  parseFlag,
  parseRate,
  validateOrderEconomics,
} from '#domain/economics/order-economics.ts';
import { normalizeHeader } from '#domain/ingest/column-mapping.ts';

const valid = (values: Parameters<typeof validateOrderEconomics>[0], amount: number | null = 10_000) => {
  const result = validateOrderEconomics(values, amount, '.');
  if (!result.ok) throw new Error(`expected valid, got ${result.reason}: ${result.message}`);
  return result.value;
};
const rejected = (
  values: Parameters<typeof validateOrderEconomics>[0],
  amount: number | null = 10_000,
  decimal: '.' | ',' = '.',
) => {
  const result = validateOrderEconomics(values, amount, decimal);
  if (result.ok) throw new Error('expected a reject');
  return result;
};

describe('order economics aliases', () => {
  it('are in normalized form and unique across the fields', () => {
    const all = Object.values(ORDER_ECONOMICS_ALIASES).flat();
    for (const alias of all) expect(normalizeHeader(alias)).toBe(alias);
    expect(new Set(all).size).toBe(all.length);
  });

  it('read English, Dutch and German headers; a rate says so in its name', () => {
    const field = (header: string) =>
      Object.entries(ORDER_ECONOMICS_ALIASES).find(([, aliases]) =>
        aliases.includes(normalizeHeader(header)),
      )?.[0];
    expect(field('Cost of goods')).toBe('cost');
    expect(field('Inkoopprijs')).toBe('cost');
    expect(field('Wareneinsatz')).toBe('cost');
    expect(field('Marge')).toBe('margin_amount');
    expect(field('Margin %')).toBe('margin_rate');
    expect(field('Marge (%)')).toBe('margin_rate');
    expect(field('Margensatz')).toBe('margin_rate');
    expect(field('Korting')).toBe('discount');
    expect(field('Rabatt')).toBe('discount');
    expect(field('Verzendkosten')).toBe('shipping_cost');
    expect(field('Versandkosten')).toBe('shipping_cost');
    expect(field('Shipping')).toBeUndefined();
    expect(field('Retourbedrag')).toBe('returned_amount');
    expect(field('Geretourneerd')).toBe('returned');
    expect(field('Retourniert')).toBe('returned');
  });
});

describe('parseRate and parseFlag', () => {
  it('reads rates with either decimal separator and percentages', () => {
    expect(parseRate('0.35')).toBe(0.35);
    expect(parseRate('0,35')).toBe(0.35);
    expect(parseRate('35%')).toBe(0.35);
    expect(parseRate(' 35,5 % ')).toBeCloseTo(0.355, 15);
    expect(parseRate('1.234,5')).toBeNaN();
    expect(parseRate('abc')).toBeNaN();
  });

  it('reads yes/no in three languages', () => {
    for (const yes of ['yes', 'TRUE', '1', 'x', 'ja', 'J', 'wahr']) expect(parseFlag(yes)).toBe(true);
    for (const no of ['no', 'false', '0', 'nee', 'nein', 'N']) expect(parseFlag(no)).toBe(false);
    expect(parseFlag('maybe')).toBeNull();
  });
});

describe('validateOrderEconomics', () => {
  it('accepts an empty row as no figures', () => {
    expect(valid({})).toEqual(NO_ORDER_ECONOMICS);
    expect(valid({ cost: '  ', discount: '' })).toEqual(NO_ORDER_ECONOMICS);
  });

  it('reads every column in the file’s decimal style', () => {
    const result = validateOrderEconomics(
      {
        cost: '40,00',
        discount: '-5,00',
        shipping_cost: '4,95',
        returned_amount: '10,00',
      },
      10_000,
      ',',
    );
    expect(result).toEqual({ ok: true, value: expect.anything() });
    expect(result.ok && result.value).toMatchObject({
      costCents: 4000,
      discountCents: 500, // a deduction written negative is the same discount
      shippingCostCents: 495,
      returnedCents: 1000,
      returnedWhole: null,
    });
    expect(valid({ returned: 'nee' }).returnedWhole).toBe(false);
  });

  it.each([
    [{ cost: '-3.00' }, 'cost_invalid', /^cost: '-3\.00' is negative/],
    [{ cost: 'n/a' }, 'cost_invalid', /^cost: 'n\/a' is not a valid amount/],
    [
      { margin_amount: '120.00' },
      'margin_amount_invalid',
      /^margin_amount: '120\.00' is more than the order amount 100\.00/,
    ],
    [{ margin_amount: 'x' }, 'margin_amount_invalid', /^margin_amount: 'x' is not a valid amount/],
    [{ margin_rate: '35' }, 'margin_rate_invalid', /^margin_rate: '35' is above 1/],
    [{ margin_rate: '135%' }, 'margin_rate_invalid', /^margin_rate: '135%' is above 1/],
    [{ margin_rate: '-0.1' }, 'margin_rate_invalid', /^margin_rate: '-0\.1' is negative/],
    [{ margin_rate: 'high' }, 'margin_rate_invalid', /^margin_rate: 'high' is not a rate/],
    [{ discount: '5 euro' }, 'discount_invalid', /^discount: '5 euro' is not a valid amount/],
    [{ shipping_cost: '-4.95' }, 'shipping_cost_invalid', /^shipping_cost: '-4\.95' is negative/],
    [
      { returned_amount: '150.00' },
      'returned_invalid',
      /^returned_amount: '150\.00' is more than the order amount 100\.00/,
    ],
    [{ returned_amount: '-1.00' }, 'returned_invalid', /^returned_amount: '-1\.00' is negative/],
    [{ returned: 'perhaps' }, 'returned_invalid', /^returned: 'perhaps' is not yes or no/],
    [
      { cost: '40.00', margin_amount: '50.00' },
      'margin_conflict',
      /^margin_amount 50\.00 and cost 40\.00 disagree/,
    ],
    [{ cost: '40.00', margin_rate: '0.5' }, 'margin_conflict', /^margin_rate '0\.5' disagrees with the cost/],
    [
      { returned: 'yes', returned_amount: '20.00' },
      'returned_conflict',
      /^returned is 'yes' but returned_amount is 20\.00/,
    ],
    [{ returned: 'no', returned_amount: '20.00' }, 'returned_conflict', /^returned is 'no'/],
  ] as const)('rejects %o as %s', (values, reason, message) => {
    const result = rejected(values);
    expect(result.reason).toBe(reason);
    expect(result.message).toMatch(message);
  });

  it('accepts agreeing figures, a rate within half a percentage point, and a loss-making margin', () => {
    expect(valid({ cost: '40.00', margin_amount: '60.00' }).costCents).toBe(4000);
    expect(valid({ cost: '40.00', margin_rate: '60%' }).marginRate).toBe(0.6);
    expect(valid({ cost: '33.33', margin_rate: '0.67' }).marginRate).toBe(0.67);
    expect(valid({ margin_amount: '-20.00' }).marginAmountCents).toBe(-2000);
    expect(valid({ returned: 'yes', returned_amount: '100.00' }).returnedWhole).toBe(true);
  });

  it('treats a refund row as the return itself', () => {
    expect(rejected({ returned: 'yes' }, -5000).reason).toBe('returned_conflict');
    expect(rejected({ returned_amount: '50.00' }, -5000).message).toMatch(
      /the row is a refund \(amount -50\.00\)/,
    );
    expect(valid({ returned_amount: '0' }, -5000).returnedCents).toBe(0);
    expect(rejected({ margin_amount: '-60.00' }, -5000).reason).toBe('margin_amount_invalid');
  });

  it('skips the checks against the amount for a line item without one', () => {
    expect(valid({ returned_amount: '150.00', margin_amount: '500' }, null).returnedCents).toBe(15_000);
  });
});

describe('orderNetContribution', () => {
  const economics = (e: Partial<OrderEconomics>): OrderEconomics => ({ ...NO_ORDER_ECONOMICS, ...e });
  const rate1 = { configuredRate: 1 };

  it('is amount − cost − discount − shipping − returned', () => {
    const result = orderNetContribution(
      10_000,
      economics({ costCents: 4000, discountCents: 500, shippingCostCents: 495, returnedCents: 1000 }),
      rate1,
    );
    expect(result).toEqual({
      netCents: 10_000 - 4000 - 500 - 495 - 1000,
      goodsMarginCents: 6000,
      basis: 'cost',
      ownFigures: true,
    });
  });

  it('uses the margin amount, then the row’s rate, then the configured rate', () => {
    expect(orderNetContribution(10_000, economics({ marginAmountCents: 3500 }), rate1)).toMatchObject({
      netCents: 3500,
      basis: 'margin_amount',
    });
    expect(orderNetContribution(10_001, economics({ marginRate: 0.35 }), rate1)).toMatchObject({
      netCents: 3500,
      basis: 'margin_rate',
    });
    expect(orderNetContribution(10_000, NO_ORDER_ECONOMICS, { configuredRate: 0.4 })).toEqual({
      netCents: 4000,
      goodsMarginCents: 4000,
      basis: 'configured_rate',
      ownFigures: false,
    });
  });

  it('keeps the amount to the cent with no figures and rate 1', () => {
    for (const amount of [0, 1, 12_345, -999, 2 ** 50]) {
      expect(orderNetContribution(amount, NO_ORDER_ECONOMICS, rate1).netCents).toBe(amount);
    }
  });

  it('does not recover the cost of a whole returned order', () => {
    const whole = economics({ costCents: 4000, shippingCostCents: 500, returnedWhole: true });
    expect(orderNetContribution(10_000, whole, rate1).netCents).toBe(-4500);
    // The same via a rate: amount × rate − amount = −(cost of goods).
    expect(
      orderNetContribution(10_000, economics({ marginRate: 0.6, returnedWhole: true }), rate1).netCents,
    ).toBe(-4000);
  });

  it('does not subtract a discount the amount already includes', () => {
    const e = economics({ costCents: 4000, discountCents: 1000 });
    expect(orderNetContribution(10_000, e, rate1).netCents).toBe(5000);
    expect(
      orderNetContribution(10_000, e, { configuredRate: 1, discountIncludedInAmount: true }).netCents,
    ).toBe(6000);
  });
});
