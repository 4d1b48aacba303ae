/**
 * Assigns each customer exactly one action: the one configured for their (rung, state) when it pays
 * off, else `let-go` with the reason. Nobody is dropped.
 */
import { paysOff, type RungClvStatistics, valueAtStake } from './economics.ts';
import { type LadderContext, type LadderCustomer, type LadderPosition, placeOnLadder } from './ladder.ts';
import {
  type ActionConfig,
  type ActionGoal,
  actionCovers,
  type LadderState,
  LET_GO_ACTION,
  type PlaybookConfig,
} from './playbook-config.ts';

export interface ActionAssignment {
  customerId: string;
  rung: string;
  state: LadderState;
  nextRung: string | null;
  /** The action configured for the customer's (rung, state), whether or not they entered it; null only for a flagged customer without a serve-cheaper action. */
  candidateAction: string | null;
  /** The audience the customer is in: `candidateAction`, or `let-go`. */
  action: string;
  goal: ActionGoal;
  /** Null for the let-go fallback. */
  channel: string | null;
  /** Run currency, ≥ 0. */
  valueAtStake: number;
  successRate: number;
  maxCostPerCustomer: number;
  /** valueAtStake × successRate − maxCostPerCustomer (0 for let-go audiences, which cost nothing). */
  expectedNetGain: number;
  reason: string;
}

/**
 * The configured action for a position: the first action covering (rung, state) among serve-cheaper
 * actions for customers flagged with a negative net contribution, among the others for everyone else.
 */
export function candidateAction(
  playbook: PlaybookConfig,
  rung: string,
  state: LadderState,
  negativeNetContribution: boolean,
): ActionConfig | undefined {
  return playbook.actions.find(
    (action) =>
      (action.goal === 'serve-cheaper') === negativeNetContribution && actionCovers(action, rung, state),
  );
}

export interface PlaybookContext extends LadderContext {
  rungClv: RungClvStatistics;
}

/**
 * One customer's action. Paid goals (move-up, retain, win-back) need value at stake × success rate >
 * max cost per customer; configured let-go and serve-cheaper actions are taken as configured.
 */
export function assignAction(
  playbook: PlaybookConfig,
  customer: LadderCustomer,
  position: LadderPosition,
  rungClv: RungClvStatistics,
): ActionAssignment {
  const flagged = customer.negativeNetContribution === true;
  const action = candidateAction(playbook, position.rung, position.state, flagged);
  const base = {
    customerId: customer.customerId,
    rung: position.rung,
    state: position.state,
    nextRung: position.nextRung,
  };
  const currency = customer.currency;
  const letGo = (valueAtStakeFound: number, reason: string): ActionAssignment => ({
    ...base,
    candidateAction: action?.name ?? null,
    action: LET_GO_ACTION,
    goal: 'let-go',
    channel: null,
    valueAtStake: valueAtStakeFound,
    successRate: 0,
    maxCostPerCustomer: 0,
    expectedNetGain: 0,
    reason,
  });

  if (!action) {
    // The schema makes every (rung, state) covered, so only flagged customers get here.
    const value = valueAtStake('let-go', customer, position.nextRung, rungClv)!.value;
    return letGo(
      value,
      `negative expected net contribution and no serve-cheaper action for ${position.rung}/${position.state}`,
    );
  }
  const stake = valueAtStake(action.goal, customer, position.nextRung, rungClv);
  const member = (reason: string, expectedNetGain: number): ActionAssignment => ({
    ...base,
    candidateAction: action.name,
    action: action.name,
    goal: action.goal,
    channel: action.channel,
    valueAtStake: stake?.value ?? 0,
    successRate: action.successRate,
    maxCostPerCustomer: action.maxCostPerCustomer,
    expectedNetGain,
    reason,
  });

  if (action.goal === 'let-go')
    return member(`configured: ${action.name} lets ${position.rung}/${position.state} go`, 0);
  if (action.goal === 'serve-cheaper') {
    return member('negative expected net contribution: serve at lower cost', -action.maxCostPerCustomer);
  }
  if (stake === null) {
    return letGo(
      0,
      position.nextRung === null
        ? `${action.name} moves customers up, but ${position.rung} is the top rung`
        : `${action.name}: no customers on ${position.nextRung} in this run to estimate the gain from`,
    );
  }
  const expectedReturn = stake.value * action.successRate;
  const figures = `${stake.basis} = ${money(stake.value, currency)} × success rate ${action.successRate} = ${money(expectedReturn, currency)}`;
  if (paysOff(stake.value, action.successRate, action.maxCostPerCustomer)) {
    return member(
      `${figures} > cost ${money(action.maxCostPerCustomer, currency)}`,
      expectedReturn - action.maxCostPerCustomer,
    );
  }
  return letGo(
    stake.value,
    `${action.name} does not pay off: ${figures} ≤ cost ${money(action.maxCostPerCustomer, currency)}`,
  );
}

const money = (value: number, currency: string) => `${currency} ${value.toFixed(2)}`;

/** Ladder position and action of one customer. */
export function evaluateCustomer(
  playbook: PlaybookConfig,
  customer: LadderCustomer,
  context: PlaybookContext,
): { position: LadderPosition; assignment: ActionAssignment } {
  const position = placeOnLadder(playbook.ladder, customer, context);
  return { position, assignment: assignAction(playbook, customer, position, context.rungClv) };
}
