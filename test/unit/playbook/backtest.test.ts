// Backtest: merged accumulators against a plain customer-by-customer computation (synthetic and CDNOW).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scoreCustomers } from '#domain/clv.ts';
import { fitGammaGamma } from '#domain/models/gamma-gamma.ts';
import { fitPurchaseModel } from '#domain/models/purchase-models.ts';
import { type ActionAssignment, evaluateCustomer } from '#domain/playbook/actions.ts';
import {
  addBacktestCustomer,
  type BacktestAccumulator,
  emptyBacktest,
  type HoldoutOutcome,
  mergeBacktest,
  summarizeBacktest,
} from '#domain/playbook/backtest.ts';
import { addRungClv, type RungClvAccumulator, rungClvStatistics } from '#domain/playbook/economics.ts';
import { type LadderCustomer, meetsRung, placeOnLadder } from '#domain/playbook/ladder.ts';
import { PLAYBOOK_PRESETS, type PlaybookConfig } from '#domain/playbook/playbook-config.ts';
import { compressRfm, summarizeTransactions, type TransactionRecord } from '#domain/rfm-summary.ts';
import { valueTier, valueTierThresholds } from '#domain/segments.ts';
import { customer } from './fixtures.ts';

interface Rates {
  customers: number;
  purchaseRate: number | null;
  nextRungRate: number | null;
}

/**
 * The backtest computed the plain way, from the list of customers: members of an action are the
 * customers assigned to it; comparable non-members are customers for whom it was the configured
 * action, in a (rung, state) where it has members, who were not assigned to it.
 */
function independentBacktest(rows: { assignment: ActionAssignment; outcome: HoldoutOutcome }[]) {
  const rate = (group: typeof rows): Rates => {
    const withNext = group.filter((row) => row.assignment.nextRung !== null);
    return {
      customers: group.length,
      purchaseRate: group.length
        ? group.filter((row) => row.outcome.purchases > 0).length / group.length
        : null,
      nextRungRate: withNext.length
        ? withNext.filter((row) => row.outcome.reachedNextRung).length / withNext.length
        : null,
    };
  };
  const actions = [...new Set(rows.flatMap((row) => row.assignment.candidateAction ?? []))].sort();
  return actions.map((action) => {
    const members = rows.filter((row) => row.assignment.action === action);
    const cells = new Set(members.map((row) => `${row.assignment.rung}/${row.assignment.state}`));
    const nonMembers = rows.filter(
      (row) =>
        row.assignment.candidateAction === action &&
        row.assignment.action !== action &&
        cells.has(`${row.assignment.rung}/${row.assignment.state}`),
    );
    const notSelected = rows.filter(
      (row) => row.assignment.candidateAction === action && row.assignment.action !== action,
    ).length;
    const m = rate(members);
    const n = rate(nonMembers);
    const lift = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
    return {
      action,
      members: m,
      nonMembers: n,
      notSelected,
      purchaseLift: lift(m.purchaseRate, n.purchaseRate),
      nextRungLift: lift(m.nextRungRate, n.nextRungRate),
    };
  });
}

/** The accumulators fed in parts, merged, summarized; checked against the plain computation. */
function expectMatchesIndependent(
  rows: { assignment: ActionAssignment; outcome: HoldoutOutcome }[],
  partCount: number,
): ReturnType<typeof summarizeBacktest> {
  const parts: BacktestAccumulator[] = Array.from({ length: partCount }, emptyBacktest);
  rows.forEach(({ assignment, outcome }, i) => {
    addBacktestCustomer(parts[(i * 7) % partCount]!, assignment, outcome);
  });
  const summary = summarizeBacktest(parts.reduce(mergeBacktest, emptyBacktest()));
  const expected = independentBacktest(rows);
  expect(summary.map((result) => result.action)).toEqual(expected.map((result) => result.action));
  summary.forEach((result, i) => {
    const want = expected[i]!;
    expect(result.members.customers).toBe(want.members.customers);
    expect(result.comparableNonMembers.customers).toBe(want.nonMembers.customers);
    expect(result.notSelected).toBe(want.notSelected);
    expect(result.members.purchaseRate).toBeCloseToOrNull(want.members.purchaseRate);
    expect(result.members.nextRungRate).toBeCloseToOrNull(want.members.nextRungRate);
    expect(result.comparableNonMembers.purchaseRate).toBeCloseToOrNull(want.nonMembers.purchaseRate);
    expect(result.comparableNonMembers.nextRungRate).toBeCloseToOrNull(want.nonMembers.nextRungRate);
    expect(result.purchaseLift).toBeCloseToOrNull(want.purchaseLift);
    expect(result.nextRungLift).toBeCloseToOrNull(want.nextRungLift);
  });
  return summary;
}

expect.extend({
  toBeCloseToOrNull(received: number | null, expected: number | null) {
    const pass =
      received === expected ||
      (received !== null &&
        expected !== null &&
        Math.abs(received - expected) <= 1e-12 * Math.max(1, Math.abs(expected)));
    return { pass, message: () => `expected ${received} to be ${expected}` };
  },
});
declare module 'vitest' {
  interface Matchers<T> {
    toBeCloseToOrNull(expected: number | null): T;
  }
}

