/**
 * Movement along the value ladder between two runs (customers and CLV per from → to position) and
 * what became of the previous run's audience members. Additive accumulators: parts merge in any order.
 */
import type { Ladder, LadderState } from './playbook-config.ts';

/** Row of customers without a position in the previous run. */
export const NEW_POSITION = '(new)';
/** Column of previous-run customers without a position now (erased, or no longer summarized). */
export const GONE_POSITION = '(gone)';

/**
 * A customer's place in the value chain: the rung when active; off the ladder, the state alone
 * (a slipping loyal customer and a slipping first-time buyer are both "slipping").
 */
export const ladderPositionKey = (rung: string, state: LadderState) => (state === 'active' ? rung : state);

/**
 * Order of positions, low to high: lapsed, slipping, then the rungs bottom to top. Undefined for a
 * key the ladder does not know (including `(new)` and `(gone)`).
 */
export function positionLevel(ladder: Ladder, key: string): number | undefined {
  if (key === 'lapsed') return 0;
  if (key === 'slipping') return 1;
  const index = ladder.rungs.findIndex((rung) => rung.id === key);
  return index < 0 ? undefined : 2 + index;
}

export interface MovementCell {
  customers: number;
  /** CLV of these customers in this run (0 for gone customers). */
  clv: number;
  /** Their CLV in the previous run (0 for new customers). */
  previousClv: number;
}

/** previous position → current position → cell. */
export type LadderMovement = Record<string, Record<string, MovementCell>>;

export function addLadderMove(
  movement: LadderMovement,
  from: string,
  to: string,
  clv: number,
  previousClv: number,
  customers = 1,
): void {
  const row = movement[from] ?? {};
  movement[from] = row;
  const cell = row[to] ?? { customers: 0, clv: 0, previousClv: 0 };
  row[to] = cell;
  cell.customers += customers;
  cell.clv += clv;
  cell.previousClv += previousClv;
}

/** Sum of two movements (new object; inputs untouched). */
export function mergeLadderMovement(a: LadderMovement, b: LadderMovement): LadderMovement {
  const merged: LadderMovement = {};
  for (const movement of [a, b]) {
    for (const [from, row] of Object.entries(movement)) {
      for (const [to, cell] of Object.entries(row)) {
        addLadderMove(merged, from, to, cell.clv, cell.previousClv, cell.customers);
      }
    }
  }
  return merged;
}

/**
 * Adds the `(gone)` column from the previous run's totals per position: parts only see this run's
 * customers, the ones they did not see are the difference. Throws when more customers left a
 * position than it had (the inputs belong to different runs).
 */
export function completeLadderMovement(
  movement: LadderMovement,
  previousTotals: Readonly<Record<string, { customers: number; clv: number }>>,
): LadderMovement {
  const complete = mergeLadderMovement(movement, {});
  for (const [position, total] of Object.entries(previousTotals)) {
    const row = complete[position] ?? {};
    let customers = 0;
    let previousClv = 0;
    for (const cell of Object.values(row)) {
      customers += cell.customers;
      previousClv += cell.previousClv;
    }
    if (customers > total.customers) {
      throw new Error(
        `ladder movement: ${customers} customers moved out of '${position}' but the previous run had only ${total.customers} there`,
      );
    }
    if (customers < total.customers) {
      addLadderMove(
        complete,
        position,
        GONE_POSITION,
        0,
        total.clv - previousClv,
        total.customers - customers,
      );
    }
  }
  return complete;
}

export interface MovementTotals {
  customers: number;
  clv: number;
  previousClv: number;
}

export interface MovementSummary {
  up: MovementTotals;
  stayed: MovementTotals;
  down: MovementTotals;
  new: MovementTotals;
  gone: MovementTotals;
  /** Customers and CLV (this run's) that moved up minus those that moved down. */
  netUp: { customers: number; clv: number };
}

