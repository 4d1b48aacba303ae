/**
 * The playbook inside the recalculation's parts: tallies are additive (however the customers are
 * split into parts, the merged tallies are those of one part holding everyone), scores get the
 * evaluation's fields, and change events carry rung and audience changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PreviousScore } from '#app/ports/score-repository.ts';
import { createPlaybookPart, mergePlaybookParts, withPlaybookChange } from '#app/recalc/playbook.ts';
import type { FittedRun } from '#app/recalc/types.ts';
import { NEW_POSITION } from '#domain/playbook/movement.ts';
import { PLAYBOOK_PRESETS } from '#domain/playbook/playbook-config.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';
import type { CustomerScore } from '#domain/score.ts';

/** The run fields the part reads: settings, value-tier thresholds and the rung references. */
const run = {
  config: { ...parseRecalcConfig({}), currency: 'EUR' },
  tierThresholds: { top1: 900, top10: 300, top25: 120 },
  playbook: {
    rungClv: {
      'first-time': { customers: 10, meanClv: 20, activeCustomers: 5, activeMeanClv: 25 },
      returning: { customers: 10, meanClv: 80, activeCustomers: 5, activeMeanClv: 90 },
      loyal: { customers: 10, meanClv: 200, activeCustomers: 5, activeMeanClv: 240 },
      top: { customers: 10, meanClv: 600, activeCustomers: 5, activeMeanClv: 700 },
    },
    backtest: null,
  },
} as unknown as FittedRun;

const score = (i: number, orders: number, clv: number, daysSince: number, pAlive: number): CustomerScore => ({
  customerId: `c${i}`,
  runId: 'r2',
  computedAt: '2025-07-01T00:00:00.000Z',
  asOf: '2025-06-30',
  currency: 'EUR',
  clv,
  expectedPurchases90d: 0.4,
  pAlive,
  expectedOrderValue: 30,
  expectedNextPurchaseDate: null,
  churnRisk: 'medium',
  historicRevenue: 40 * orders,
  historicOrders: orders,
  timeUnit: 'days',
  frequency: orders - 1,
  recency: 400 - daysSince,
  T: 400,
  rfm: { r: 3, f: 3, m: 3 },
  segment: 'Need Attention',
  valueTier: clv >= 900 ? 'top1' : clv >= 300 ? 'top10' : clv >= 120 ? 'top25' : 'rest',
});

const customerArb = fc.record({
  orders: fc.integer({ min: 1, max: 8 }),
  clv: fc.double({ min: 0, max: 1200, noNaN: true }),
  daysSince: fc.integer({ min: 0, max: 400 }),
  pAlive: fc.double({ min: 0, max: 1, noNaN: true }),
  previous: fc.option(
    fc.record({
      rung: fc.constantFrom('first-time', 'returning', 'loyal', 'top', 'retired-rung'),
      ladderState: fc.constantFrom('active' as const, 'slipping' as const, 'lapsed' as const),
      action: fc.constantFrom('second-order', 'keep-top', 'let-go', 'win-back'),
      clv: fc.double({ min: 0, max: 1000, noNaN: true }),
    }),
    { nil: undefined },
  ),
  part: fc.integer({ min: 0, max: 3 }),
});

/** Numbers rounded to 6 decimals: sums in another order differ in the last bits only. */
const rounded = (value: unknown): unknown =>
  typeof value === 'number'
    ? Math.round(value * 1e6) / 1e6
    : Array.isArray(value)
      ? value.map(rounded)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]))
        : value;

describe('playbook tallies of scored parts', () => {
  it('merge to the same tallies however the customers are split into parts', () => {
    fc.assert(
      fc.property(fc.array(customerArb, { minLength: 1, maxLength: 40 }), (customers) => {
        const whole = createPlaybookPart(run);
        const parts = [0, 1, 2, 3].map(() => createPlaybookPart(run));
        customers.forEach((c, i) => {
          const s = score(i, c.orders, c.clv, c.daysSince, c.pAlive);
          const previous: PreviousScore | undefined = c.previous && {
            segment: 'Lost',
            churnRisk: 'high',
            ...c.previous,
          };
          const a = whole.evaluate(s, previous);
          const b = parts[c.part]!.evaluate(s, previous);
          expect(b).toEqual(a);
        });
        const merged = mergePlaybookParts(parts.map((part) => part.result()));
        expect(rounded(merged)).toEqual(rounded(whole.result()));
        const audiences = Object.values(merged.audiences);
        expect(audiences.reduce((sum, a) => sum + a.customers, 0)).toBe(customers.length);
      }),
      { numRuns: 100 },
    );
  });

  it('gives the score its ladder position and audience, and counts an unknown previous rung as new', () => {
    const part = createPlaybookPart(run);
    // 4 orders, bought 10 days ago, CLV 150: loyal and active; the next rung (top) needs the top 10 %.
    const { score: scored, row } = part.evaluate(score(1, 4, 150, 10, 0.9), {
      segment: 'Lost',
      churnRisk: 'high',
      rung: 'retired-rung',
      ladderState: 'active',
      action: 'old-action',
      clv: 10,
    });
    expect(scored).toMatchObject({
      rung: 'loyal',
      ladderState: 'active',
      nextRung: 'top',
      toNextRung: 'EUR 150 more predicted value over the next 12 months (top 10 %)',
      action: row.action,
    });
    expect(scored.valueAtStake).toBeCloseTo(700 - 150, 2);
    const result = part.result();
    expect(result.movement[NEW_POSITION]?.loyal?.customers).toBe(1);
    expect(result.previousActions).toEqual({});
    expect(PLAYBOOK_PRESETS['web-shop'].actions.map((a) => a.name)).toContain(row.candidateAction);
  });
});

describe('change events of the playbook', () => {
  const previous: PreviousScore = {
    segment: 'Champions',
    churnRisk: 'low',
    rung: 'returning',
    ladderState: 'active',
    action: 'build-habit',
  };
  const current = { ...score(1, 4, 150, 10, 0.9), segment: 'Champions', churnRisk: 'low' as const };

  it('sends nothing when neither segment, churn band, rung nor audience changed', () => {
    expect(
      withPlaybookChange(null, previous, { ...current, rung: 'returning', action: 'build-habit' }),
    ).toBeNull();
  });

  it('sends a change when only the rung or the audience changed, with both before and now', () => {
    expect(
      withPlaybookChange(null, previous, { ...current, rung: 'loyal', action: 'upgrade-to-top' }),
    ).toEqual({
      customerId: 'c1',
      previousSegment: 'Champions',
      segment: 'Champions',
      previousChurnRisk: 'low',
      churnRisk: 'low',
      previousRung: 'returning',
      rung: 'loyal',
      previousAction: 'build-habit',
      action: 'upgrade-to-top',
    });
  });

  it('adds the playbook to a segment change, and leaves changes of scores without a playbook alone', () => {
    const change = {
      customerId: 'c1',
      previousSegment: 'Lost',
      segment: 'Champions',
      previousChurnRisk: 'high' as const,
      churnRisk: 'low' as const,
    };
    expect(
      withPlaybookChange(change, previous, { ...current, rung: 'returning', action: 'build-habit' }),
    ).toEqual({
      ...change,
      previousRung: 'returning',
      rung: 'returning',
      previousAction: 'build-habit',
      action: 'build-habit',
    });
    expect(withPlaybookChange(change, { segment: 'Lost', churnRisk: 'high' }, current)).toBe(change);
  });
});
