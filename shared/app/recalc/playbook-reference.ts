/**
 * What the value playbook needs once per run, before the parts are scored (part of fitModels):
 * - the CLV reference of every rung (move-up gains are measured against the rung's active
 *   customers), from one pass over the run's customers — parts cannot compute it on their own;
 * - the backtest on the holdout split: the playbook applied to the calibration-period view (the
 *   calibration fit of the chosen model, summaries as of the calibration end), and what the chosen
 *   customers did in the holdout window against comparable non-members.
 */
import { backtestAssignmentsKey } from '#domain/bucket-layout.ts';
import { type ActionAssignment, evaluateCustomer } from '#domain/playbook/actions.ts';
import {
  addBacktestCustomer,
  BACKTEST_DESCRIPTION,
  emptyBacktest,
  summarizeBacktest,
} from '#domain/playbook/backtest.ts';
import { addRungClv, type RungClvAccumulator, rungClvStatistics } from '#domain/playbook/economics.ts';
import { meetsRung, placeOnLadder } from '#domain/playbook/ladder.ts';
import type { PlaybookBacktest } from '#domain/playbook/summary.ts';
import { buildScores, type FittedModel, type SummaryRow, scoreSummaryRows } from '#domain/recalc/scoring.ts';
import type { CustomerScore } from '#domain/score.ts';
import { valueTierThresholds } from '#domain/segments.ts';
import { hashCustomerId } from '../customer-id-hash.ts';
import { ladderCustomerOf, type PlaybookReference, playbookContextOf } from './playbook.ts';
import { fitStatementsOf } from './run-statements.ts';
import { customerSummaryDecoder } from './summary-decoder.ts';
import { loadSuppressed } from './suppressed.ts';
import type { FittedRun, RecalcDeps } from './types.ts';
import { readQueryRows } from './warehouse-results.ts';

/** Columns of the backtest's assignment file (one line per customer evaluated on the calibration view). */
export const BACKTEST_ASSIGNMENT_COLUMNS = [
  'customer_id',
  'rung',
  'state',
  'next_rung',
  'candidate_action',
  'action',
] as const;

/**
 * Rung CLV references of the run, and the backtest when the run has a holdout split and the
 * calibration fit of its model. `calibrationModel` is that fit (null: no backtest).
 */
export async function playbookReferenceOf(
  deps: RecalcDeps,
  run: FittedRun,
  calibrationModel: FittedModel | null,
): Promise<PlaybookReference> {
  const suppressed = await loadSuppressed(deps, run);
  const keep = (row: { customerId: string }) =>
    suppressed.size === 0 || !suppressed.has(hashCustomerId(row.customerId));
  const computedAt = deps.now().toISOString();
  const stride = Math.max(1, Math.ceil(run.profile.customersSummarized / run.config.statisticsSampleSize));

  // Pass 1 over the run's customers (every k-th of a large base, like the value-tier thresholds).
  const rungs: RungClvAccumulator = {};
  const decode = customerSummaryDecoder(deps, run);
  let seen = 0;
  for await (const batch of deps.files.readParts(run.summaryPrefix, decode)) {
    const sample = batch.filter((row) => seen++ % stride === 0 && keep(row));
    addRungs(rungs, run, buildScores(run, sample, computedAt));
  }
  const rungClv = rungClvStatistics(rungs, run.config.playbook.ladder);
  const backtest =
    run.calibrationEnd && calibrationModel
      ? await backtestOf(deps, run, calibrationModel, { keep, stride, computedAt })
      : null;
  return { rungClv, backtest };
}

function addRungs(accumulator: RungClvAccumulator, run: FittedRun, scores: readonly CustomerScore[]) {
  const context = playbookContextOf(run, {});
  for (const score of scores) {
    const position = placeOnLadder(run.config.playbook.ladder, ladderCustomerOf(score, run.config), context);
    addRungClv(accumulator, position.rung, position.state, score.clv);
  }
}

