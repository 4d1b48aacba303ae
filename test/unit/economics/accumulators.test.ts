// Satisfaction bands and selectors, and every economics accumulator: merging the parts of a run
// gives exactly what one pass over all customers gives (property-tested on integer amounts, whose
// sums are exact in any order).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addChannelCustomer,
  type ChannelCustomer,
  channelEconomics,
  emptyChannelEconomics,
  mergeChannelEconomics,
} from '#domain/economics/acquisition.ts';
import type { SatisfactionScore } from '#domain/economics/customer-attributes.ts';
import { DEFAULT_ECONOMICS_CONFIG, parseEconomicsConfig } from '#domain/economics/economics-config.ts';
import {
  addToNetRatioGroup,
  emptyNetRatioGroups,
  mergeNetRatioGroups,
} from '#domain/economics/net-contribution.ts';
import {
  addGroupSatisfaction,
  addSatisfactionCustomer,
  emptyGroupSatisfaction,
  emptySatisfactionBands,
  groupSatisfaction,
  isHighValueDetractor,
  mergeGroupSatisfaction,
  mergeSatisfactionBands,
  satisfactionAdvice,
  satisfactionBand,
  satisfactionBandSummary,
  satisfactionPercent,
  selectHighValueDetractors,
} from '#domain/economics/satisfaction.ts';
import type { ValueTier } from '#domain/score.ts';

const nps = (score: number): SatisfactionScore => ({ scale: 'nps', score });
const csat = (score: number): SatisfactionScore => ({ scale: 'csat', score });

