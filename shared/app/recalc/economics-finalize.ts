/** Finalize's share of customer economics: the parts' sums merged into the run record's report rows. */
import {
  type EconomicsReport,
  economicsReport,
  emptyEconomicsAggregates,
  mergeEconomicsAggregates,
} from '#domain/economics/economics-report.ts';
import type { PartResult } from './types.ts';

/** The economics report of the run; undefined when no part had economics (runs without them). */
export function mergedEconomics(
  results: readonly Pick<PartResult, 'economics'>[],
): EconomicsReport | undefined {
  const withEconomics = results.filter((result) => result.economics !== undefined);
  if (withEconomics.length === 0) return undefined;
  const merged = withEconomics.reduce(
    (sum, result) => mergeEconomicsAggregates(sum, result.economics!),
    emptyEconomicsAggregates(),
  );
  return economicsReport(merged);
}
