/**
 * How fitModels and scorePart read the customer-summary parts of a run: the decoder of the run's
 * summary statement (its columns depend on the model family and on whether the run has economics).
 */
import { selectionQueryParams } from './query-params.ts';
import type { FittedRun, RecalcDeps } from './types.ts';

export function customerSummaryDecoder(deps: RecalcDeps, run: FittedRun) {
  return deps.queries.statements({
    asOf: run.asOf,
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
    family: run.config.family,
    period: run.config.period,
    ...selectionQueryParams(run),
  }).customerSummaries.decode;
}
