/**
 * The value playbook in finalize: merges the parts' tallies into the run's playbook summary (funnel,
 * actions with their economics and backtest, movement since the previous run, what became of the
 * previous run's audiences) and writes one ranked audience file per action.
 */
import { audienceKey, partAudienceRowsKey, runListKey } from '#domain/bucket-layout.ts';
import {
  groupSatisfaction,
  HIGH_VALUE_DETRACTORS_LIST,
  type HighValueDetractorRow,
  highValueDetractorsCsv,
} from '#domain/economics/satisfaction.ts';
import { type AudienceRow, audienceCsv, rankAudiences } from '#domain/playbook/audiences.ts';
import { describeRungRule, explainAction, explainPosition } from '#domain/playbook/explain.ts';
import {
  type ActionOutcomes,
  completeLadderMovement,
  type LadderMovement,
  reportActionOutcomes,
  summarizeLadderMovement,
} from '#domain/playbook/movement.ts';
import { LADDER_STATES, LET_GO_ACTION, type PlaybookConfig } from '#domain/playbook/playbook-config.ts';
import type { PlaybookActionSummary, PlaybookSummary } from '#domain/playbook/summary.ts';
import type { RunRecord } from '#domain/run.ts';
import { mergePlaybookParts, type PlaybookPartResult } from './playbook.ts';
import type { FittedRun, PartResult, RecalcDeps } from './types.ts';

/** How value at stake is computed, in words (stored with the run; the report and the API show it). */
export const VALUE_AT_STAKE_BASIS =
  'move-up: mean CLV of the active customers on the next rung minus the customer’s own CLV; ' +
  'retain and win-back: CLV × P(no purchase in the next 90 days); a customer enters an audience ' +
  'only when value at stake × the action’s success rate exceeds its cost per customer, else let-go.';

/**
 * Merges the parts' playbook tallies, writes the audience files and returns the run's playbook
 * summary; `messages` gets a line when the movement cannot be computed.
 */
