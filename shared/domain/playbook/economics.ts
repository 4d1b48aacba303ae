/**
 * The economics of an action: value at stake per customer (CLV gain of reaching the next rung, or CLV
 * at risk), the entry rule value × success rate > cost, and the run-level CLV statistics per rung.
 */
import { type LadderCustomer, probabilityNoPurchase90d } from './ladder.ts';
import type { ActionGoal, Ladder, LadderState } from './playbook-config.ts';
import { LADDER_STATES } from './playbook-config.ts';

/** Customers and summed CLV per rung and state; additive, so parts of a run can be merged in any order. */
export type RungClvAccumulator = Record<string, Record<LadderState, { customers: number; totalClv: number }>>;

const emptyStates = (): Record<LadderState, { customers: number; totalClv: number }> => ({
  active: { customers: 0, totalClv: 0 },
  slipping: { customers: 0, totalClv: 0 },
  lapsed: { customers: 0, totalClv: 0 },
});

export function addRungClv(
  accumulator: RungClvAccumulator,
  rung: string,
  state: LadderState,
  clv: number,
): void {
  const states = accumulator[rung] ?? emptyStates();
  accumulator[rung] = states;
  states[state].customers += 1;
  states[state].totalClv += clv;
}

/** Sum of two accumulators (new object; inputs untouched). */
export function mergeRungClv(a: RungClvAccumulator, b: RungClvAccumulator): RungClvAccumulator {
  const merged: RungClvAccumulator = {};
  for (const accumulator of [a, b]) {
    for (const [rung, states] of Object.entries(accumulator)) {
      const target = merged[rung] ?? emptyStates();
      merged[rung] = target;
      for (const state of LADDER_STATES) {
        target[state].customers += states[state].customers;
        target[state].totalClv += states[state].totalClv;
      }
    }
  }
  return merged;
}

export interface RungClvStatistic {
  customers: number;
  meanClv: number;
  /** Customers on the rung in state active, and their mean CLV: what reaching the rung is worth. */
  activeCustomers: number;
  activeMeanClv: number;
}
/** rung id → statistics, every rung of the ladder listed (zeros when empty). JSON, passes between steps. */
export type RungClvStatistics = Record<string, RungClvStatistic>;

export function rungClvStatistics(accumulator: RungClvAccumulator, ladder: Ladder): RungClvStatistics {
  const statistics: RungClvStatistics = {};
  for (const { id } of ladder.rungs) {
    const states = accumulator[id] ?? emptyStates();
    let customers = 0;
    let totalClv = 0;
    for (const state of LADDER_STATES) {
      customers += states[state].customers;
      totalClv += states[state].totalClv;
    }
    statistics[id] = {
      customers,
      meanClv: customers > 0 ? totalClv / customers : 0,
      activeCustomers: states.active.customers,
      activeMeanClv: states.active.customers > 0 ? states.active.totalClv / states.active.customers : 0,
    };
  }
  return statistics;
}

/**
 * The CLV a customer can expect once on a rung: the mean CLV of the rung's active customers (those
 * who are on it now, not drifting off), else of all its customers; null when the run has nobody there.
 */
export function rungReferenceClv(statistics: RungClvStatistics, rung: string): number | null {
  const statistic = statistics[rung];
  if (!statistic) return null;
  if (statistic.activeCustomers > 0) return statistic.activeMeanClv;
  if (statistic.customers > 0) return statistic.meanClv;
  return null;
}

export interface ValueAtStake {
  /** Run currency; ≥ 0. */
  value: number;
  /** How it was computed, in words with the numbers. */
  basis: string;
}

/**
 * move-up: max(0, reference CLV of the next rung − the customer's CLV) — what reaching it would add.
 * retain, win-back: CLV × P(no purchase in the next 90 days) — the value the customer takes along if
 * they do not buy again. serve-cheaper, let-go: the CLV itself (not spent on, only ranked by).
 * Null when a move-up has no next rung or no customers on it to estimate the gain from.
 */
export function valueAtStake(
  goal: ActionGoal,
  customer: LadderCustomer,
  nextRung: string | null,
  statistics: RungClvStatistics,
): ValueAtStake | null {
  const clv = Math.max(0, customer.clv);
  const amount = (value: number) => `${customer.currency} ${value.toFixed(2)}`;
  switch (goal) {
    case 'move-up': {
      if (nextRung === null) return null;
      const reference = rungReferenceClv(statistics, nextRung);
      if (reference === null) return null;
      return {
        value: Math.max(0, reference - customer.clv),
        basis: `mean CLV on ${nextRung} ${amount(reference)} − own CLV ${amount(customer.clv)}`,
      };
    }
    case 'retain':
    case 'win-back': {
      const pNoPurchase = probabilityNoPurchase90d(customer);
      return {
        value: clv * pNoPurchase,
        basis: `CLV ${amount(clv)} × P(no purchase in 90 days) ${pNoPurchase.toFixed(3)}`,
      };
    }
    case 'serve-cheaper':
    case 'let-go':
      return { value: clv, basis: `CLV ${amount(clv)}` };
  }
}

/** The entry rule of a paid action: the expected return must exceed the cost, strictly. */
export const paysOff = (value: number, successRate: number, maxCostPerCustomer: number) =>
  value * successRate > maxCostPerCustomer;
