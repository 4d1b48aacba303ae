// Action economics: rung CLV statistics, value at stake, and the entry rule value × success rate > cost.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignAction, evaluateCustomer } from '#domain/playbook/actions.ts';
import {
  addRungClv,
  mergeRungClv,
  type RungClvAccumulator,
  rungClvStatistics,
  rungReferenceClv,
} from '#domain/playbook/economics.ts';
import { placeOnLadder, probabilityNoPurchase90d } from '#domain/playbook/ladder.ts';
import {
  LADDER_STATES,
  LET_GO_ACTION,
  PLAYBOOK_PRESETS,
  parsePlaybookConfig,
} from '#domain/playbook/playbook-config.ts';
import { customer } from './fixtures.ts';

const playbook = PLAYBOOK_PRESETS['web-shop'];
const ladder = playbook.ladder;
const rungIds = ladder.rungs.map((rung) => rung.id);
const ladderContext = { clvHorizonMonths: 12 };

/** Statistics where every rung's active customers have the given mean CLV. */
function statisticsWithMeans(means: Record<string, number>) {
  const accumulator: RungClvAccumulator = {};
  for (const [rung, mean] of Object.entries(means)) {
    addRungClv(accumulator, rung, 'active', mean);
    addRungClv(accumulator, rung, 'active', mean);
    addRungClv(accumulator, rung, 'lapsed', 1); // not a reference: lapsed customers are not "on" the rung
  }
  return rungClvStatistics(accumulator, ladder);
}
const rungClv = statisticsWithMeans({ 'first-time': 20, returning: 80, loyal: 200, top: 600 });

describe('rung CLV statistics', () => {
  it('are the same from merged parts as from the whole sample, every rung listed', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(...rungIds),
            fc.constantFrom(...LADDER_STATES),
            fc.integer({ min: -5000, max: 100_000 }).map((cents) => cents / 100),
          ),
          { maxLength: 100 },
        ),
        fc.integer({ min: 1, max: 4 }),
        (rows, partCount) => {
          const whole: RungClvAccumulator = {};
          const parts: RungClvAccumulator[] = Array.from({ length: partCount }, () => ({}));
          rows.forEach(([rung, state, clv], i) => {
            addRungClv(whole, rung, state, clv);
            addRungClv(parts[i % partCount]!, rung, state, clv);
          });
          const merged = rungClvStatistics(parts.reduce(mergeRungClv, {}), ladder);
          const direct = rungClvStatistics(whole, ladder);
          expect(Object.keys(merged)).toEqual(rungIds);
          for (const rung of rungIds) {
            const onRung = rows.filter(([r]) => r === rung);
            const active = onRung.filter(([, state]) => state === 'active');
            expect(merged[rung]!.customers).toBe(onRung.length);
            expect(merged[rung]!.activeCustomers).toBe(active.length);
            const mean = active.length ? active.reduce((sum, [, , clv]) => sum + clv, 0) / active.length : 0;
            expect(merged[rung]!.activeMeanClv).toBeCloseTo(mean, 8);
            expect(merged[rung]!.meanClv).toBeCloseTo(direct[rung]!.meanClv, 8);
          }
        },
      ),
    );
  });

  it('use the active customers as reference, else everyone on the rung, else nothing', () => {
    expect(rungReferenceClv(rungClv, 'loyal')).toBe(200);
    const accumulator: RungClvAccumulator = {};
    addRungClv(accumulator, 'top', 'slipping', 300);
    const statistics = rungClvStatistics(accumulator, ladder);
    expect(rungReferenceClv(statistics, 'top')).toBe(300);
    expect(rungReferenceClv(statistics, 'loyal')).toBeNull();
  });
});