describe('satisfaction bands', () => {
  it('band NPS 0–6 / 7–8 / 9–10 and CSAT 1–3 / 4 / 5', () => {
    expect([0, 6, 7, 8, 9, 10].map((s) => satisfactionBand(nps(s)))).toEqual([
      'detractor',
      'detractor',
      'passive',
      'passive',
      'promoter',
      'promoter',
    ]);
    expect([1, 3, 4, 5].map((s) => satisfactionBand(csat(s)))).toEqual([
      'detractor',
      'detractor',
      'passive',
      'promoter',
    ]);
    expect([satisfactionPercent(nps(7)), satisfactionPercent(csat(1)), satisfactionPercent(csat(5))]).toEqual(
      [70, 0, 100],
    );
  });

  it('summarise customers, retention, P(alive) and CLV per band, every band listed', () => {
    const bands = emptySatisfactionBands();
    addSatisfactionCustomer(bands, {
      satisfaction: nps(3),
      purchasedInLastPeriod: true,
      pAlive: 0.5,
      grossClv: 100,
      netClv: 40,
    });
    addSatisfactionCustomer(bands, {
      satisfaction: csat(2),
      purchasedInLastPeriod: false,
      pAlive: 0.3,
      grossClv: 50,
      netClv: 20,
    });
    addSatisfactionCustomer(bands, {
      satisfaction: null,
      purchasedInLastPeriod: null,
      pAlive: 1,
      grossClv: 10,
      netClv: 5,
    });
    expect(satisfactionBandSummary(bands)).toEqual([
      { band: 'detractor', customers: 2, retention: 0.5, meanPAlive: 0.4, meanGrossClv: 75, meanNetClv: 30 },
      { band: 'passive', customers: 0, retention: null, meanPAlive: 0, meanGrossClv: 0, meanNetClv: 0 },
      { band: 'promoter', customers: 0, retention: null, meanPAlive: 0, meanGrossClv: 0, meanNetClv: 0 },
      { band: 'unknown', customers: 1, retention: null, meanPAlive: 1, meanGrossClv: 10, meanNetClv: 5 },
    ]);
    expect(satisfactionAdvice(satisfactionBandSummary(bands))).toBeNull();
  });

  it('say what to add when nobody has a score', () => {
    const bands = emptySatisfactionBands();
    addSatisfactionCustomer(bands, {
      satisfaction: null,
      purchasedInLastPeriod: true,
      pAlive: 1,
      grossClv: 1,
      netClv: 1,
    });
    expect(satisfactionAdvice(satisfactionBandSummary(bands))).toMatch(
      /^No satisfaction scores yet.*customer_id column and an nps column \(0–10.*csat column \(1–5\)/,
    );
    expect(satisfactionAdvice(satisfactionBandSummary(emptySatisfactionBands()))).not.toBeNull();
  });

  it('give mean scores and a net promoter score per segment', () => {
    const groups = emptyGroupSatisfaction();
    for (const s of [nps(10), nps(9), nps(2), csat(5)]) addGroupSatisfaction(groups, 'Champions', s);
    addGroupSatisfaction(groups, 'Champions', null);
    addGroupSatisfaction(groups, 'Lost', null);
    expect(groupSatisfaction(groups)).toEqual([
      {
        group: 'Champions',
        customers: 5,
        scored: 4,
        meanNps: 7,
        meanCsat: 5,
        meanPercent: (100 + 90 + 20 + 100) / 4,
        netPromoterScore: 50,
      },
      {
        group: 'Lost',
        customers: 1,
        scored: 0,
        meanNps: null,
        meanCsat: null,
        meanPercent: null,
        netPromoterScore: null,
      },
    ]);
  });
});

describe('high-value detractors', () => {
  const candidate = (
    customerId: string,
    valueTier: ValueTier,
    netClv: number,
    satisfaction: SatisfactionScore | null,
  ) => ({
    customerId,
    valueTier,
    netClv,
    satisfaction,
  });

  it('are detractors in a high tier or above the net CLV threshold, most valuable first', () => {
    const highValue = parseEconomicsConfig({
      highValue: { minValueTier: 'top10', minNetClv: 500 },
    }).highValue;
    const customers = [
      candidate('a', 'top1', 900, nps(4)),
      candidate('b', 'top25', 600, csat(2)), // by CLV threshold
      candidate('c', 'top10', 950, nps(8)), // passive
      candidate('d', 'rest', 100, nps(0)), // low value
      candidate('e', 'top10', 900, nps(6)),
      candidate('f', 'top1', 2000, null),
    ];
    expect(selectHighValueDetractors(customers, highValue).map((c) => c.customerId)).toEqual(['a', 'e', 'b']);
    expect(
      isHighValueDetractor(candidate('g', 'top25', 600, nps(1)), DEFAULT_ECONOMICS_CONFIG.highValue),
    ).toBe(false);
  });
});

describe('accumulators merge to the whole', () => {
  const scoreArbitrary = fc.option(
    fc.oneof(fc.integer({ min: 0, max: 10 }).map(nps), fc.integer({ min: 1, max: 5 }).map(csat)),
    { nil: null },
  );
  const customerArbitrary = fc.record({
    channel: fc.option(fc.constantFrom('google', 'email', '__proto__', 'toString'), { nil: null }),
    segment: fc.constantFrom('Champions', 'Lost', 'constructor'),
    grossClv: fc.integer({ min: 0, max: 100_000 }),
    netClv: fc.integer({ min: -50_000, max: 100_000 }),
    cost: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
    historic: fc.integer({ min: -1000, max: 10_000 }),
    satisfaction: scoreArbitrary,
    purchased: fc.option(fc.boolean(), { nil: null }),
    pAliveQuarter: fc.integer({ min: 0, max: 4 }),
    orders: fc.integer({ min: 0, max: 9 }),
    revenue: fc.integer({ min: -1000, max: 1_000_000 }),
    net: fc.integer({ min: -1_000_000, max: 1_000_000 }),
  });
  type Customer = typeof customerArbitrary extends fc.Arbitrary<infer C> ? C : never;

  const accumulate = (customers: Customer[]) => {
    const channels = emptyChannelEconomics();
    const bands = emptySatisfactionBands();
    const groups = emptyGroupSatisfaction();
    const ratios = emptyNetRatioGroups();
    for (const c of customers) {
      const channelCustomer: ChannelCustomer = {
        acquisitionChannel: c.channel,
        grossClv: c.grossClv,
        netClv: c.netClv,
        negativeNetContribution: c.netClv < 0,
        acquisitionCost: c.cost,
        historicNetContribution: c.historic,
      };
      addChannelCustomer(channels, channelCustomer);
      addSatisfactionCustomer(bands, {
        satisfaction: c.satisfaction,
        purchasedInLastPeriod: c.purchased,
        pAlive: c.pAliveQuarter / 4,
        grossClv: c.grossClv,
        netClv: c.netClv,
      });
      addGroupSatisfaction(groups, c.segment, c.satisfaction);
      addToNetRatioGroup(ratios, c.channel ?? 'shop', {
        ownOrders: c.orders,
        ownRevenueCents: c.revenue,
        ownNetCents: c.net,
        historicNetCents: c.net,
      });
    }
    return { channels, bands, groups, ratios };
  };
  // Parts travel between steps as JSON.
  const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));

  it('for channels, satisfaction bands, segment satisfaction and net-ratio groups', () => {
    fc.assert(
      fc.property(fc.array(customerArbitrary, { maxLength: 40 }), fc.nat(), (customers, at) => {
        const cut = customers.length === 0 ? 0 : at % (customers.length + 1);
        const whole = accumulate(customers);
        const first = viaJson(accumulate(customers.slice(0, cut)));
        const second = viaJson(accumulate(customers.slice(cut)));
        // Merged in the other order, to show the order of the parts does not matter.
        const channels = mergeChannelEconomics(second.channels, first.channels);
        const bands = mergeSatisfactionBands(first.bands, second.bands);
        const groups = mergeGroupSatisfaction(second.groups, first.groups);
        const ratios = mergeNetRatioGroups(first.ratios, second.ratios);
        expect(channelEconomics(channels)).toEqual(channelEconomics(whole.channels));
        expect(satisfactionBandSummary(bands)).toEqual(satisfactionBandSummary(whole.bands));
        expect(groupSatisfaction(groups)).toEqual(groupSatisfaction(whole.groups));
        expect({ ...ratios }).toEqual({ ...whole.ratios });
        expect(Object.getPrototypeOf(channels)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('computes CLV/CAC per channel over customers with a known cost only', () => {
    const channels = emptyChannelEconomics();
    const add = (netClv: number, cost: number | null, historic = 0) =>
      addChannelCustomer(channels, {
        acquisitionChannel: 'google',
        grossClv: netClv * 2,
        netClv,
        negativeNetContribution: netClv < 0,
        acquisitionCost: cost,
        historicNetContribution: historic,
      });
    add(300, 100, 50);
    add(-20, 50, 10);
    add(1000, null);
    addChannelCustomer(channels, {
      acquisitionChannel: null,
      grossClv: 1,
      netClv: 1,
      negativeNetContribution: false,
      acquisitionCost: null,
      historicNetContribution: 0,
    });
    expect(channelEconomics(channels)).toEqual([
      {
        channel: 'google',
        customers: 3,
        meanGrossClv: (2 * 1280) / 3,
        meanNetClv: 1280 / 3,
        negativeNetContribution: 1,
        customersWithCost: 2,
        meanAcquisitionCost: 75,
        netClvToCac: 280 / 150,
        lifetimeNetToCac: 340 / 150,
      },
      {
        channel: '(unknown)',
        customers: 1,
        meanGrossClv: 2 / 2,
        meanNetClv: 1,
        negativeNetContribution: 0,
        customersWithCost: 0,
        meanAcquisitionCost: null,
        netClvToCac: null,
        lifetimeNetToCac: null,
      },
    ]);
  });
});
