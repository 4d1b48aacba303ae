// Net CLV: the net/revenue ratio and its shrinkage, cost to serve, gross vs net CLV on whole
// customers (costs and returns change net CLV by exactly the computed amount; without economics data
// net CLV is today's CLV to the bit), CLV/CAC per channel, and the economics settings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clvTerms, scoreCustomers } from '#domain/clv.ts';
import { acquisitionCost, clvToCac } from '#domain/economics/acquisition.ts';
import {
  discountedMonths,
  expectedCostToServe,
  serviceCostPerMonth,
} from '#domain/economics/cost-to-serve.ts';
import {
  configuredMarginRate,
  DEFAULT_ECONOMICS_CONFIG,
  type EconomicsConfig,
  parseEconomicsConfig,
} from '#domain/economics/economics-config.ts';
import {
  addObservedOrder,
  addToNetRatioGroup,
  discountedExpectedPurchases,
  emptyNetRatioGroups,
  emptyObservedEconomics,
  expectedNetRatio,
  groupNetRatio,
  netClv,
  type ObservedEconomics,
} from '#domain/economics/net-contribution.ts';
import {
  NO_ORDER_ECONOMICS,
  orderNetContribution,
  validateOrderEconomics,
} from '#domain/economics/order-economics.ts';

const bg = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };
const spend = { p: 6.25, q: 3.74, v: 15.44 };

/** The recalc's path for one run, from order rows to net CLV (what the ingest and scorePart will do). */
function netClvOfRun(
  customers: {
    id: string;
    x: number;
    tx: number;
    T: number;
    orders: { amount: number; figures?: Parameters<typeof validateOrderEconomics>[0] }[];
  }[],
  config: EconomicsConfig,
  margin: number,
) {
  const group = 'web';
  const configuredRate = configuredMarginRate(config, 'shop', group, margin);
  const observed = new Map<string, ObservedEconomics>();
  const groups = emptyNetRatioGroups();
  for (const c of customers) {
    const o = emptyObservedEconomics();
    for (const order of c.orders) {
      const amountCents = Math.round(order.amount * 100);
      const validated = validateOrderEconomics(order.figures ?? {}, amountCents, '.');
      if (!validated.ok) throw new Error(validated.message);
      addObservedOrder(
        o,
        amountCents,
        orderNetContribution(amountCents, validated.value, { configuredRate }),
      );
    }
    observed.set(c.id, o);
    addToNetRatioGroup(groups, group, o);
  }
  const rfm = {
    x: customers.map((c) => c.x),
    tx: customers.map((c) => c.tx),
    T: customers.map((c) => c.T),
    monetaryValue: customers.map((c) => {
      const repeat = c.orders.slice(1);
      return repeat.length > 0 ? repeat.reduce((s, o) => s + o.amount, 0) / repeat.length : 0;
    }),
  };
  const options = { unit: 'weeks' as const, margin };
  const scores = scoreCustomers('bgnbd', bg, spend, rfm, options);
  const discounted = discountedExpectedPurchases('bgnbd', bg, rfm, options);
  const months = discountedMonths(scores.terms);
  return customers.map((c, i) => {
    const ratio = expectedNetRatio({
      observed: observed.get(c.id)!,
      groupRatio: groupNetRatio(groups, group),
      configuredRate,
      shrinkageOrders: config.ratioShrinkageOrders,
    });
    const service = serviceCostPerMonth(null, config);
    const costToServe = expectedCostToServe({
      discountedExpectedPurchases: discounted[i]!,
      probabilityAlive: scores.probabilityAlive[i]!,
      handlingCostPerOrder: config.handlingCostPerOrder,
      serviceCostPerMonth: service.perMonth,
      discountedMonths: months,
    });
    return {
      ratio,
      discounted: discounted[i]!,
      ...netClv({
        grossClv: scores.clv[i]!,
        margin,
        expectedSpend: scores.expectedSpend[i]!,
        discountedExpectedPurchases: discounted[i]!,
        netRatio: ratio.ratio,
        costToServe,
        handlingCostPerOrder: config.handlingCostPerOrder,
      }),
    };
  });
}

