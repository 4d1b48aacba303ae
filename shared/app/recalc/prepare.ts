/**
 * The first steps of the recalculation, up to the summaries. Each renders the statements the next
 * warehouse step runs (an Athena `.sync` task in AWS, DuckDB locally) and reads the results of the
 * previous one: no Lambda waits for a query.
 * - `prepare`: resolves the run's settings, snapshots the suppression list, checks the clean objects,
 *   renders the source profile (what each source holds per currency).
 * - `selectData`: decides what the run reads (sources, currency, as-of date), renders the run profile
 *   (data profile, input profile and economics presence in one scan).
 * - `planRun`: checks there is data, decides the holdout split and the economics, renders the
 *   summary step's statements (run-statements.ts) and records the run as running.
 */

import {
  CLEAN_SUBSCRIPTIONS_PREFIX,
  CLEAN_TRANSACTIONS_PREFIX,
  cleanSourcesOf,
  runInputsKey,
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
import { indexShardCount } from '#domain/recalc/index-shards.ts';
import { clvSettingsOf, defaultAsOf, expiresAfterWeeks } from '#domain/recalc/settings.ts';
import { type RecalcConfig, runPeriodOf, sourceFamiliesOf } from '#domain/recalc-config.ts';
import { formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';
import type { RunRecord } from '#domain/run.ts';
import type { DataProfileRow, InputProfileRow } from '../ports/warehouse.ts';
import { checkCleanObjects } from './clean-objects.ts';
import { runEconomicsOf } from './economics-presence.ts';
import { renewLease } from './lease.ts';
import { RECALC_PIPELINE } from './pipeline.ts';
import { selectionQueryParams } from './query-params.ts';
import { loadConfiguredSettings, runRetentionWeeks } from './run-settings.ts';
import { fitStatementsOf } from './run-statements.ts';
import { loggedStep } from './step-log.ts';
import type {
  LockedRun,
  PreparedRun,
  RecalcDeps,
  RecalcSettings,
  RunAttempt,
  RunDataSelection,
  SelectedRun,
  SourcesRun,
} from './types.ts';
import { readQueryRows, readSingleRow, renderUnloads } from './warehouse-results.ts';

/** The lock fields every state after the lock carries on. */
const lockFieldsOf = (run: { leaseMinutes?: number; lockHolder?: string; attempt?: RunAttempt }) => ({
  ...(run.leaseMinutes !== undefined ? { leaseMinutes: run.leaseMinutes } : {}),
  ...(run.lockHolder !== undefined ? { lockHolder: run.lockHolder } : {}),
  // A resumed run's attempt (from the lock step) goes on to the run record.
  ...(run.attempt !== undefined ? { attempt: run.attempt } : {}),
});

/** The as-of date the source profile counts "after as-of" rows from: the requested one, else yesterday. */
const profileAsOf = (run: { startedAt: string; request: LockedRun['request'] }) =>
  run.request.asOf ?? defaultAsOf(new Date(run.startedAt));

export function prepareStep(deps: RecalcDeps, locked: LockedRun): Promise<SourcesRun> {
  return loggedStep(
    deps.logger,
    'prepare',
    locked.runId,
    async () => {
      await renewLease(deps, locked);
      return prepare(deps, locked);
    },
    (p) => ({ sources: p.allSources.length, suppressedSnapshot: true }),
  );
}

async function prepare(deps: RecalcDeps, locked: LockedRun): Promise<SourcesRun> {
  const { runId, startedAt, request } = locked;
  const configured = await loadConfiguredSettings(deps, request);

  const previousRunId = await deps.runs.getCurrentRunId();
  const suppressed = await deps.suppression.listSuppressedHashes();
  const suppressedObject = suppressedKey(runId);
  await deps.files.putJson(suppressedObject, suppressed);

  // One listing of the clean objects serves both: which sources exist, and whether any is missing.
  const cleanObjects = await deps.files.listCleanObjects();
  // What the run read, so a resume can tell whether the data changed since (acquire-lock.ts).
  await deps.files.putJson(runInputsKey(runId), { cleanObjects });
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
  // Sources of another family whose data is of the other export kind are not in the source profile:
  // profiled beside it, so the run can list them too (a subscriptions-only source in a shop's run, a
  // shop's orders in a membership run).
  const otherKindSources = (subscriptions ? transactionSources : subscriptionSources).filter(
    (source) => sourceFamilies[source] !== configured.family,
  );
  const kinds = { subscriptions, sourceFamilies, transactionSources, subscriptionSources, otherKindSources };
  // The data selection (decided next, once for every caller: CLI, `cvm up`, the weekly schedule)
  // starts from what each source holds per currency.
  const queries = await renderUnloads(deps, runId, sourceProfileStatements(deps, locked, allSources, kinds));
  return {
    runId,
    startedAt,
    ...lockFieldsOf(locked),
    request,
    configured,
    previousRunId,
    suppressedKey: suppressedObject,
    suppressedIds: suppressed.length,
    allSources,
    cleanWarnings,
    queries,
    ...(subscriptions ? { subscriptions } : {}),
    sourceFamilies,
    transactionSources,
    subscriptionSources,
    otherKindSources,
  };
}

/**
 * The source profile of the run's export kind and, when sources of another family hold the other
 * kind, their profile under its own name (both run in the ProfileSources warehouse step).
 */
function sourceProfileStatements(
  deps: Pick<RecalcDeps, 'queries'>,
  run: { startedAt: string; request: LockedRun['request'] },
  allSources: readonly string[],
  kinds: { subscriptions?: boolean; otherKindSources: readonly string[] },
) {
  const asOf = profileAsOf(run);
  const sourceProfile = deps.queries.sourceProfile({
    asOf,
    sources: [...allSources],
    ...(kinds.subscriptions ? { subscriptions: true } : {}),
  });
  if (kinds.otherKindSources.length === 0) return { sourceProfile };
  const other = deps.queries.sourceProfile({
    asOf,
    sources: [...kinds.otherKindSources],
    ...(kinds.subscriptions ? {} : { subscriptions: true }),
  });
  return { sourceProfile, otherFamilyProfile: { ...other, name: OTHER_FAMILY_PROFILE_NAME } };
}

/** Output name of the other export kind's source profile (it would share the source profile's prefix). */
export const OTHER_FAMILY_PROFILE_NAME = 'other-family-profile';

export function selectDataStep(deps: RecalcDeps, run: SourcesRun): Promise<SelectedRun> {
  return loggedStep(
    deps.logger,
    'selectData',
    run.runId,
    async () => {
      await renewLease(deps, run);
      return selectData(deps, run);
    },
    (s) => ({ sources: s.sources.length, currency: s.config.currency, asOf: s.asOf }),
  );
}

async function selectData(deps: RecalcDeps, run: SourcesRun): Promise<SelectedRun> {
  const { runId, request, configured, allSources, sourceFamilies } = run;
  const profiles = sourceProfileStatements(deps, run, allSources, run);
  const sourceData = await readQueryRows(deps, runId, profiles.sourceProfile);
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
    yesterday: defaultAsOf(new Date(run.startedAt)),
    ...(run.subscriptions ? { snapshot: true } : {}),
  });
  if (selection && profiles.otherFamilyProfile) {
    const otherData = await readQueryRows(deps, runId, profiles.otherFamilyProfile);
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
  const { configured: _configured, queries: _queries, ...rest } = run;
  const config = {
    ...configured,
    period: runPeriodOf(configured, selection.sources),
    currency: selection.currency,
    ...(Object.keys(selection.fxRates).length > 0 ? { fxRates: selection.fxRates } : {}),
  };
  const selected = { config, asOf: selection.asOf, sources: selection.sources };
  const queries = await renderUnloads(deps, runId, {
    runProfile: deps.queries.runProfile(
      profileParams({ ...selected, ...(run.subscriptions ? { subscriptions: true } : {}) }),
    ),
  });
  return { ...rest, ...selected, selection, queries };
}

/** The run profile's parameters: the full period up to the as-of date. */
function profileParams(run: Pick<SelectedRun, 'config' | 'asOf' | 'sources' | 'subscriptions'>) {
  return {
    asOf: run.asOf,
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
    sources: run.sources,
    family: run.config.family,
    period: run.config.period,
    ...selectionQueryParams({ config: run.config, ...(run.subscriptions ? { subscriptions: true } : {}) }),
  };
}

export function planRunStep(deps: RecalcDeps, run: SelectedRun): Promise<PreparedRun> {
  return loggedStep(
    deps.logger,
    'planRun',
    run.runId,
    async () => {
      await renewLease(deps, run);
      return planRun(deps, run);
    },
    (p) => ({
      customers: p.profile.customersSummarized,
      transactions: p.profile.rowsUsed,
      sources: p.sources.length,
      statements: Object.keys(p.queries).length,
    }),
  );
}

async function planRun(deps: RecalcDeps, run: SelectedRun): Promise<PreparedRun> {
  const { runId, startedAt, config, asOf, sources, selection } = run;
  const runProfile = await readSingleRow(
    deps,
    runId,
    deps.queries.runProfile(profileParams(run)),
    'runProfile',
  );
  const {
    amountUsed: _amount,
    ordersUsed: _orders,
    oneTimeBuyers: _oneTime,
    crossSourceDuplicateRows: _duplicates,
    crossSourceDuplicateAmount: _duplicateAmount,
    orderRowsWithFigures,
    attributeRows,
    ...profile
  } = runProfile;
  if (profile.customersSummarized === 0) {
    const p = profile;
    throw new Error(
      `Nothing to score as of ${asOf} in ${config.currency}: ` +
        `the warehouse holds ${p.rowsTotal} transaction rows (${p.rowsOtherCurrency} in other currencies, ${p.rowsAfterAsOf} dated after ${asOf}) and no customer with a purchase of positive value. ` +
        'Ingest exports first, or set the run currency (config `currency`) and the as-of date to match the data.',
    );
  }
  const selected = dataSelectionOf(
    selection,
    profile,
    runProfile,
    config,
    run.suppressedIds,
    run.subscriptions,
  );
  // A contractual run over subscriptions reads no transactions: say so for contractual sources that
  // have fee payments only, instead of leaving them out without a word.
  const paymentsOnly = run.subscriptions
    ? run.transactionSources.filter(
        (s) => run.sourceFamilies[s] === 'contractual' && !run.subscriptionSources.includes(s),
      )
    : [];
  const subscriptionWarnings = paymentsOnly.map(
    (source) =>
      `Source ${source} is contractual but has no subscriptions export: this run reads the subscriptions exports of ${run.subscriptionSources.join(', ')}, not fee payments, so ${source} is not read. Upload its memberships to incoming/${source}/subscriptions/, or give it its own run.`,
  );
  const dataSelection = {
    ...selected,
    dataWarnings: [...run.cleanWarnings, ...subscriptionWarnings, ...(selected.dataWarnings ?? [])],
  };
  // The holdout check needs calibration data: at least one purchase before the calibration end.
  const asOfDay = parseEpochDay(asOf, 'as-of date');
  const calibrationEndDay = asOfDay - config.holdoutWeeks * 7;
  const firstDay = profile.firstDate ? parseEpochDay(profile.firstDate) : asOfDay;
  const calibrationEnd = firstDay < calibrationEndDay ? formatEpochDay(calibrationEndDay) : null;
  // Subscriptions carry no order economics (no cost, margin or returns per row): such runs value on fees.
  const economics = run.subscriptions
    ? undefined
    : runEconomicsOf(config, { orderRowsWithFigures, attributeRows });
  const subscriptions = run.subscriptions ? { subscriptions: true as const } : {};

  const plan = {
    asOf,
    calibrationEnd,
    config,
    sources,
    profile,
    ...(economics ? { economics } : {}),
    ...subscriptions,
  };
  const statements = fitStatementsOf(deps, plan);
  const queries = await renderUnloads(deps, runId, { ...statements });

  // Decided before any score is written: every ScorePart writes under it, readers read it back.
  const indexShards = runIndexShards(deps.settings, profile.customersSummarized);

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
    previousRunId: run.previousRunId,
    migration: null,
    ...dataSelection,
    indexShards,
  };
  await deps.runs.putRunRecord(
    running,
    expiresAfterWeeks(new Date(startedAt), runRetentionWeeks(deps, config)),
  );

  return {
    runId,
    startedAt,
    ...lockFieldsOf(run),
    asOf,
    calibrationEnd,
    config,
    previousRunId: run.previousRunId,
    profile,
    sources,
    summaryPrefix: runOutputPrefix(runId, statements.customerSummaries.name),
    indexShards,
    summaryPartKeys: [],
    suppressedKey: run.suppressedKey,
    queries,
    dataSelection,
    ...(economics ? { economics } : {}),
    ...subscriptions,
  };
}

/**
 * The run's index shard count for its customers, at the Map concurrency the deployment runs with
 * (its setting, else the pipeline's own).
 */
export function runIndexShards(settings: Pick<RecalcSettings, 'scoreMaxConcurrency'>, customers: number) {
  const map = RECALC_PIPELINE.body.steps.find((step) => step.kind === 'map');
  const pipelineConcurrency = map?.kind === 'map' ? map.maxConcurrency : 1;
  return indexShardCount({
    customers,
    scoreConcurrency: settings.scoreMaxConcurrency ?? pipelineConcurrency,
  });
}

/** The run-record fields of the data selection: the data's range, what was left out, warnings. */
function dataSelectionOf(
  selection: DataSelection,
  profile: DataProfileRow,
  input: InputProfileRow | undefined,
  config: RecalcConfig & { currency: string },
  suppressedIds: number,
  /** A subscriptions snapshot: its last date is the last start, not the end of the data. */
  snapshot = false,
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
  // Members who joined long ago and never cancelled are current in a snapshot: no new start since is
  // no sign that the data ends.
  if (!snapshot && gap !== null && gap > config.staleAsOfDays) {
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
