/**
 * The value playbook inside a scored part: each customer's ladder position and action become fields
 * of their score, and the part accumulates what finalize needs — funnel totals, audience economics,
 * ladder movement against the previous run and what became of the previous run's audiences — as
 * additive tallies (parts merge in any order), plus the audience rows for the CSV files.
 */
import type { HighValueDetractorRow } from '#domain/economics/satisfaction.ts';
import {
  addGroupSatisfaction,
  emptyGroupSatisfaction,
  type GroupSatisfactionAccumulator,
  mergeGroupSatisfaction,
} from '#domain/economics/satisfaction.ts';
import type { CustomerChange } from '#domain/migration.ts';
import { type ActionAssignment, evaluateCustomer, type PlaybookContext } from '#domain/playbook/actions.ts';
import { type AudienceRow, audienceRow } from '#domain/playbook/audiences.ts';
import { addRungClv, mergeRungClv, type RungClvAccumulator } from '#domain/playbook/economics.ts';
import type { LadderCustomer } from '#domain/playbook/ladder.ts';
import {
  type ActionOutcomes,
  addActionOutcome,
  addLadderMove,
  type LadderMovement,
  ladderPositionKey,
  mergeActionOutcomes,
  mergeLadderMovement,
  NEW_POSITION,
  positionLevel,
} from '#domain/playbook/movement.ts';
import type { PlaybookBacktest } from '#domain/playbook/summary.ts';
import { periodLengthDays } from '#domain/recalc-config.ts';
import type { CustomerScore } from '#domain/score.ts';
import type { PreviousScore } from '../ports/score-repository.ts';
import type { FittedRun } from './types.ts';

/**
 * What fitModels computes once per run for the playbook (JSON in the step state, small): the CLV
 * reference of each rung, which move-up gains are measured against, and the backtest on the
 * holdout split (null without one).
 */
export interface PlaybookReference {
  rungClv: PlaybookContext['rungClv'];
  backtest: PlaybookBacktest | null;
}

/** Audience economics of a part: summed over its members. */
export interface AudienceTally {
  customers: number;
  valueAtStake: number;
  expectedNetGain: number;
}

/** A part's playbook tallies (in its part result; merged by finalize). */
export interface PlaybookPartResult {
  /** Customers and CLV per rung and state. */
  rungs: RungClvAccumulator;
  /** action → its audience's tallies. */
  audiences: Record<string, AudienceTally>;
  /** Previous position → current position; the `(new)` row for customers without a previous position. */
  movement: LadderMovement;
  /** What became of the previous run's audience members (seen in this part). */
  previousActions: ActionOutcomes;
  /**
   * Satisfaction sums per ladder position (rung id, or slipping/lapsed), in runs whose scores carry
   * satisfaction (customer attributes with NPS or CSAT); absent otherwise.
   */
  satisfaction?: GroupSatisfactionAccumulator;
}

/**
 * The figures the ladder reads, from a score as the run builds it. The period families count recency
 * and T in periods (years or months), which the ladder's day-based rules read as days.
 */
export function ladderCustomerOf(
  score: CustomerScore,
  config: Pick<FittedRun['config'], 'family' | 'period'>,
): LadderCustomer {
  const periodDays = config.family === 'noncontractual-continuous' ? null : periodLengthDays(config);
  return {
    customerId: score.customerId,
    historicOrders: score.historicOrders,
    frequency: score.frequency,
    recency: periodDays === null ? score.recency : score.recency * periodDays,
    T: periodDays === null ? score.T : score.T * periodDays,
    timeUnit: periodDays === null ? (score.timeUnit ?? 'weeks') : 'days',
    asOf: score.asOf,
    clv: score.clv,
    expectedPurchases90d: score.expectedPurchases90d,
    pAlive: score.pAlive,
    valueTier: score.valueTier,
    historicRevenue: score.historicRevenue,
    currency: score.currency,
    // Runs with economics flag customers who cost more than they bring (the serve-cheaper actions).
    ...(score.economics ? { negativeNetContribution: score.economics.negativeNetContribution } : {}),
  };
}

/** The context every customer of a run is evaluated in. */
export function playbookContextOf(
  run: Pick<FittedRun, 'config' | 'tierThresholds'>,
  rungClv: PlaybookContext['rungClv'],
): PlaybookContext {
  return {
    clvHorizonMonths: run.config.clv.horizonMonths,
    tierThresholds: run.tierThresholds,
    rungClv,
  };
}

/** The score fields of an evaluation. */
export function playbookFields(
  assignment: ActionAssignment,
  toNextRung: string,
): Required<
  Pick<CustomerScore, 'rung' | 'ladderState' | 'nextRung' | 'toNextRung' | 'action' | 'valueAtStake'>
> {
  return {
    rung: assignment.rung,
    ladderState: assignment.state,
    nextRung: assignment.nextRung,
    toNextRung,
    action: assignment.action,
    // Cents, like every money figure of a score (the audience files keep two decimals too).
    valueAtStake: Math.round(assignment.valueAtStake * 100) / 100,
  };
}