describe('economics settings', () => {
  it('default to no costs and the run’s margin', () => {
    expect(DEFAULT_ECONOMICS_CONFIG).toMatchObject({
      handlingCostPerOrder: 0,
      serviceCostPerPeriod: 0,
      costPerServiceContact: 0,
      servicePeriodMonths: 12,
      discountIncludedInAmount: false,
    });
    expect(configuredMarginRate(DEFAULT_ECONOMICS_CONFIG, 'shop', 'web', 0.8)).toBe(0.8);
  });

  it('resolve the margin rate channel first, then source, then default', () => {
    const config = parseEconomicsConfig({
      marginRate: { default: 0.5, bySource: { shop: 0.4 }, byChannel: { web: 0.3 } },
    });
    expect(configuredMarginRate(config, 'shop', 'web', 1)).toBe(0.3);
    expect(configuredMarginRate(config, 'shop', 'store', 1)).toBe(0.4);
    expect(configuredMarginRate(config, 'pos', null, 1)).toBe(0.5);
    expect(configuredMarginRate(config, 'pos', 'toString', 1)).toBe(0.5);
  });

  it('name every bad field', () => {
    expect(() =>
      parseEconomicsConfig({ marginRate: { byChannel: { web: 35 } }, handlingCostPerOrder: -1, colour: 1 }),
    ).toThrow(
      /economics\.marginRate\.byChannel\.web: must be between 0 and 1 \(35 % is 0\.35\).*economics\.handlingCostPerOrder: must be an amount ≥ 0.*unknown field "colour"/,
    );
  });
});

describe('expected net ratio', () => {
  const observed = (orders: number, revenue: number, net: number): ObservedEconomics => ({
    ownOrders: orders,
    ownRevenueCents: revenue,
    ownNetCents: net,
    historicNetCents: net,
  });

  it('shrinks the own ratio toward the group’s by k orders of weight', () => {
    const result = expectedNetRatio({
      observed: observed(4, 10_000, 2000),
      groupRatio: 0.4,
      configuredRate: 1,
      shrinkageOrders: 4,
    });
    expect(result.ratio).toBeCloseTo((4 * 0.2 + 4 * 0.4) / 8, 15);
    expect(result.basis).toBe('customer_and_group');
  });

  it('is the prior itself without own figures or with revenue ≤ 0', () => {
    expect(
      expectedNetRatio({
        observed: emptyObservedEconomics(),
        groupRatio: 0.37,
        configuredRate: 1,
        shrinkageOrders: 3,
      }),
    ).toEqual({ ratio: 0.37, basis: 'group' });
    expect(
      expectedNetRatio({
        observed: observed(2, -500, -700),
        groupRatio: null,
        configuredRate: 0.1,
        shrinkageOrders: 3,
      }),
    ).toEqual({ ratio: 0.1, basis: 'configured' });
  });

  it('has a group ratio only with revenue in orders with figures', () => {
    const groups = emptyNetRatioGroups();
    addToNetRatioGroup(groups, 'web', observed(2, 20_000, 5000));
    addToNetRatioGroup(groups, 'web', observed(1, 10_000, 1000));
    addToNetRatioGroup(groups, 'store', emptyObservedEconomics());
    expect(groupNetRatio(groups, 'web')).toBe(6000 / 30_000);
    expect(groupNetRatio(groups, 'store')).toBeNull();
    expect(groupNetRatio(groups, 'constructor')).toBeNull();
  });
});