describe('action economics', () => {
  it('moves a first-time buyer up when the gain to the next rung pays for the contact', () => {
    // Gain 80 − 30 = 50; × 0.08 = 4 > 1.50.
    const c = customer({ clv: 30 });
    const { position, assignment } = evaluateCustomer(playbook, c, { ...ladderContext, rungClv });
    expect(position.rung).toBe('first-time');
    expect(assignment).toMatchObject({
      action: 'second-order',
      candidateAction: 'second-order',
      goal: 'move-up',
      channel: 'email',
      valueAtStake: 50,
      successRate: 0.08,
      maxCostPerCustomer: 1.5,
    });
    expect(assignment.expectedNetGain).toBeCloseTo(2.5, 12);
    expect(assignment.reason).toBe(
      'mean CLV on returning EUR 80.00 − own CLV EUR 30.00 = EUR 50.00 × success rate 0.08 = EUR 4.00 > cost EUR 1.50',
    );
  });

  it('lets a customer go, with the reason, when the gain does not pay off', () => {
    // Gain 80 − 65 = 15; × 0.08 = 1.2 ≤ 1.50.
    const { assignment } = evaluateCustomer(playbook, customer({ clv: 65 }), { ...ladderContext, rungClv });
    expect(assignment).toMatchObject({
      action: LET_GO_ACTION,
      candidateAction: 'second-order',
      goal: 'let-go',
      channel: null,
      valueAtStake: 15,
      expectedNetGain: 0,
    });
    expect(assignment.reason).toMatch(/^second-order does not pay off: .* = EUR 1\.20 ≤ cost EUR 1\.50$/);
    // A customer already worth more than the next rung's mean has nothing to gain.
    const rich = evaluateCustomer(playbook, customer({ clv: 95 }), { ...ladderContext, rungClv }).assignment;
    expect(rich).toMatchObject({ action: LET_GO_ACTION, valueAtStake: 0 });
  });

  it('puts CLV at risk behind retain and win-back', () => {
    const slipping = customer({ historicOrders: 3, clv: 120, pAlive: 0.4, expectedPurchases90d: 0.1 });
    const { position, assignment } = evaluateCustomer(playbook, slipping, { ...ladderContext, rungClv });
    expect(position).toMatchObject({ rung: 'returning', state: 'slipping' });
    expect(assignment.action).toBe('reactivate');
    expect(assignment.valueAtStake).toBeCloseTo(120 * probabilityNoPurchase90d(slipping), 12);
    const lapsedOneTimer = customer({ T: 500, clv: 5000 });
    expect(
      evaluateCustomer(playbook, lapsedOneTimer, { ...ladderContext, rungClv }).assignment,
    ).toMatchObject({
      action: 'lapsed-one-timers',
      goal: 'let-go',
      reason: 'configured: lapsed-one-timers lets first-time/lapsed go',
    });
    // CLV at risk 400 × 0.99 = 396; × 0.05 = 19.80 > 4.
    const lapsedLoyal = customer({ historicOrders: 6, T: 500, clv: 400, probabilityNoPurchase90d: 0.99 });
    expect(evaluateCustomer(playbook, lapsedLoyal, { ...ladderContext, rungClv }).assignment).toMatchObject({
      action: 'win-back',
      goal: 'win-back',
      valueAtStake: 400 * 0.99,
    });
    const cheapLapsed = customer({ historicOrders: 6, T: 500, clv: 40, probabilityNoPurchase90d: 0.99 });
    expect(evaluateCustomer(playbook, cheapLapsed, { ...ladderContext, rungClv }).assignment).toMatchObject({
      action: LET_GO_ACTION,
      candidateAction: 'win-back',
    });
  });

  it('serves flagged customers cheaper whatever their value, or lets them go without such an action', () => {
    const flagged = customer({ clv: 900, negativeNetContribution: true });
    expect(evaluateCustomer(playbook, flagged, { ...ladderContext, rungClv }).assignment).toMatchObject({
      action: 'low-cost-service',
      goal: 'serve-cheaper',
      candidateAction: 'low-cost-service',
    });
    const withoutServeCheaper = parsePlaybookConfig({
      actions: playbook.actions.filter((action) => action.goal !== 'serve-cheaper'),
    });
    const { assignment } = evaluateCustomer(withoutServeCheaper, flagged, { ...ladderContext, rungClv });
    expect(assignment).toMatchObject({ action: LET_GO_ACTION, candidateAction: null, valueAtStake: 900 });
    expect(assignment.reason).toBe(
      'negative expected net contribution and no serve-cheaper action for first-time/active',
    );
  });

  it('lets a move-up go when the run has no customers on the next rung to estimate the gain from', () => {
    const empty = rungClvStatistics({}, ladder);
    const { assignment } = evaluateCustomer(playbook, customer(), { ...ladderContext, rungClv: empty });
    expect(assignment).toMatchObject({ action: LET_GO_ACTION, candidateAction: 'second-order' });
    expect(assignment.reason).toBe(
      'second-order: no customers on returning in this run to estimate the gain from',
    );
  });

  it('enters a paid audience exactly when value at stake × success rate > cost; let-go otherwise', () => {
    const actionArbitrary = fc.record({
      goal: fc.constantFrom('move-up' as const, 'retain' as const, 'win-back' as const),
      successRate: fc.double({ min: 0, max: 1, noNaN: true }),
      maxCostPerCustomer: fc.double({ min: 0, max: 200, noNaN: true }),
    });
    const customerArbitrary = fc.record({
      historicOrders: fc.integer({ min: 1, max: 12 }),
      clv: fc.double({ min: -50, max: 2000, noNaN: true }),
      pAlive: fc.double({ min: 0, max: 1, noNaN: true }),
      expectedPurchases90d: fc.double({ min: 0, max: 5, noNaN: true }),
      T: fc.integer({ min: 0, max: 800 }),
      recencyShare: fc.double({ min: 0, max: 1, noNaN: true }),
      valueTier: fc.constantFrom('top1' as const, 'top10' as const, 'top25' as const, 'rest' as const),
    });
    const meansArbitrary = fc.tuple(...rungIds.map(() => fc.double({ min: 0, max: 1500, noNaN: true })));
    fc.assert(
      fc.property(actionArbitrary, customerArbitrary, meansArbitrary, (action, figures, means) => {
        // One paid action for every (rung, state), so the action under test is always the candidate.
        const config = parsePlaybookConfig({
          actions: [{ name: 'test-action', states: [...LADDER_STATES], channel: 'email', ...action }],
        });
        const statistics = statisticsWithMeans(Object.fromEntries(rungIds.map((id, i) => [id, means[i]!])));
        const c = customer({
          ...figures,
          recency: Math.floor(figures.T * figures.recencyShare),
        });
        const position = placeOnLadder(config.ladder, c, ladderContext);
        const assignment = assignAction(config, c, position, statistics);

        // Value at stake, computed here from the definitions.
        let value: number | null;
        if (action.goal === 'move-up') {
          const nextMean = position.nextRung === null ? null : means[rungIds.indexOf(position.nextRung)]!;
          value = nextMean === null ? null : Math.max(0, nextMean - c.clv);
        } else {
          value = Math.max(0, c.clv) * probabilityNoPurchase90d(c);
        }
        const enters = value !== null && value * action.successRate > action.maxCostPerCustomer;
        expect(assignment.candidateAction).toBe('test-action');
        expect(assignment.action).toBe(enters ? 'test-action' : LET_GO_ACTION);
        expect(assignment.goal).toBe(enters ? action.goal : 'let-go');
        if (value !== null) expect(assignment.valueAtStake).toBeCloseTo(value, 9);
        if (!enters) expect(assignment.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
