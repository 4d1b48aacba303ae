// Value ladder: rung rules, off-ladder states, and the numbers and words of toNextRung.
import { describe, expect, it } from 'vitest';
import { ladderState, meetsRung, placeOnLadder, probabilityNoPurchase90d } from '#domain/playbook/ladder.ts';
import { PLAYBOOK_PRESETS, parsePlaybookConfig } from '#domain/playbook/playbook-config.ts';
import { customer } from './fixtures.ts';

const shop = PLAYBOOK_PRESETS['web-shop'].ladder;
const charity = PLAYBOOK_PRESETS['non-profit'].ladder;
const context = { clvHorizonMonths: 12, tierThresholds: { top1: 900, top10: 250, top25: 120 } };

describe('rung rules', () => {
  it('puts a customer on the highest rung whose rule holds', () => {
    expect(placeOnLadder(shop, customer({ historicOrders: 1 }), context).rung).toBe('first-time');
    expect(placeOnLadder(shop, customer({ historicOrders: 3 }), context).rung).toBe('returning');
    expect(placeOnLadder(shop, customer({ historicOrders: 4 }), context).rung).toBe('loyal');
    // Top needs 2 orders and the top 10 % by CLV; tier top1 is at least top10.
    expect(placeOnLadder(shop, customer({ historicOrders: 2, valueTier: 'top1' }), context).rung).toBe('top');
    expect(placeOnLadder(shop, customer({ historicOrders: 1, valueTier: 'top1' }), context).rung).toBe(
      'first-time',
    );
    expect(placeOnLadder(shop, customer({ historicOrders: 5, valueTier: 'top25' }), context).rung).toBe(
      'loyal',
    );
  });

  it('counts days from the summary in either time unit', () => {
    // 60 weeks tenure, last purchase 2 weeks before the as-of date → 14 days.
    const weekly = customer({ timeUnit: 'weeks', T: 60, recency: 58, historicOrders: 5 });
    const position = placeOnLadder(charity, weekly, context);
    expect(position.daysSinceLastPurchase).toBe(14);
    expect(position.tenureDays).toBe(420);
    expect(position.rung).toBe('regular');
    // A regular donor needs a gift in the last 365 days; 400 days ago is too long.
    const overdue = customer({ T: 800, recency: 400, historicOrders: 5, pAlive: 0.95 });
    expect(meetsRung(charity, 'regular', overdue)).toBe(false);
    expect(placeOnLadder(charity, overdue, context).rung).toBe('second-gift');
  });

  it('makes a single major gift a major donor', () => {
    const major = customer({ historicOrders: 1, historicRevenue: 2500 });
    expect(placeOnLadder(charity, major, context)).toMatchObject({
      rung: 'major',
      nextRung: null,
      toNextRung: null,
    });
  });
});

describe('states off the ladder', () => {
  it('is lapsed before slipping, by days since the last purchase or by P(alive)', () => {
    expect(ladderState(shop, customer({ T: 100, recency: 0 }))).toBe('active');
    expect(ladderState(shop, customer({ T: 200, recency: 81 }))).toBe('active'); // 119 days, but…
    expect(ladderState(shop, customer({ T: 200, recency: 80 }))).toBe('slipping'); // …120 days slips
    expect(ladderState(shop, customer({ T: 400, recency: 35 }))).toBe('lapsed');
    expect(ladderState(shop, customer({ pAlive: 0.45 }))).toBe('slipping');
    expect(ladderState(shop, customer({ pAlive: 0.2 }))).toBe('lapsed');
  });

  it('uses P(no purchase in 90 days), given or derived', () => {
    const ladder = parsePlaybookConfig({
      ladder: {
        ...shop,
        states: {
          slipping: { whenAny: [{ minProbabilityNoPurchase90d: 0.9, minDaysSinceLastPurchase: 30 }] },
          lapsed: { whenAny: [{ minDaysSinceLastPurchase: 365 }] },
        },
      },
    }).ladder;
    expect(ladderState(ladder, customer({ T: 60, probabilityNoPurchase90d: 0.95 }))).toBe('slipping');
    expect(ladderState(ladder, customer({ T: 20, probabilityNoPurchase90d: 0.95 }))).toBe('active');
    // Derived: (1 − 0.5) + 0.5 · exp(−0.05 / 0.5) = 0.952…
    const derived = customer({ T: 60, pAlive: 0.5, expectedPurchases90d: 0.05 });
    expect(probabilityNoPurchase90d(derived)).toBeCloseTo(0.5 + 0.5 * Math.exp(-0.1), 12);
    expect(ladderState(ladder, derived)).toBe('slipping');
    expect(probabilityNoPurchase90d(customer({ pAlive: 0 }))).toBe(1);
  });
});

