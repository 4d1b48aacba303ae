/**
 * The statements of a run's summary warehouse step (`unloadSummaries` in pipeline.ts), rendered by
 * `planRun` and read back by `fitModels` and the playbook reference: one function, so the step that
 * renders a statement and the steps that decode its result always agree on its text and name.
 */
import type { RecalcQueryParams, RecalcStatements } from '../ports/recalc-queries.ts';
import type { CustomerSummaryRow, Statement } from '../ports/warehouse.ts';
import { selectionQueryParams } from './query-params.ts';
import type { PreparedRun, RecalcDeps } from './types.ts';

/**
 * Output name of the customer summaries as of the calibration end (the playbook backtest's view of
 * the customers): the summaries statement rendered with that as-of date would otherwise share the
 * run's summary prefix.
 */
export const BACKTEST_SUMMARIES_NAME = 'backtest-summaries';

/** The parameters every statement of the run is rendered with. */
export function runQueryParams(
  run: Pick<PreparedRun, 'asOf' | 'calibrationEnd' | 'config' | 'sources' | 'economics' | 'subscriptions'>,
): RecalcQueryParams {
  return {
    asOf: run.asOf,
    ...(run.calibrationEnd ? { calibrationEnd: run.calibrationEnd } : {}),
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
    sources: run.sources,
    family: run.config.family,
    period: run.config.period,
    ...selectionQueryParams(run),
  };
}

/** The statements the summary step runs, by query key (the holdout and backtest ones only when the run has them). */
export interface FitStatements extends Omit<RecalcStatements, 'dataProfile'> {
  /** Customer summaries as of the calibration end (playbook backtest); continuous family with a holdout only. */
  backtestSummaries?: Statement<CustomerSummaryRow>;
}

export function fitStatementsOf(
  deps: Pick<RecalcDeps, 'queries'>,
  run: Pick<PreparedRun, 'asOf' | 'calibrationEnd' | 'config' | 'sources' | 'economics' | 'subscriptions'>,
): FitStatements {
  const params = runQueryParams(run);
  const { dataProfile: _profile, ...statements } = deps.queries.statements(params);
  if (!run.calibrationEnd || !statements.holdout) return statements;
  // A run "as of the calibration end" renders exactly the calibration-period summaries.
  const { calibrationEnd: _end, ...asOfCalibrationEnd } = { ...params, asOf: run.calibrationEnd };
  const backtest = deps.queries.statements(asOfCalibrationEnd).customerSummaries;
  return { ...statements, backtestSummaries: { ...backtest, name: BACKTEST_SUMMARIES_NAME } };
}