/** A listed customer's line of the high-value detractors file (the score has economics). */
export function highValueDetractorRowOf(score: CustomerScore): HighValueDetractorRow {
  return {
    customerId: score.customerId,
    valueTier: score.valueTier,
    netClv: score.economics?.netClv ?? score.clv,
    satisfaction: score.economics?.satisfaction
      ? { scale: score.economics.satisfaction.scale, score: score.economics.satisfaction.score }
      : null,
    clv: score.clv,
    segment: score.segment,
    currency: score.currency,
  };
}

/**
 * Evaluates the customers of one part. `evaluate` returns the score with its playbook fields and the
 * customer's audience row; `result` the part's tallies.
 */
export function createPlaybookPart(run: FittedRun) {
  const playbook = run.config.playbook;
  const reference = run.playbook;
  const context = playbookContextOf(run, reference?.rungClv ?? {});
  const result: PlaybookPartResult = { rungs: {}, audiences: {}, movement: {}, previousActions: {} };

  return {
    evaluate(score: CustomerScore, previous: PreviousScore | undefined) {
      const customer = ladderCustomerOf(score, run.config);
      const { position, assignment } = evaluateCustomer(playbook, customer, context);
      const scored: CustomerScore = {
        ...score,
        ...playbookFields(assignment, position.toNextRung?.text ?? ''),
      };
      addRungClv(result.rungs, assignment.rung, assignment.state, score.clv);
      if (score.economics) {
        result.satisfaction ??= emptyGroupSatisfaction();
        addGroupSatisfaction(
          result.satisfaction,
          ladderPositionKey(assignment.rung, assignment.state),
          score.economics.satisfaction,
        );
      }
      const audience = result.audiences[assignment.action] ?? {
        customers: 0,
        valueAtStake: 0,
        expectedNetGain: 0,
      };
      result.audiences[assignment.action] = audience;
      audience.customers += 1;
      audience.valueAtStake += assignment.valueAtStake;
      audience.expectedNetGain += assignment.expectedNetGain;

      const to = ladderPositionKey(assignment.rung, assignment.state);
      const before = previousPosition(playbook.ladder, previous);
      addLadderMove(
        result.movement,
        before ?? NEW_POSITION,
        to,
        score.clv,
        before ? (previous?.clv ?? 0) : 0,
      );
      if (before && previous?.action) {
        addActionOutcome(result.previousActions, playbook.ladder, previous.action, before, to);
      }
      const row: AudienceRow = audienceRow(customer, position, assignment);
      return { score: scored, row };
    },
    result: () => result,
  };
}

/**
 * The previous run's position of a customer; undefined when they had no score, no playbook fields, or
 * a rung this run's ladder does not have (the ladder was changed): such customers count as new.
 */
function previousPosition(
  ladder: FittedRun['config']['playbook']['ladder'],
  previous: PreviousScore | undefined,
): string | undefined {
  if (!previous?.rung || !previous.ladderState) return undefined;
  const key = ladderPositionKey(previous.rung, previous.ladderState);
  return positionLevel(ladder, key) === undefined || !ladder.rungs.some((r) => r.id === previous.rung)
    ? undefined
    : key;
}

/**
 * Adds the playbook to a customer's change: a change event also goes out when only the rung or the
 * audience changed. Null when neither the segment, the churn band, the rung nor the audience changed.
 */
export function withPlaybookChange(
  change: CustomerChange | null,
  previous: PreviousScore | undefined,
  current: CustomerScore,
): CustomerChange | null {
  if (!previous?.rung || current.rung === undefined || current.action === undefined) return change;
  const playbookChanged = previous.rung !== current.rung || previous.action !== current.action;
  if (!change && !playbookChanged) return null;
  return {
    ...(change ?? {
      customerId: current.customerId,
      previousSegment: previous.segment,
      segment: current.segment,
      previousChurnRisk: previous.churnRisk,
      churnRisk: current.churnRisk,
    }),
    previousRung: previous.rung,
    rung: current.rung,
    ...(previous.action ? { previousAction: previous.action } : {}),
    action: current.action,
  };
}

/** Sum of parts' tallies (new object). */
export function mergePlaybookParts(parts: readonly PlaybookPartResult[]): PlaybookPartResult {
  let merged: PlaybookPartResult = { rungs: {}, audiences: {}, movement: {}, previousActions: {} };
  for (const part of parts) {
    const audiences = { ...merged.audiences };
    for (const [action, tally] of Object.entries(part.audiences)) {
      const target = audiences[action] ?? { customers: 0, valueAtStake: 0, expectedNetGain: 0 };
      audiences[action] = {
        customers: target.customers + tally.customers,
        valueAtStake: target.valueAtStake + tally.valueAtStake,
        expectedNetGain: target.expectedNetGain + tally.expectedNetGain,
      };
    }
    merged = {
      rungs: mergeRungClv(merged.rungs, part.rungs),
      ...(merged.satisfaction || part.satisfaction
        ? {
            satisfaction: mergeGroupSatisfaction(
              merged.satisfaction ?? emptyGroupSatisfaction(),
              part.satisfaction ?? emptyGroupSatisfaction(),
            ),
          }
        : {}),
      audiences,
      movement: mergeLadderMovement(merged.movement, part.movement),
      previousActions: mergeActionOutcomes(merged.previousActions, part.previousActions),
    };
  }
  return merged;
}