describe('toNextRung', () => {
  it('says how many more orders, and by when before the customer slips', () => {
    // 75 days since the only order; slipping starts at 120 days → buy within 44 days.
    const position = placeOnLadder(shop, customer({ T: 75, recency: 0 }), context);
    expect(position).toMatchObject({ rung: 'first-time', state: 'active', nextRung: 'returning' });
    expect(position.toNextRung).toEqual({
      gaps: [{ kind: 'orders', missing: 1, withinDays: 44, text: '1 more order within 44 days' }],
      text: '1 more order within 44 days',
    });
    const loyal = placeOnLadder(shop, customer({ historicOrders: 2, T: 100, recency: 90 }), context);
    expect(loyal.toNextRung?.text).toBe('2 more orders within 109 days');
  });

  it('gives no deadline to customers off the ladder', () => {
    const slipping = placeOnLadder(shop, customer({ T: 150, recency: 0 }), context);
    expect(slipping.state).toBe('slipping');
    expect(slipping.toNextRung?.text).toBe('1 more order');
  });

  it('turns a value-tier rule into money using the run’s thresholds', () => {
    const position = placeOnLadder(shop, customer({ historicOrders: 4, clv: 211.4 }), context);
    expect(position.nextRung).toBe('top');
    expect(position.toNextRung?.gaps).toEqual([
      {
        kind: 'valueTier',
        missing: 250 - 211.4,
        withinDays: null,
        text: 'EUR 39 more predicted value over the next 12 months (top 10 %)',
      },
    ]);
    const noThresholds = placeOnLadder(shop, customer({ historicOrders: 4 }), { clvHorizonMonths: 6 });
    expect(noThresholds.toNextRung?.text).toBe(
      'a place in the top 10 % by predicted value over the next 6 months',
    );
  });

  it('names gifts, money and an overdue gift for a donor', () => {
    const donor = customer({ historicOrders: 4, T: 900, recency: 500, historicRevenue: 640, pAlive: 0.9 });
    const position = placeOnLadder(charity, donor, context);
    // 400 days without a gift: slipping (from 180 days), and no longer a regular donor.
    expect(position).toMatchObject({ rung: 'second-gift', state: 'slipping', nextRung: 'regular' });
    expect(position.toNextRung?.text).toBe(
      'a new gift (the last was 400 days ago; Regular donor needs one in the last 365 days)',
    );
    const regular = placeOnLadder(charity, customer({ historicOrders: 6, historicRevenue: 961.2 }), context);
    expect(regular.toNextRung?.text).toBe('EUR 39 more in gifts');
    const first = placeOnLadder(charity, customer({ historicOrders: 1, T: 10 }), context);
    expect(first.toNextRung?.text).toBe('1 more gift within 169 days');
  });

  it('combines gaps and counts down to the current rung’s own recency limit', () => {
    const ladder = parsePlaybookConfig({
      ladder: {
        name: 'custom',
        rungs: [
          { id: 'new', label: 'New' },
          { id: 'engaged', label: 'Engaged', rule: { minOrders: 2, maxDaysSinceLastPurchase: 60 } },
          { id: 'valued', label: 'Valued', rule: { minOrders: 3, minClv: 100, minTenureDays: 90 } },
        ],
        states: { slipping: { whenAny: [{ maxPAlive: 0.5 }] }, lapsed: { whenAny: [{ maxPAlive: 0.1 }] } },
      },
      actions: [{ name: 'all', goal: 'let-go', states: ['active', 'slipping', 'lapsed'] }],
    }).ladder;
    const position = placeOnLadder(
      ladder,
      customer({ historicOrders: 2, T: 50, recency: 10, clv: 61.5 }),
      context,
    );
    expect(position.rung).toBe('engaged');
    // 40 days since the last order; the rung holds up to 60 → 20 days left.
    expect(position.toNextRung?.text).toBe(
      '1 more order within 20 days and 40 more days as a customer and EUR 39 more predicted value over the next 12 months',
    );
  });
});