/** Up, stayed and down by position level; new and gone apart. */
export function summarizeLadderMovement(movement: LadderMovement, ladder: Ladder): MovementSummary {
  const zero = (): MovementTotals => ({ customers: 0, clv: 0, previousClv: 0 });
  const summary = { up: zero(), stayed: zero(), down: zero(), new: zero(), gone: zero() };
  for (const [from, row] of Object.entries(movement)) {
    for (const [to, cell] of Object.entries(row)) {
      const bucket =
        from === NEW_POSITION
          ? summary.new
          : to === GONE_POSITION
            ? summary.gone
            : summary[direction(ladder, from, to)];
      bucket.customers += cell.customers;
      bucket.clv += cell.clv;
      bucket.previousClv += cell.previousClv;
    }
  }
  return {
    ...summary,
    netUp: {
      customers: summary.up.customers - summary.down.customers,
      clv: summary.up.clv - summary.down.clv,
    },
  };
}

function direction(ladder: Ladder, from: string, to: string): 'up' | 'stayed' | 'down' {
  const before = positionLevel(ladder, from);
  const after = positionLevel(ladder, to);
  if (before === undefined || after === undefined) {
    throw new RangeError(`ladder movement: unknown position '${before === undefined ? from : to}'`);
  }
  return after > before ? 'up' : after < before ? 'down' : 'stayed';
}

// ── what became of the previous run's audiences ───────────────────────────────────────────────

export const ACTION_OUTCOME_DESCRIPTION =
  'Observed movement of the previous run’s audience members up to this run: an outcome, not the ' +
  'effect of the action. Members were chosen because they were expected to respond, and whether ' +
  'the action was carried out is not known here; compare with comparable non-members (backtest) ' +
  'before crediting the action.';

export interface ActionOutcome {
  members: number;
  movedUp: number;
  stayed: number;
  fell: number;
  /** Members without a position in this run. */
  gone: number;
}
/** previous run's action → outcome counts. */
export type ActionOutcomes = Record<string, ActionOutcome>;

/** Counts one member of a previous audience; `currentPosition` null when the customer is gone. */
export function addActionOutcome(
  outcomes: ActionOutcomes,
  ladder: Ladder,
  previousAction: string,
  previousPosition: string,
  currentPosition: string | null,
): void {
  const outcome = outcomes[previousAction] ?? { members: 0, movedUp: 0, stayed: 0, fell: 0, gone: 0 };
  outcomes[previousAction] = outcome;
  outcome.members += 1;
  if (currentPosition === null) {
    outcome.gone += 1;
    return;
  }
  const moved = direction(ladder, previousPosition, currentPosition);
  if (moved === 'up') outcome.movedUp += 1;
  else if (moved === 'down') outcome.fell += 1;
  else outcome.stayed += 1;
}

export function mergeActionOutcomes(a: ActionOutcomes, b: ActionOutcomes): ActionOutcomes {
  const merged: ActionOutcomes = {};
  for (const outcomes of [a, b]) {
    for (const [action, outcome] of Object.entries(outcomes)) {
      const target = merged[action] ?? { members: 0, movedUp: 0, stayed: 0, fell: 0, gone: 0 };
      merged[action] = target;
      target.members += outcome.members;
      target.movedUp += outcome.movedUp;
      target.stayed += outcome.stayed;
      target.fell += outcome.fell;
      target.gone += outcome.gone;
    }
  }
  return merged;
}

export interface ActionOutcomeReport {
  description: string;
  actions: (ActionOutcome & { action: string; movedUpShare: number })[];
}

/** The outcomes per action (sorted by name) with the description that says how to read them. */
export function reportActionOutcomes(outcomes: ActionOutcomes): ActionOutcomeReport {
  return {
    description: ACTION_OUTCOME_DESCRIPTION,
    actions: Object.keys(outcomes)
      .sort()
      .map((action) => {
        const outcome = outcomes[action]!;
        return {
          action,
          ...outcome,
          movedUpShare: outcome.members > 0 ? outcome.movedUp / outcome.members : 0,
        };
      }),
  };
}