/**
 * The backtest: (1) the customers as of the calibration end, scored with the calibration fit (the
 * spend model is the run's: only the purchase model is refitted for the holdout check); (2) the
 * playbook applied to them, with rung references and value tiers of that view; (3) their holdout
 * outcome from the run's own summaries: purchase days in the holdout = repeat purchase days as of
 * the as-of date minus those as of the calibration end (both count days with net value > 0 after
 * the first purchase), and whether the as-of view meets the next rung's rule.
 */
async function backtestOf(
  deps: RecalcDeps,
  run: FittedRun,
  calibrationModel: FittedModel,
  options: { keep(row: { customerId: string }): boolean; stride: number; computedAt: string },
): Promise<PlaybookBacktest> {
  const calibrationEnd = run.calibrationEnd!;
  const { ladder } = run.config.playbook;
  // The summaries as of the calibration end, unloaded by the summary step beside the run's own.
  const statement = fitStatementsOf(deps, run).backtestSummaries;
  if (!statement)
    throw new Error(`Run ${run.runId}: no backtest summaries statement for a run with a holdout`);
  const rows = (await readQueryRows(deps, run.runId, statement)).filter(
    (row, i) => i % options.stride === 0 && options.keep(row),
  );
  const calibrationRun: FittedRun = {
    ...run,
    asOf: calibrationEnd,
    model: calibrationModel,
    tierThresholds: { top1: 0, top10: 0, top25: 0 },
  };
  const clvs = scoreSummaryRows(calibrationRun, rows).clv;
  calibrationRun.tierThresholds = valueTierThresholds(Array.from(clvs), run.config.valueTiers);
  const calibrationScores = buildScores(calibrationRun, rows as SummaryRow[], options.computedAt);
  const rungs: RungClvAccumulator = {};
  addRungs(rungs, calibrationRun, calibrationScores);
  const context = playbookContextOf(calibrationRun, rungClvStatistics(rungs, ladder));

  const assigned = new Map<string, { assignment: ActionAssignment; frequency: number }>();
  const lines = [BACKTEST_ASSIGNMENT_COLUMNS.join(',')];
  for (const score of calibrationScores) {
    const { assignment } = evaluateCustomer(
      run.config.playbook,
      ladderCustomerOf(score, run.config),
      context,
    );
    assigned.set(score.customerId, { assignment, frequency: score.frequency });
    lines.push(
      [
        score.customerId,
        assignment.rung,
        assignment.state,
        assignment.nextRung ?? '',
        assignment.candidateAction ?? '',
        assignment.action,
      ]
        .map(csvField)
        .join(','),
    );
  }

  const accumulator = emptyBacktest();
  const decode = customerSummaryDecoder(deps, run);
  for await (const batch of deps.files.readParts(run.summaryPrefix, decode)) {
    const known = batch.filter((row) => assigned.has(row.customerId));
    for (const score of buildScores(run, known, options.computedAt)) {
      const { assignment, frequency } = assigned.get(score.customerId)!;
      const purchases = Math.max(0, score.frequency - frequency);
      const reachedNextRung =
        assignment.nextRung !== null &&
        meetsRung(ladder, assignment.nextRung, ladderCustomerOf(score, run.config));
      addBacktestCustomer(accumulator, assignment, { purchases, reachedNextRung });
    }
  }
  await deps.files.putText(
    backtestAssignmentsKey(run.runId),
    `${lines.join('\n')}\n`,
    'text/csv; charset=utf-8',
  );
  return {
    description: BACKTEST_DESCRIPTION,
    calibrationEnd,
    holdoutEnd: run.asOf,
    customers: calibrationScores.length,
    sampled: options.stride > 1,
    results: summarizeBacktest(accumulator),
  };
}

/** RFC 4180 quoting for ids that contain a comma, quote or line break. */
const csvField = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
