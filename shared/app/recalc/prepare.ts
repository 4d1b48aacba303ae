/**
 * Step 2 of the recalculation: resolves the run's settings and dates, snapshots the suppression
 * list, checks there is data, renders every statement and records the run as running. The summaries
 * are unloaded by the next step (`unloadSummaries`).
 */

import {
  CLEAN_SUBSCRIPTIONS_PREFIX,
  CLEAN_TRANSACTIONS_PREFIX,
  cleanSourcesOf,
  runOutputPrefix,
  suppressedKey,
} from '#domain/bucket-layout.ts';
import {
  type DataSelection,
  daysPastLastTransaction,
  familyExclusionsOf,
  runExclusionsOf,
  selectRunData,
} from '#domain/recalc/data-selection.ts';
import { clvSettingsOf, defaultAsOf, expiresAfterWeeks } from '#domain/recalc/settings.ts';
import { type RecalcConfig, runPeriodOf, sourceFamiliesOf } from '#domain/recalc-config.ts';
import { formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';
import type { RunRecord } from '#domain/run.ts';
import type { DataProfileRow, InputProfileRow } from '../ports/warehouse.ts';
import { checkCleanObjects, nameUnreadableCleanObject } from './clean-objects.ts';
import { runEconomicsOf } from './economics-presence.ts';
import { renewLease } from './lease.ts';
import { selectionQueryParams } from './query-params.ts';
import { loadConfiguredSettings, runRetentionWeeks } from './run-settings.ts';
import { loggedStep } from './step-log.ts';
import type { LockedRun, PreparedRun, RecalcDeps, RunDataSelection } from './types.ts';

export function prepareStep(deps: RecalcDeps, locked: LockedRun): Promise<PreparedRun> {
  return loggedStep(
    deps.logger,
    'prepare',
    locked.runId,
    async () => {
      await renewLease(deps, locked);
      return prepare(deps, locked);
    },
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
  const configured = await loadConfiguredSettings(deps, request);

  const previousRunId = await deps.runs.getCurrentRunId();
  const suppressed = await deps.suppression.listSuppressedHashes();
  const suppressedObject = suppressedKey(runId);
  await deps.files.putJson(suppressedObject, suppressed);

  // One listing of the clean objects serves both: which sources exist, and whether any is missing.
  const cleanObjects = await deps.files.listCleanObjects();
  const cleanWarnings = await checkCleanObjects(deps, cleanObjects, configured.missingCleanObjects, runId);
  // Each source's family (its `sources` entry, contractual with a subscriptions export, else the run's):
  // the run reads those of its own family and lists the others. A contractual run reads the
  // subscriptions exports when its sources have any (one row per membership with its start and
  // cancellation); else fee payments among the transactions.
  const subscriptionSources = cleanSourcesOf(
    await deps.files.listKeys(CLEAN_SUBSCRIPTIONS_PREFIX),
    CLEAN_SUBSCRIPTIONS_PREFIX,
  );
  const transactionSources = cleanSourcesOf(cleanObjects);
  const sourceFamilies = sourceFamiliesOf(
    configured,
    [...transactionSources, ...subscriptionSources],
    new Set(subscriptionSources),
  );
  const subscriptions =
    configured.family === 'contractual' &&
    subscriptionSources.some((s) => sourceFamilies[s] === 'contractual');
  const allSources = subscriptions ? subscriptionSources : transactionSources;
  if (allSources.length === 0) {
    throw new Error(
      `Nothing to score: ${deps.files.location(CLEAN_TRANSACTIONS_PREFIX)} holds no clean data yet. Ingest exports first.`,
    );
  }
  // Data selection, decided once here for every caller (CLI, `cvm up`, the weekly schedule): which
  // sources (own data before the bundled sample), which currency, which as-of date, and what is left out.
  const warehouse = await deps.warehouse();
  const yesterday = defaultAsOf(new Date(startedAt));
  // The first statement reads every clean object (locally it also mirrors them): a damaged one is
  // named with the ingest that wrote it.
  const sourceData = await warehouse
    .query(
      deps.queries.sourceProfile({
        asOf: request.asOf ?? yesterday,
        sources: allSources,
        ...(subscriptions ? { subscriptions } : {}),
      }),
    )
    .catch(async (error: unknown) => {
      throw await nameUnreadableCleanObject(deps, error, runId);
    });
  const requestedCurrency = configured.reportingCurrency ?? configured.currency;
  const selection = selectRunData({
    data: sourceData,
    settings: {
      ...(requestedCurrency ? { currency: requestedCurrency } : {}),
      ...(configured.fxRates ? { fxRates: configured.fxRates } : {}),
      includeSample: configured.includeSample,
      family: configured.family,
      sourceFamilies,
    },
    defaultCurrency: deps.settings.defaultCurrency,
    ...(request.asOf ? { requestedAsOf: request.asOf } : {}),
    yesterday,
  });
  // Sources of another family whose data is of the other export kind are not in that profile: list
  // them too (a subscriptions-only source in a shop's run, a shop's orders in a membership run).
  const otherKind = (subscriptions ? transactionSources : subscriptionSources).filter(
    (source) => sourceFamilies[source] !== configured.family,
  );
  if (selection && otherKind.length > 0) {
    const otherData = await warehouse.query(
      deps.queries.sourceProfile({
        asOf: request.asOf ?? yesterday,
        sources: otherKind,
        ...(subscriptions ? {} : { subscriptions: true }),
      }),
    );
    selection.excluded.push(...familyExclusionsOf(otherData, sourceFamilies));
  }
  const otherFamilies = selection?.excluded.filter((r) => r.reason === 'family') ?? [];
  if (selection && selection.sources.length === 0 && otherFamilies.length > 0) {
    const families = [...new Set(otherFamilies.map((r) => r.family))];
    throw new Error(
      `Nothing to score in the ${configured.family} family: ${[...new Set(otherFamilies.map((r) => `${r.source} is ${r.family}`))].join(', ')}. ` +
        `Run that family: cvm recalc --family ${families[0]}, or POST /runs with {"family": "${families[0]}"} ` +
        '(or set "family" in config/recalc.json, or the sources\' families under "sources").',
    );
  }
  if (!selection || selection.sources.length === 0) {
    throw new Error(
      `Nothing to score: the clean data of ${allSources.join(', ')} holds no rows` +
        (configured.includeSample === 'never'
          ? ` besides the bundled sample, which the settings leave out (includeSample: never).`
          : '.') +
        ' Ingest exports first.',
    );
  }
  const config = {
    ...configured,
    period: runPeriodOf(configured, selection.sources),
    currency: selection.currency,
    ...(Object.keys(selection.fxRates).length > 0 ? { fxRates: selection.fxRates } : {}),
  };
  const asOf = selection.asOf;
  const asOfDay = parseEpochDay(asOf, 'as-of date');
  const calibrationEndDay = asOfDay - config.holdoutWeeks * 7;
  const sources = selection.sources;
  const params = {
    asOf,
    calibrationEnd: formatEpochDay(calibrationEndDay),
    timeUnit: config.timeUnit,
    currency: config.currency,
    sources,
    family: config.family,
    period: config.period,
    ...selectionQueryParams({ config, ...(subscriptions ? { subscriptions } : {}) }),
  };
  const statements = deps.queries.statements(params);
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
  const [input] = await warehouse.query(deps.queries.inputProfile(params));
  const selected = dataSelectionOf(selection, profile, input, config, suppressed.length);
  // A contractual run over subscriptions reads no transactions: say so for contractual sources that
  // have fee payments only, instead of leaving them out without a word.
  const paymentsOnly = subscriptions
    ? transactionSources.filter(
        (s) => sourceFamilies[s] === 'contractual' && !subscriptionSources.includes(s),
      )
    : [];
  const subscriptionWarnings = paymentsOnly.map(
    (source) =>
      `Source ${source} is contractual but has no subscriptions export: this run reads the subscriptions exports of ${subscriptionSources.join(', ')}, not fee payments, so ${source} is not read. Upload its memberships to incoming/${source}/subscriptions/, or give it its own run.`,
  );
  const dataSelection = {
    ...selected,
    dataWarnings: [...cleanWarnings, ...subscriptionWarnings, ...(selected.dataWarnings ?? [])],
  };
  // The holdout check needs calibration data: at least one purchase before the calibration end.
  const firstDay = profile.firstDate ? parseEpochDay(profile.firstDate) : asOfDay;
  const calibrationEnd = firstDay < calibrationEndDay ? formatEpochDay(calibrationEndDay) : null;

  // Subscriptions carry no order economics (no cost, margin or returns per row): such runs value on fees.
  const economics = subscriptions ? undefined : await runEconomicsOf(deps, warehouse, config, sources);
  const unloadTasks = deps.queries.unloadTasks(
    {
      ...params,
      ...selectionQueryParams({
        config,
        ...(economics ? { economics } : {}),
        ...(subscriptions ? { subscriptions } : {}),
      }),
    },
    runId,
  );
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
    ...dataSelection,
  };
  await deps.runs.putRunRecord(
    running,
    expiresAfterWeeks(new Date(startedAt), runRetentionWeeks(deps, config)),
  );

  return {
    runId,
    startedAt,
    ...(locked.leaseMinutes !== undefined ? { leaseMinutes: locked.leaseMinutes } : {}),
    ...(locked.lockHolder !== undefined ? { lockHolder: locked.lockHolder } : {}),
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
    dataSelection,
    ...(economics ? { economics } : {}),
    ...(subscriptions ? { subscriptions } : {}),
  };
}

/** The run-record fields of the data selection: the data's range, what was left out, warnings. */
function dataSelectionOf(
  selection: DataSelection,
  profile: DataProfileRow,
  input: InputProfileRow | undefined,
  config: RecalcConfig & { currency: string },
  suppressedIds: number,
): RunDataSelection {
  const exclusions = runExclusionsOf(selection, suppressedIds, {
    rows: input?.crossSourceDuplicateRows ?? 0,
    amount: input?.crossSourceDuplicateAmount ?? 0,
    handling: config.crossSourceDuplicates,
  });
  const readRows = new Map<string, number>();
  for (const row of selection.read) {
    if (row.currency === config.currency || row.currency in selection.fxRates) {
      readRows.set(row.currency, (readRows.get(row.currency) ?? 0) + row.rows - row.rowsAfterAsOf);
    }
  }
  const warnings: string[] = [];
  const gap = daysPastLastTransaction(selection.asOf, profile.lastDate);
  if (gap !== null && gap > config.staleAsOfDays) {
    warnings.push(
      `The as-of date ${selection.asOf} is ${gap} days after the last transaction (${profile.lastDate}): customers look inactive because the data ends, not because they left. Run as of the data's last day (omit --as-of) unless that gap is real (limit: staleAsOfDays = ${config.staleAsOfDays}).`,
    );
  }
  const otherCurrencies = selection.excluded.filter((r) => r.reason === 'currency');
  if (otherCurrencies.length > 0) {
    const byCurrency = new Map<string, { rows: number; amount: number }>();
    for (const r of otherCurrencies) {
      const total = byCurrency.get(r.currency) ?? { rows: 0, amount: 0 };
      byCurrency.set(r.currency, { rows: total.rows + r.rows, amount: total.amount + r.amount });
    }
    warnings.push(
      `Left out ${[...byCurrency].map(([code, t]) => `${t.rows} rows in ${code} (${t.amount.toFixed(2)} ${code})`).join(', ')}: the run is in ${config.currency} and config/recalc.json has no fxRates for ${[...byCurrency.keys()].join(', ')}.`,
    );
  }
  if (exclusions.crossSourceDuplicates.rows > 0 && config.crossSourceDuplicates === 'keep') {
    warnings.push(
      `${exclusions.crossSourceDuplicates.rows} rows (${exclusions.crossSourceDuplicates.amount.toFixed(2)} ${config.currency}) are identical (customer, order time, amount) to rows of another source and are counted twice; set crossSourceDuplicates to "collapse" if they are the same orders.`,
    );
  }
  return {
    dataRange: {
      firstDate: profile.firstDate,
      lastDate: profile.lastDate,
      sources: selection.sources,
      rows: profile.rowsUsed,
      orders: input?.ordersUsed ?? 0,
      customers: profile.customersSummarized,
      oneTimeBuyers: input?.oneTimeBuyers ?? 0,
      currencies: [...readRows]
        .filter(([, rows]) => rows > 0)
        .map(([currency, rows]) => ({
          currency,
          rate: currency === config.currency ? 1 : selection.fxRates[currency]!,
          rows,
        })),
      currencyChoice: selection.currencyChoice,
    },
    exclusions,
    dataWarnings: warnings,
    sampleExcluded: selection.sampleExcluded,
  };
}
