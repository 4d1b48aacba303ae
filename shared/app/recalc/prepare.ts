/**
 * Step 2 of the recalculation: resolves the run's settings and dates, snapshots the suppression
 * list, checks there is data, renders every statement and records the run as running. The summaries
 * are unloaded by the next step (`unloadSummaries`).
 */
import { CLEAN_TRANSACTIONS_PREFIX, runOutputPrefix, suppressedKey } from '../../domain/bucket-layout.ts';
import { clvSettingsOf, defaultAsOf, expiresAfterWeeks } from '../../domain/recalc/settings.ts';
import { formatEpochDay, parseEpochDay } from '../../domain/rfm-summary.ts';
import type { RunRecord } from '../../domain/run.ts';
import { loadRunSettings, runRetentionWeeks } from './run-settings.ts';
import { loggedStep } from './step-log.ts';
import type { LockedRun, PreparedRun, RecalcDeps } from './types.ts';

export function prepareStep(deps: RecalcDeps, locked: LockedRun): Promise<PreparedRun> {
  return loggedStep(
    deps.logger,
    'prepare',
    locked.runId,
    () => prepare(deps, locked),
    (p) => ({
      customers: p.profile.customersSummarized,
      transactions: p.profile.rowsUsed,
      sources: p.sources.length,
      suppressedSnapshot: true,
    }),
  );
}

async function prepare(deps: RecalcDeps, locked: LockedRun): Promise<PreparedRun> {
  const { runId, startedAt, request } = locked;
  const config = await loadRunSettings(deps, request);
  const asOf = request.asOf ?? defaultAsOf(new Date(startedAt));
  const asOfDay = parseEpochDay(asOf, 'as-of date');
  const calibrationEndDay = asOfDay - config.holdoutWeeks * 7;

  const previousRunId = await deps.runs.getCurrentRunId();
  const suppressed = await deps.suppression.listSuppressedHashes();
  const suppressedObject = suppressedKey(runId);
  await deps.files.putJson(suppressedObject, suppressed);

  const sources = await deps.files.listCleanSources();
  if (sources.length === 0) {
    throw new Error(
      `Nothing to score: ${deps.files.location(CLEAN_TRANSACTIONS_PREFIX)} holds no clean data yet. Ingest exports first.`,
    );
  }
  const params = {
    asOf,
    calibrationEnd: formatEpochDay(calibrationEndDay),
    timeUnit: config.timeUnit,
    currency: config.currency,
    sources,
    family: config.family,
    period: config.period,
  };
  const statements = deps.queries.statements(params);
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

  const unloadTasks = deps.queries.unloadTasks(params, runId);
  const summaryPrefix = runOutputPrefix(runId, statements.customerSummaries.name);
  // The unload step runs next, and UNLOAD needs empty targets: clear what a failed earlier attempt of
  // this run may have left.
  for (const task of Object.values(unloadTasks)) await deps.files.deletePrefix(task.outputPrefix);

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
  await deps.runs.putRunRecord(
    running,
    expiresAfterWeeks(new Date(startedAt), runRetentionWeeks(deps, config)),
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
    summaryPartKeys: [],
    suppressedKey: suppressedObject,
    queries: Object.fromEntries(Object.entries(unloadTasks).map(([key, task]) => [key, task.queryString])),
  };
}