describe('cost to serve', () => {
  const terms = clvTerms({ unit: 'weeks', horizonMonths: 12, annualDiscountRate: 0.1 });

  it('discounts months with clv.ts’s factors', () => {
    let expected = 0;
    for (let i = 1; i <= 12; i++) expected += 1 / 1.1 ** (i / 12);
    expect(discountedMonths(terms)).toBeCloseTo(expected, 12);
  });

  it('takes the customer’s own service figures first, per month of the period', () => {
    const config = parseEconomicsConfig({
      servicePeriodMonths: 6,
      costPerServiceContact: 4,
      serviceCostPerPeriod: 30,
    });
    expect(serviceCostPerMonth({ serviceCostCents: 1200, serviceContacts: 9 }, config)).toEqual({
      perMonth: 2,
      basis: 'attributes_cost',
    });
    expect(serviceCostPerMonth({ serviceCostCents: null, serviceContacts: 3 }, config)).toEqual({
      perMonth: 2,
      basis: 'attributes_contacts',
    });
    expect(serviceCostPerMonth(null, config)).toEqual({ perMonth: 5, basis: 'configured' });
    expect(serviceCostPerMonth(null, DEFAULT_ECONOMICS_CONFIG)).toEqual({ perMonth: 0, basis: 'none' });
  });

  it('is handling × discounted orders + service × P(alive) × discounted months', () => {
    const months = discountedMonths(terms);
    expect(
      expectedCostToServe({
        discountedExpectedPurchases: 2.5,
        probabilityAlive: 0.8,
        handlingCostPerOrder: 3,
        serviceCostPerMonth: 2,
        discountedMonths: months,
      }),
    ).toEqual({ handling: 7.5, service: 2 * 0.8 * months, total: 7.5 + 2 * 0.8 * months });
    expect(
      expectedCostToServe({
        discountedExpectedPurchases: Number.NaN,
        probabilityAlive: 0.8,
        handlingCostPerOrder: 0,
        serviceCostPerMonth: 0,
        discountedMonths: months,
      }).total,
    ).toBe(0);
  });
});