export async function finalizePlaybook(
  deps: RecalcDeps,
  run: FittedRun,
  parts: readonly PartResult[],
  previous: RunRecord | null,
  messages: string[],
): Promise<PlaybookSummary> {
  const playbook = run.config.playbook;
  const tallies = parts.flatMap((part) => (part.playbook ? [part.playbook] : []));
  const merged = mergePlaybookParts(tallies);
  await writeAudiences(deps, run, parts, playbook);

  const summary: PlaybookSummary = {
    ladder: {
      name: playbook.ladder.name,
      rungs: playbook.ladder.rungs.map(({ id, label, rule }) => ({
        id,
        label,
        rule: describeRungRule(rule, playbook.ladder),
      })),
      orderNoun: playbook.ladder.orderNoun,
    },
    positions: positionsOf(playbook, merged),
    rungStates: Object.fromEntries(
      playbook.ladder.rungs.map(({ id }) => [
        id,
        Object.fromEntries(LADDER_STATES.map((state) => [state, merged.rungs[id]?.[state].customers ?? 0])),
      ]),
    ) as PlaybookSummary['rungStates'],
    actions: actionsOf(playbook, merged, run.playbook?.backtest ?? null),
    valueAtStakeBasis: VALUE_AT_STAKE_BASIS,
    backtest: run.playbook?.backtest ?? null,
    movement: null,
    previousActions: null,
  };

  if (run.previousRunId && previous?.playbook) {
    try {
      const previousTotals = Object.fromEntries(
        previous.playbook.positions.map((p) => [p.position, { customers: p.customers, clv: p.clv }]),
      );
      const matrix: LadderMovement = completeLadderMovement(merged.movement, previousTotals);
      summary.movement = {
        previousRunId: run.previousRunId,
        matrix,
        summary: summarizeLadderMovement(matrix, playbook.ladder),
      };
      summary.previousActions = {
        previousRunId: run.previousRunId,
        ...reportActionOutcomes(withGoneMembers(merged.previousActions, previous.playbook)),
      };
    } catch (error) {
      messages.push(
        `ladder movement since run ${run.previousRunId} not computed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  } else if (run.previousRunId && previous) {
    messages.push(`previous run ${run.previousRunId} has no playbook: no ladder movement`);
  }
  return summary;
}

/**
 * Funnel positions, lowest first: lapsed and slipping customers off the ladder (whatever their
 * rung), then the active customers of each rung, with their share of the run's summed CLV.
 */
function positionsOf(playbook: PlaybookConfig, merged: PlaybookPartResult): PlaybookSummary['positions'] {
  const totals = (state: (typeof LADDER_STATES)[number], rung?: string) => {
    let customers = 0;
    let clv = 0;
    for (const [id, states] of Object.entries(merged.rungs)) {
      if (rung !== undefined && id !== rung) continue;
      customers += states[state].customers;
      clv += states[state].totalClv;
    }
    return { customers, clv };
  };
  const rows = [
    { position: 'lapsed', label: 'Lapsed', ...totals('lapsed') },
    { position: 'slipping', label: 'Slipping', ...totals('slipping') },
    ...playbook.ladder.rungs.map((rung) => ({
      position: rung.id,
      label: rung.label,
      ...totals('active', rung.id),
    })),
  ];
  const allClv = rows.reduce((sum, row) => sum + row.clv, 0);
  const satisfaction = merged.satisfaction ? groupSatisfaction(merged.satisfaction) : null;
  return rows.map((row) => {
    const group = satisfaction?.find((g) => g.group === row.position);
    return {
      ...row,
      clv: cents(row.clv),
      valueShare: allClv > 0 ? row.clv / allClv : 0,
      explanation: explainPosition(playbook, row.position),
      ...(satisfaction
        ? {
            satisfaction: {
              meanPercent: group?.meanPercent == null ? null : Math.round(group.meanPercent * 10) / 10,
              scored: group?.scored ?? 0,
            },
          }
        : {}),
    };
  });
}

/** Money totals are sums of many floating-point values: stored and served to the cent. */
const cents = (amount: number) => Math.round(amount * 100) / 100;

function actionsOf(
  playbook: PlaybookConfig,
  merged: PlaybookPartResult,
  backtest: PlaybookSummary['backtest'],
): PlaybookActionSummary[] {
  const configured: PlaybookActionSummary[] = playbook.actions.map((action) => {
    const tally = merged.audiences[action.name] ?? { customers: 0, valueAtStake: 0, expectedNetGain: 0 };
    return {
      action: action.name,
      goal: action.goal,
      channel: action.channel,
      description: action.description ?? null,
      customers: tally.customers,
      valueAtStake: cents(tally.valueAtStake),
      successRate: action.successRate,
      maxCostPerCustomer: action.maxCostPerCustomer,
      totalCost: cents(tally.customers * action.maxCostPerCustomer),
      expectedNetGain: cents(tally.expectedNetGain),
      backtest: backtest?.results.find((result) => result.action === action.name) ?? null,
      explanation: explainAction(action),
    };
  });
  const letGo = merged.audiences[LET_GO_ACTION] ?? { customers: 0, valueAtStake: 0, expectedNetGain: 0 };
  configured.sort((a, b) => b.valueAtStake - a.valueAtStake || (a.action < b.action ? -1 : 1));
  return [
    ...configured,
    {
      action: LET_GO_ACTION,
      goal: 'let-go',
      channel: null,
      description: 'Customers no action pays off for: value at stake × success rate ≤ cost',
      customers: letGo.customers,
      valueAtStake: cents(letGo.valueAtStake),
      successRate: 0,
      maxCostPerCustomer: 0,
      totalCost: 0,
      expectedNetGain: 0,
      backtest: null,
      explanation: explainAction({ name: LET_GO_ACTION, goal: 'let-go', channel: 'none' }),
    },
  ];
}

/**
 * Previous audience members this run did not see (erased, no longer summarized) are `gone`: the
 * previous run's audience size minus the members found in this run's parts.
 */
function withGoneMembers(
  outcomes: ActionOutcomes,
  previous: NonNullable<RunRecord['playbook']>,
): ActionOutcomes {
  const complete: ActionOutcomes = structuredClone(outcomes);
  for (const action of previous.actions) {
    const outcome = complete[action.action] ?? { members: 0, movedUp: 0, stayed: 0, fell: 0, gone: 0 };
    const missing = action.customers - outcome.members;
    if (missing > 0) {
      outcome.members += missing;
      outcome.gone += missing;
    }
    if (outcome.members > 0) complete[action.action] = outcome;
  }
  return complete;
}

/**
 * Ranks every part's audience rows and writes one file per action, let-go included; actions without
 * members get a file with the header only, so a campaign tool never reads last week's list.
 */
async function writeAudiences(
  deps: RecalcDeps,
  run: FittedRun,
  parts: readonly PartResult[],
  playbook: PlaybookConfig,
): Promise<void> {
  const rows: AudienceRow[] = [];
  const detractors: HighValueDetractorRow[] = [];
  // The scored parts: a part that failed (within the run's tolerance) wrote no audience rows.
  for (const { partKey } of parts) {
    const text = await deps.files.getText(partAudienceRowsKey(run.runId, partKey));
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const row = JSON.parse(line) as AudienceRow & { highValueDetractor?: HighValueDetractorRow };
      if (row.highValueDetractor) detractors.push(row.highValueDetractor);
      rows.push(row);
    }
  }
  // Runs with economics only: the list file, header only when nobody is on it.
  if (run.economics) {
    await deps.files.putText(
      runListKey(run.runId, HIGH_VALUE_DETRACTORS_LIST),
      highValueDetractorsCsv(detractors),
      'text/csv; charset=utf-8',
    );
  }
  const ranked = rankAudiences(rows);
  const actions = [...playbook.actions.map((action) => action.name), LET_GO_ACTION];
  for (const action of actions) {
    await deps.files.putText(
      audienceKey(run.runId, action),
      audienceCsv(ranked.get(action) ?? []),
      'text/csv; charset=utf-8',
    );
  }
}
