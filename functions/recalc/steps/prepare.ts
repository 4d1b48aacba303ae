import { expiresAfterWeeks } from '../../../shared/adapters/dynamo/keys.ts';
import { deletePrefix, getJsonObject, putTextObject } from '../../../shared/adapters/s3/objects.ts';
import { athenaRecalcQueries } from '../../../shared/adapters/warehouse/athena-warehouse.ts';
import { listCleanSources } from '../../../shared/adapters/warehouse/clean-sources.ts';
import { recalcStatements } from '../../../shared/adapters/warehouse/queries.ts';
import { RECALC_CONFIG_KEY, runOutputPrefix, suppressedKey } from '../../../shared/domain/bucket-layout.ts';
import { DAYS_PER_MONTH } from '../../../shared/domain/clv.ts';
import {
  parseRecalcConfig,
  type RecalcConfig,
  type RecalcConfigInput,
} from '../../../shared/domain/recalc-config.ts';
import { formatEpochDay, parseEpochDay } from '../../../shared/domain/rfm-summary.ts';
import type { RunRecord } from '../../../shared/domain/run.ts';
import type { LockedRun, PreparedRun, RecalcDeps, RecalcRequest } from './types.ts';

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

/** The settings of a run: `config/recalc.json` (if any), then the request's overrides. */
export async function loadRunSettings(
  deps: RecalcDeps,
  request: RecalcRequest,
): Promise<RecalcConfig & { currency: string }> {
  const stored = await getJsonObject(deps.s3, deps.config.bucket, RECALC_CONFIG_KEY);
  const overrides: RecalcConfigInput = {
    ...request.config,
    ...(request.model ? { model: request.model } : {}),
  };
  const source =
    stored === undefined
      ? 'run settings'
      : `s3://${deps.config.bucket}/${RECALC_CONFIG_KEY} with the run's overrides`;
  const config = parseRecalcConfig(mergeSettings(stored ?? {}, overrides), source);
  return { ...config, currency: config.currency ?? deps.config.defaultCurrency };
}

/** The day before `now` (UTC): a Monday-morning run scores everything up to Sunday. */
export function defaultAsOf(now: Date): string {
  return formatEpochDay(Math.floor(now.getTime() / 86_400_000) - 1);
}

/** CLV settings as the run record states them. */
export function clvSettingsOf(config: RecalcConfig): RunRecord['clvSettings'] {
  return { ...config.clv, periodDays: DAYS_PER_MONTH };
}

export function retentionWeeksOf(deps: RecalcDeps, config: RecalcConfig): number {
  return config.retentionWeeks ?? deps.config.retentionWeeks;
}

/**
 * Step 2 (summarize): resolves the run's settings and dates, snapshots the suppression list, checks
 * there is data, renders every statement, and (locally) has the warehouse write the per-customer
 * summaries as Parquet parts; in AWS the state machine's Athena task does that next.
 */
export async function prepareStep(deps: RecalcDeps, locked: LockedRun): Promise<PreparedRun> {
  const { runId, startedAt, request } = locked;
  const config = await loadRunSettings(deps, request);
  const asOf = request.asOf ?? defaultAsOf(new Date(startedAt));
  const asOfDay = parseEpochDay(asOf, 'as-of date');
  const calibrationEndDay = asOfDay - config.holdoutWeeks * 7;

  const previousRunId = await deps.runStore.getCurrentRunId();
  const suppressed = await deps.runStore.listSuppressedHashes();
  const suppressedObject = suppressedKey(runId);
  await putTextObject(deps.s3, deps.config.bucket, suppressedObject, JSON.stringify(suppressed));

  const sources = await listCleanSources(deps.s3, deps.config.bucket);
  if (sources.length === 0) {
    throw new Error(
      `Nothing to score: s3://${deps.config.bucket}/clean/transactions/ holds no clean data yet. Ingest exports first.`,
    );
  }
  const params = {
    asOf,
    calibrationEnd: formatEpochDay(calibrationEndDay),
    timeUnit: config.timeUnit,
    currency: config.currency,
    sources,
  };
  const statements = recalcStatements(params);
  const warehouse = await deps.warehouse();
  const [profile] = await warehouse.query(statements.dataProfile);
  if (!profile || profile.customersSummarized === 0) {
    const p = profile;
    throw new Error(
      `Nothing to score as of ${asOf} in ${config.currency}: ` +
        (p
          ? `the warehouse holds ${p.rowsTotal} transaction rows (${p.rowsOtherCurrency} in other currencies, ${p.rowsAfterAsOf} dated after ${asOf}) and no customer with a purchase of positive value. `
          : 'the warehouse returned no profile. ') +
        'Ingest exports first, or set the run currency (config `currency`) and the as-of date to match the data.',
    );
  }
  // The holdout check needs calibration data: at least one purchase before the calibration end.
  const firstDay = profile.firstDate ? parseEpochDay(profile.firstDate) : asOfDay;
  const calibrationEnd = firstDay < calibrationEndDay ? formatEpochDay(calibrationEndDay) : null;

  const athenaQueries = athenaRecalcQueries(params, { bucket: deps.config.bucket, runId });
  const summaryPrefix = runOutputPrefix(runId, statements.customerSummaries.name);
  let summaryPartKeys: string[] = [];
  if (deps.unloadSummariesInPrepare) {
    const parts = await warehouse.unload(statements.customerSummaries, {
      bucket: deps.config.bucket,
      prefix: summaryPrefix,
    });
    summaryPartKeys = parts.keys;
  } else {
    // The state machine's Athena tasks UNLOAD next, and UNLOAD needs empty targets: clear what a
    // failed earlier attempt of this run may have left.
    for (const query of Object.values(athenaQueries)) {
      await deletePrefix(deps.s3, deps.config.bucket, query.outputPrefix);
    }
  }

  const running: RunRecord = {
    runId,
    status: 'running',
    asOf,
    startedAt,
    finishedAt: null,
    timeUnit: config.timeUnit,
    currency: config.currency,
    customers: profile.customersSummarized,
    model: null,
    spendModel: null,
    clvSettings: clvSettingsOf(config),
    holdout: null,
    segments: [],
    previousRunId,
    migration: null,
  };
  await deps.runStore.putRunRecord(
    running,
    expiresAfterWeeks(new Date(startedAt), retentionWeeksOf(deps, config)),
  );

  return {
    runId,
    startedAt,
    asOf,
    calibrationEnd,
    config,
    previousRunId,
    profile,
    sources,
    summaryPrefix,
    summaryPartKeys,
    suppressedKey: suppressedObject,
    queries: Object.fromEntries(
      Object.entries(athenaQueries).map(([key, query]) => [key, query.queryString]),
    ),
  };
}
