/**
 * The data-selection parameters every statement of a run is rendered with (fixed rates, the
 * cross-source duplicate rule), so each step renders exactly the SQL `prepare` recorded.
 */
import type { RecalcQueryParams } from '../ports/recalc-queries.ts';
import type { PreparedRun } from './types.ts';

export function selectionQueryParams(
  run: Pick<PreparedRun, 'config'>,
): Pick<RecalcQueryParams, 'fxRates' | 'crossSourceDuplicates'> {
  const { currency, fxRates, crossSourceDuplicates } = run.config;
  const rates = Object.fromEntries(Object.entries(fxRates ?? {}).filter(([code]) => code !== currency));
  return {
    ...(Object.keys(rates).length > 0 ? { fxRates: rates } : {}),
    ...(crossSourceDuplicates === 'collapse' ? { crossSourceDuplicates } : {}),
  };
}
