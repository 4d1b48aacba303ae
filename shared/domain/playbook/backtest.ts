/**
 * Backtest of the playbook on the holdout period: audiences chosen on the calibration-period view,
 * then members' holdout purchase and next-rung rates against comparable non-members. Mergeable.
 */
import type { ActionAssignment } from './actions.ts';

/** What a customer did in the holdout window. */
export interface HoldoutOutcome {
  /** Purchase days (net > 0) in the holdout window. */
  purchases: number;
  /** Whether at the holdout end the customer meets the rule of the next rung they had at the calibration end. */
  reachedNextRung: boolean;
}

export interface BacktestTally {
  customers: number;
  /** Customers with at least one purchase in the holdout. */
  purchasers: number;
  purchases: number;
  /** Customers with a next rung (not on the top rung) — the denominator of the next-rung rate. */
  withNextRung: number;
  reachedNextRung: number;
}

/**
 * Per candidate action (the action configured for the customers' rung and state), members — those
 * who entered it — and comparable non-members: same candidate action, hence same rung and state, but
 * not selected (let go by the economics). Keyed by action, then by `rung/state`.
 */
export interface BacktestAccumulator {
  actions: Record<string, Record<string, { members: BacktestTally; nonMembers: BacktestTally }>>;
  /** Customers with no candidate action (flagged, no serve-cheaper action): no comparison exists. */
  withoutCandidate: number;
}

const emptyTally = (): BacktestTally => ({
  customers: 0,
  purchasers: 0,
  purchases: 0,
  withNextRung: 0,
  reachedNextRung: 0,
});

export const emptyBacktest = (): BacktestAccumulator => ({ actions: {}, withoutCandidate: 0 });

function addToTally(tally: BacktestTally, hasNextRung: boolean, outcome: HoldoutOutcome): void {
  tally.customers += 1;
  if (outcome.purchases > 0) tally.purchasers += 1;
  tally.purchases += outcome.purchases;
  if (hasNextRung) {
    tally.withNextRung += 1;
    if (outcome.reachedNextRung) tally.reachedNextRung += 1;
  }
}

/** Counts one customer: the assignment made on the calibration view, and the holdout outcome. */
export function addBacktestCustomer(
  accumulator: BacktestAccumulator,
  assignment: ActionAssignment,
  outcome: HoldoutOutcome,
): void {
  const candidate = assignment.candidateAction;
  if (candidate === null) {
    accumulator.withoutCandidate += 1;
    return;
  }
  const cells = accumulator.actions[candidate] ?? {};
  accumulator.actions[candidate] = cells;
  const key = `${assignment.rung}/${assignment.state}`;
  const cell = cells[key] ?? { members: emptyTally(), nonMembers: emptyTally() };
  cells[key] = cell;
  const member = assignment.action === candidate;
  addToTally(member ? cell.members : cell.nonMembers, assignment.nextRung !== null, outcome);
}

function addTallies(target: BacktestTally, source: BacktestTally): void {
  target.customers += source.customers;
  target.purchasers += source.purchasers;
  target.purchases += source.purchases;
  target.withNextRung += source.withNextRung;
  target.reachedNextRung += source.reachedNextRung;
}

/** Sum of two accumulators (new object; inputs untouched). */
export function mergeBacktest(a: BacktestAccumulator, b: BacktestAccumulator): BacktestAccumulator {
  const merged = emptyBacktest();
  for (const accumulator of [a, b]) {
    merged.withoutCandidate += accumulator.withoutCandidate;
    for (const [action, cells] of Object.entries(accumulator.actions)) {
      const targetCells = merged.actions[action] ?? {};
      merged.actions[action] = targetCells;
      for (const [key, cell] of Object.entries(cells)) {
        const target = targetCells[key] ?? { members: emptyTally(), nonMembers: emptyTally() };
        targetCells[key] = target;
        addTallies(target.members, cell.members);
        addTallies(target.nonMembers, cell.nonMembers);
      }
    }
  }
  return merged;
}

export interface BacktestRates extends BacktestTally {
  /** purchasers / customers. */
  purchaseRate: number | null;
  /** purchases / customers. */
  purchasesPerCustomer: number | null;
  /** reachedNextRung / withNextRung. */
  nextRungRate: number | null;
}

export interface BacktestResult {
  action: string;
  members: BacktestRates;
  /** Non-members in the rungs and states where the action had members. */
  comparableNonMembers: BacktestRates;
  /** Every customer the action was configured for but who was not selected, in any rung and state. */
  notSelected: number;
  /** members' purchase rate / comparable non-members' purchase rate; null without a comparison. */
  purchaseLift: number | null;
  nextRungLift: number | null;
}

export const BACKTEST_DESCRIPTION =
  'Audiences chosen on the calibration period; rates observed in the holdout window. Members were ' +
  'selected for their expected value, so a lift above 1 shows that the selection finds the customers ' +
  'who act, not that an action caused it (no action was sent in the backtest).';

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);

function rates(tally: BacktestTally): BacktestRates {
  return {
    ...tally,
    purchaseRate: ratio(tally.purchasers, tally.customers),
    purchasesPerCustomer: ratio(tally.purchases, tally.customers),
    nextRungRate: ratio(tally.reachedNextRung, tally.withNextRung),
  };
}

const lift = (members: number | null, nonMembers: number | null) =>
  members === null || nonMembers === null || nonMembers === 0 ? null : members / nonMembers;

/**
 * Rates per action, sorted by name. Comparable non-members are pooled over the (rung, state) cells
 * that have members, so cells the action never selected from do not dilute the comparison.
 */
export function summarizeBacktest(accumulator: BacktestAccumulator): BacktestResult[] {
  return Object.keys(accumulator.actions)
    .sort()
    .map((action) => {
      const members = emptyTally();
      const nonMembers = emptyTally();
      let notSelected = 0;
      for (const cell of Object.values(accumulator.actions[action]!)) {
        addTallies(members, cell.members);
        if (cell.members.customers > 0) addTallies(nonMembers, cell.nonMembers);
        notSelected += cell.nonMembers.customers;
      }
      const memberRates = rates(members);
      const nonMemberRates = rates(nonMembers);
      return {
        action,
        members: memberRates,
        comparableNonMembers: nonMemberRates,
        notSelected,
        purchaseLift: lift(memberRates.purchaseRate, nonMemberRates.purchaseRate),
        nextRungLift: lift(memberRates.nextRungRate, nonMemberRates.nextRungRate),
      };
    });
}
