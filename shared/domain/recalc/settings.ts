/**
 * Pure rules of a run's settings and dates: overrides merged over the stored settings, the default
 * as-of date, the CLV settings a run record states, retention and the failure message of a run.
 */
import { DAYS_PER_MONTH } from '../clv.ts';
import type { RecalcConfig } from '../recalc-config.ts';
import { formatEpochDay } from '../rfm-summary.ts';
import type { RunRecord } from '../run.ts';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Overrides merged into the stored settings field by field (nested objects too; arrays replace). */
export function mergeSettings(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value !== undefined) merged[key] = mergeSettings(base[key], value);
  }
  return merged;
}

/** The day before `now` (UTC): a Monday-morning run scores everything up to Sunday. */
export function defaultAsOf(now: Date): string {
  return formatEpochDay(Math.floor(now.getTime() / 86_400_000) - 1);
}

/**
 * The one default as-of date of every run (`cvm up`, `cvm recalc`, the weekly schedule): the end of
 * the last complete day with data, capped at yesterday (`defaultAsOf`); yesterday when there is no
 * data. `lastDataDay` is the last day with data on or before yesterday (the source profile).
 */
export function asOfFromData(lastDataDay: string | null, yesterday: string): string {
  return lastDataDay && lastDataDay < yesterday ? lastDataDay : yesterday;
}

/** CLV settings as the run record states them. */
export function clvSettingsOf(config: RecalcConfig): RunRecord['clvSettings'] {
  return { ...config.clv, periodDays: DAYS_PER_MONTH };
}

/** Weeks a run's items are kept: the run's setting, else the deployment default. */
export function retentionWeeksOf(config: RecalcConfig, defaultWeeks: number): number {
  return config.retentionWeeks ?? defaultWeeks;
}

/** TTL value: epoch seconds `weeks` after `from`. */
export const expiresAfterWeeks = (from: Date, weeks: number) =>
  Math.floor(from.getTime() / 1000) + Math.round(weeks * 7 * 24 * 3600);

/** A Step Functions Catch output (`Cause` is the Lambda error as JSON), or a message. */
export type RunFailure = { Error?: string; Cause?: string } | string;

/** The message of a Step Functions Catch output, or the text. */
export function failureMessage(error: RunFailure | undefined): string {
  if (error === undefined) return '';
  if (typeof error === 'string') return error;
  if (error.Cause) {
    try {
      const cause = JSON.parse(error.Cause) as { errorMessage?: string; errorType?: string };
      if (cause.errorMessage) return `${cause.errorType ?? error.Error ?? 'Error'}: ${cause.errorMessage}`;
    } catch {
      // Not JSON: use it as it is.
    }
    return `${error.Error ?? 'Error'}: ${error.Cause}`;
  }
  return error.Error ?? 'unknown error';
}
