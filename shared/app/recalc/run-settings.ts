/** The settings of a run: the stored `config/recalc.json` (if any) with the request's overrides merged over it. */
import { RECALC_CONFIG_KEY } from '#domain/bucket-layout.ts';
import { mergeSettings, retentionWeeksOf } from '#domain/recalc/settings.ts';
import { parseRecalcConfig, type RecalcConfig, type RecalcConfigInput } from '#domain/recalc-config.ts';
import type { RecalcDeps, RecalcRequest } from './types.ts';

export async function loadRunSettings(
  deps: Pick<RecalcDeps, 'files' | 'settings'>,
  request: RecalcRequest,
): Promise<RecalcConfig & { currency: string }> {
  const config = await loadConfiguredSettings(deps, request);
  return { ...config, currency: config.currency ?? deps.settings.defaultCurrency };
}

/** The settings as configured: `currency` stays undefined when nobody set it (the data decides). */
export async function loadConfiguredSettings(
  deps: Pick<RecalcDeps, 'files'>,
  request: RecalcRequest,
): Promise<RecalcConfig> {
  const stored = await deps.files.getJson(RECALC_CONFIG_KEY);
  const overrides: RecalcConfigInput = {
    ...request.config,
    ...(request.model ? { model: request.model } : {}),
    ...(request.family ? { family: request.family } : {}),
  };
  const source =
    stored === undefined
      ? 'run settings'
      : `${deps.files.location(RECALC_CONFIG_KEY)} with the run's overrides`;
  return parseRecalcConfig(mergeSettings(stored ?? {}, overrides), source);
}

/** Retention of a run's items in weeks: the run's settings, else the deployment's. */
export const runRetentionWeeks = (deps: Pick<RecalcDeps, 'settings'>, config: RecalcConfig) =>
  retentionWeeksOf(config, deps.settings.retentionWeeks);
