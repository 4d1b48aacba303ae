/**
 * The data-selection parameters every statement of a run is rendered with (fixed rates, the
 * cross-source duplicate rule), so each step renders exactly the SQL `prepare` recorded.
 */
import { DEFAULT_ECONOMICS_CONFIG } from '#domain/economics/economics-config.ts';
import type { EconomicsSqlSettings, RecalcQueryParams } from '../ports/recalc-queries.ts';
import type { PreparedRun } from './types.ts';

/** The economics settings the SQL folds the per-customer sums with (docs/economics.md). */
export function economicsSqlSettings(config: PreparedRun['config']): EconomicsSqlSettings {
  const economics = config.economics ?? DEFAULT_ECONOMICS_CONFIG;
  return {
    marginRate: economics.marginRate,
    discountIncludedInAmount: economics.discountIncludedInAmount,
    clvMargin: config.clv.margin,
  };
}

export function selectionQueryParams(
  run: Pick<PreparedRun, 'config' | 'economics' | 'subscriptions'> & {
    profile?: Pick<PreparedRun['profile'], 'customersSummarized'>;
  },
): Pick<
  RecalcQueryParams,
  | 'fxRates'
  | 'crossSourceDuplicates'
  | 'economics'
  | 'subscriptions'
  | 'campaigns'
  | 'customers'
  | 'partCustomers'
> {
  const { currency, fxRates, crossSourceDuplicates, period, campaigns, partCustomers } = run.config;
  const rates = Object.fromEntries(Object.entries(fxRates ?? {}).filter(([code]) => code !== currency));
  return {
    ...(Object.keys(rates).length > 0 ? { fxRates: rates } : {}),
    ...(crossSourceDuplicates === 'collapse' ? { crossSourceDuplicates } : {}),
    // Only runs with economics join them into the summaries: every other run's SQL is unchanged.
    ...(run.economics ? { economics: economicsSqlSettings(run.config) } : {}),
    // Once the profile has counted the customers, the summaries are unloaded in bounded parts.
    ...(run.profile ? { customers: run.profile.customersSummarized, partCustomers } : {}),
    ...(run.subscriptions ? { subscriptions: true } : {}),
    ...(period === 'campaign' && campaigns ? { campaigns: [...campaigns] } : {}),
  };
}