describe('net CLV', () => {
  it('differs between equal-revenue customers by exactly their costs and returns, shrunk', () => {
    const amounts = [100, 80, 120, 60];
    const config = parseEconomicsConfig({ handlingCostPerOrder: 2, ratioShrinkageOrders: 4 });
    const [a, b] = netClvOfRun(
      [
        {
          id: 'a',
          x: 3,
          tx: 20,
          T: 30,
          orders: amounts.map((amount) => ({ amount, figures: { margin_rate: '60%' } })),
        },
        {
          id: 'b',
          x: 3,
          tx: 20,
          T: 30,
          orders: amounts.map((amount, i) => ({
            amount,
            figures: {
              cost: (amount / 2).toFixed(2),
              shipping_cost: '5.00',
              returned_amount: i === 1 ? '30.00' : '',
            },
          })),
        },
      ],
      config,
      1,
    );
    // Computed by hand: revenue 360 each; a nets 0.6 × 360 = 216; b nets 360 − 180 − 4 × 5 − 30 = 130.
    // ρ = (4 r + 4 μ) / 8 with the same μ, so ρa − ρb = (216 − 130) / 360 / 2 = 43 / 360. Same
    // revenue CLV and the same handling cost, so the net CLVs differ by gross CLV × 43 / 360.
    expect(a!.grossClv).toBe(b!.grossClv);
    expect(a!.grossClv).toBeGreaterThan(0);
    expect(a!.netClv - b!.netClv).toBeCloseTo((a!.grossClv * 43) / 360, 10);
    const mu = (216 + 130) / 720;
    expect(a!.ratio.ratio).toBeCloseTo((4 * (216 / 360) + 4 * mu) / 8, 14);
    expect(a!.netClv).toBeCloseTo(a!.grossClv * a!.ratio.ratio - 2 * a!.discounted, 10);
    expect(a!.expectedNetContributionPerOrder).toBeGreaterThan(0);
  });

  it('flags customers whose costs exceed what their orders bring', () => {
    const config = parseEconomicsConfig({ handlingCostPerOrder: 40 });
    const [c] = netClvOfRun(
      [
        {
          id: 'c',
          x: 2,
          tx: 10,
          T: 12,
          orders: [30, 25, 20].map((amount) => ({ amount, figures: { margin_rate: '0.2' } })),
        },
      ],
      config,
      1,
    );
    expect(c!.netClv).toBeLessThan(0);
    expect(c!.negativeNetContribution).toBe(true);
    expect(c!.expectedNetContributionPerOrder).toBeLessThan(0);
  });

  it('equals today’s CLV exactly when there are no economics data (property)', () => {
    const customer = fc
      .record({
        x: fc.integer({ min: 0, max: 30 }),
        T: fc.double({ min: 0.5, max: 80, noNaN: true }),
        share: fc.double({ min: 0, max: 1, noNaN: true }),
      })
      .chain(({ x, T, share }) =>
        fc.record({
          x: fc.constant(x),
          T: fc.constant(T),
          tx: fc.constant(x === 0 ? 0 : T * share),
          amounts: fc.array(fc.integer({ min: -5000, max: 500_000 }), { minLength: x + 1, maxLength: x + 1 }),
        }),
      );
    fc.assert(
      fc.property(
        fc.array(customer, { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        (customers, margin, shrinkage) => {
          const config = parseEconomicsConfig({ ratioShrinkageOrders: shrinkage });
          const rows = customers.map((c, i) => ({
            id: `c${i}`,
            x: c.x,
            tx: c.tx,
            T: c.T,
            orders: c.amounts.map((cents) => ({ amount: cents / 100 })),
          }));
          const results = netClvOfRun(rows, config, margin);
          const monetary = rows.map((c) => {
            const repeat = c.orders.slice(1);
            return repeat.length > 0 ? repeat.reduce((s, o) => s + o.amount, 0) / repeat.length : 0;
          });
          const today = scoreCustomers(
            'bgnbd',
            bg,
            spend,
            {
              x: rows.map((c) => c.x),
              tx: rows.map((c) => c.tx),
              T: rows.map((c) => c.T),
              monetaryValue: monetary,
            },
            { unit: 'weeks', margin },
          );
          results.forEach((result, i) => {
            expect(result.grossClv).toBe(today.clv[i]);
            expect(result.netClv).toBe(today.clv[i]);
            expect(result.costToServe).toBe(0);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads the same discounted orders clv.ts discounts', () => {
    const rfm = { x: [2, 0, 7], tx: [30.43, 0, 35], T: [38.86, 38.86, 36] };
    const options = { unit: 'weeks' as const };
    const discounted = discountedExpectedPurchases('bgnbd', bg, rfm, options);
    const scores = scoreCustomers('bgnbd', bg, spend, rfm, options);
    for (let i = 0; i < 3; i++)
      expect(scores.clv[i]).toBeCloseTo(scores.expectedSpend[i]! * discounted[i]!, 10);
  });
});

describe('acquisition cost', () => {
  const config = parseEconomicsConfig({ acquisitionCostByChannel: { google: 25 } });

  it('takes the customer’s own cost, else the channel’s', () => {
    expect(acquisitionCost({ acquisitionCostCents: 1250, acquisitionChannel: 'google' }, config)).toEqual({
      cost: 12.5,
      basis: 'customer',
    });
    expect(acquisitionCost({ acquisitionCostCents: null, acquisitionChannel: 'google' }, config)).toEqual({
      cost: 25,
      basis: 'channel',
    });
    expect(acquisitionCost({ acquisitionCostCents: null, acquisitionChannel: 'toString' }, config)).toEqual({
      cost: null,
      basis: 'none',
    });
    expect(acquisitionCost(null, config)).toEqual({ cost: null, basis: 'none' });
  });

  it('gives CLV/CAC only for a positive cost', () => {
    expect(clvToCac(300, 100)).toBe(3);
    expect(clvToCac(300, 0)).toBeNull();
    expect(clvToCac(300, null)).toBeNull();
  });
});

it('keeps an order without figures at the configured rate', () => {
  expect(orderNetContribution(10_000, NO_ORDER_ECONOMICS, { configuredRate: 0.25 }).netCents).toBe(2500);
});