describe('backtest on synthetic customers', () => {
  const playbook = PLAYBOOK_PRESETS['web-shop'];
  const accumulator: RungClvAccumulator = {};
  for (const [rung, clv] of [
    ['returning', 90],
    ['loyal', 220],
    ['top', 700],
  ] as const) {
    addRungClv(accumulator, rung, 'active', clv);
  }
  const context = { clvHorizonMonths: 12, rungClv: rungClvStatistics(accumulator, playbook.ladder) };

  it('gives the same rates and lifts from merged parts as computed customer by customer', () => {
    const row = fc.record({
      historicOrders: fc.integer({ min: 1, max: 8 }),
      clv: fc.integer({ min: 0, max: 80_000 }).map((cents) => cents / 100),
      pAlive: fc.double({ min: 0, max: 1, noNaN: true }),
      T: fc.integer({ min: 0, max: 500 }),
      recency: fc.integer({ min: 0, max: 500 }),
      valueTier: fc.constantFrom('top1' as const, 'top10' as const, 'top25' as const, 'rest' as const),
      negativeNetContribution: fc.boolean(),
      purchases: fc.nat({ max: 3 }),
      reachedNextRung: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 300 }), fc.integer({ min: 1, max: 6 }), (figures, partCount) => {
        const rows = figures.map((f, i) => {
          const c = customer({ ...f, customerId: String(i), recency: Math.min(f.recency, f.T) });
          return {
            assignment: evaluateCustomer(playbook, c, context).assignment,
            outcome: { purchases: f.purchases, reachedNextRung: f.reachedNextRung },
          };
        });
        expectMatchesIndependent(rows, partCount);
      }),
      { numRuns: 60 },
    );
  });
});

describe('backtest on CDNOW (calibration to 1997-09-30, holdout to 1998-06-30)', () => {
  const fixture = fileURLToPath(new URL('../../fixtures/cdnow/CDNOW_sample.txt', import.meta.url));
  const transactions: TransactionRecord[] = readFileSync(fixture, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .map((line) => {
      const [, id, date, , amount] = line.trim().split(/\s+/);
      return {
        customerId: id!,
        date: `${date!.slice(0, 4)}-${date!.slice(4, 6)}-${date!.slice(6, 8)}`,
        amount: Number(amount),
      };
    });

  /** The run's view of every customer as of `end`: a summary, a BG/NBD + Gamma-Gamma fit, scores, tiers. */
  function viewsAt(end: string): Map<string, LadderCustomer> {
    const summary = summarizeTransactions(transactions, { observationEnd: end, unit: 'weeks' });
    const model = fitPurchaseModel('bgnbd', compressRfm(summary.frequency, summary.recency, summary.T));
    const spend = fitGammaGamma(summary.frequency, summary.monetaryValue);
    const scores = scoreCustomers(
      'bgnbd',
      model.params,
      spend.params,
      {
        x: summary.frequency,
        tx: summary.recency,
        T: summary.T,
        monetaryValue: summary.monetaryValue,
      },
      { unit: 'weeks', expectedPurchasesHorizon: 90 / 7 },
    );
    const thresholds = valueTierThresholds(scores.clv, { top1: 0.01, top10: 0.1, top25: 0.25 });
    const orders = new Map<string, { orders: number; revenue: number }>();
    for (const t of transactions) {
      if ((t.date as string) > end) continue;
      const entry = orders.get(t.customerId) ?? { orders: 0, revenue: 0 };
      orders.set(t.customerId, entry);
      entry.orders += 1;
      entry.revenue += t.amount;
    }
    const views = new Map<string, LadderCustomer>();
    summary.customerIds.forEach((id, i) => {
      views.set(id, {
        customerId: id,
        historicOrders: orders.get(id)!.orders,
        frequency: summary.frequency[i]!,
        recency: summary.recency[i]!,
        T: summary.T[i]!,
        timeUnit: 'weeks',
        asOf: end,
        clv: scores.clv[i]!,
        expectedPurchases90d: scores.expectedPurchases[i]!,
        pAlive: scores.probabilityAlive[i]!,
        valueTier: valueTier(scores.clv[i]!, thresholds),
        historicRevenue: orders.get(id)!.revenue,
        currency: 'USD',
      });
    });
    return views;
  }

  it('compares members with comparable non-members exactly as the plain computation does', () => {
    const playbook: PlaybookConfig = PLAYBOOK_PRESETS['web-shop'];
    const holdout = summarizeTransactions(transactions, {
      observationEnd: '1998-06-30',
      calibrationEnd: '1997-09-30',
      unit: 'weeks',
    });
    const calibration = viewsAt('1997-09-30');
    const atHoldoutEnd = viewsAt('1998-06-30');
    expect(calibration.size).toBe(2357);

    // Run-level statistics first (as the recalc would in fitModels), then the assignments.
    const ladderContext = { clvHorizonMonths: 12 };
    const positions = [...calibration.values()].map((c) => placeOnLadder(playbook.ladder, c, ladderContext));
    const accumulator: RungClvAccumulator = {};
    for (const p of positions) addRungClv(accumulator, p.rung, p.state, calibration.get(p.customerId)!.clv);
    const context = { ...ladderContext, rungClv: rungClvStatistics(accumulator, playbook.ladder) };

    const holdoutPurchases = new Map(
      holdout.customerIds.map((id, i) => [id, holdout.holdout!.frequency[i]!]),
    );
    const rows = [...calibration.values()].map((c) => {
      const { position, assignment } = evaluateCustomer(playbook, c, context);
      const later = atHoldoutEnd.get(c.customerId)!;
      return {
        assignment,
        outcome: {
          purchases: holdoutPurchases.get(c.customerId)!,
          reachedNextRung: position.nextRung !== null && meetsRung(playbook.ladder, position.nextRung, later),
        },
      };
    });
    const summary = expectMatchesIndependent(rows, 4);

    // The comparison is not empty: at least one audience has both members and comparable non-members.
    const compared = summary.filter((r) => r.members.customers > 0 && r.comparableNonMembers.customers > 0);
    expect(compared.length).toBeGreaterThan(0);
    expect(summary.reduce((n, r) => n + r.members.customers, 0)).toBeGreaterThan(0);
  });
});
