/**
 * Which data a run reads, decided once (in `prepare`) from what each source holds per currency:
 * sample or own data, the run currency, the default as-of date, and everything left out and why.
 */
import type { ModelFamily } from '../recalc-config.ts';
import { formatEpochDay, parseEpochDay } from '../rfm-summary.ts';
import type { ExcludedRows, RunDataRange, RunExclusions, RunRecord } from '../run.ts';
import { asOfFromData } from './settings.ts';

/** The source `cvm up` ingests the bundled demo data under. */
export const SAMPLE_SOURCE = 'sample';

/** One source's clean data in one currency (the warehouse's source profile; latest ingest of each order). */
export interface SourceCurrencyData {
  source: string;
  currency: string;
  /** Rows of the latest ingest of their order, and their amount as exported (not converted). */
  rows: number;
  amount: number;
  /** Rows replaced by a later ingest of the same (source, order_id), and their amount. */
  rowsSuperseded: number;
  amountSuperseded: number;
  /** Rows dated after the statement's as-of date, and their amount. */
  rowsAfterAsOf: number;
  amountAfterAsOf: number;
  customers: number;
  /** First date of any row; last date on or before the as-of date (YYYY-MM-DD; null when none). */
  firstDate: string | null;
  lastDate: string | null;
}

export interface SelectionSettings {
  /** `reportingCurrency ?? currency` of the settings; undefined = choose from the data. */
  currency?: string;
  fxRates?: Record<string, number>;
  includeSample: 'auto' | 'always' | 'never';
  /** The run's family; with `sourceFamilies`, sources of another family are left out (`family`). */
  family?: ModelFamily;
  /** Each source's family, resolved by the caller (settings, subscriptions export, run family). */
  sourceFamilies?: Record<string, ModelFamily>;
}

export interface SelectionInput {
  data: readonly SourceCurrencyData[];
  settings: SelectionSettings;
  /** Run currency when neither settings nor data decide (the deployment default). */
  defaultCurrency: string;
  /** The as-of date the run was asked for, if any. */
  requestedAsOf?: string;
  /** The day before the run started (UTC): the latest complete day, and the cap of the default. */
  yesterday: string;
  /**
   * The data is a snapshot of current state (a subscriptions export: members without a cancellation
   * date are members now), so the default as-of date is yesterday, not the last start date in it.
   */
  snapshot?: boolean;
}

export interface DataSelection {
  /** Sources the run reads (sorted). */
  sources: string[];
  sampleExcluded: boolean;
  currency: string;
  currencyChoice: RunDataRange['currencyChoice'];
  /** Rates of the other currencies the run converts (never the run currency itself). */
  fxRates: Record<string, number>;
  asOf: string;
  asOfDefaulted: boolean;
  /** Rows left out, per reason, source and currency (amounts as exported). */
  excluded: ExcludedRows[];
  /** The source profile rows of the sources read (every currency). */
  read: SourceCurrencyData[];
}

/**
 * Decides what a run reads. Null when no source holds any row.
 * - The sample (source `sample`) is left out as soon as another source has rows (`includeSample`).
 * - Run currency: configured, else the currency with the most rows among the sources read, else the
 *   default. Other currencies are read only with a fixed rate; the rest is left out and listed.
 * - Default as-of: the last day with data on or before yesterday (a day with data today is not
 *   complete yet), over the sources and currencies read.
 */
export function selectRunData(input: SelectionInput): DataSelection | null {
  const all = input.data.filter((d) => d.rows > 0 || d.rowsSuperseded > 0);
  if (all.length === 0) return null;
  // Sources of another family belong to another run: listed, never read (nor used to pick currency or as-of).
  const { family, sourceFamilies } = input.settings;
  const familyOf = (source: string) => sourceFamilies?.[source] ?? family;
  const otherFamily = all.filter((d) => family !== undefined && familyOf(d.source) !== family);
  const present = all.filter((d) => !otherFamily.includes(d));
  const { includeSample } = input.settings;
  const sampleRows = present.filter((d) => d.source === SAMPLE_SOURCE);
  const ownRows = present.filter((d) => d.source !== SAMPLE_SOURCE && d.rows > 0);
  const sampleExcluded =
    sampleRows.length > 0 && (includeSample === 'never' || (includeSample === 'auto' && ownRows.length > 0));
  const read = present.filter((d) => !(sampleExcluded && d.source === SAMPLE_SOURCE));

  let currency = input.settings.currency;
  let currencyChoice: RunDataRange['currencyChoice'] = 'configured';
  if (!currency) {
    const rowsByCurrency = new Map<string, number>();
    for (const d of read) rowsByCurrency.set(d.currency, (rowsByCurrency.get(d.currency) ?? 0) + d.rows);
    const ranked = [...rowsByCurrency]
      .filter(([, rows]) => rows > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    currency = ranked[0]?.[0] ?? input.defaultCurrency;
    currencyChoice = ranked.length > 0 ? 'most rows' : 'default';
  }
  const fxRates = Object.fromEntries(
    Object.entries(input.settings.fxRates ?? {}).filter(([code]) => code !== currency),
  );
  const readsCurrency = (code: string) => code === currency || code in fxRates;

  let asOf = input.requestedAsOf;
  if (!asOf && input.snapshot) asOf = input.yesterday;
  if (!asOf) {
    const lastDates = read.filter((d) => readsCurrency(d.currency) && d.lastDate).map((d) => d.lastDate!);
    asOf = asOfFromData(lastDates.sort().at(-1) ?? null, input.yesterday);
  }

  const excluded: ExcludedRows[] = [];
  const add = (reason: ExcludedRows['reason'], d: SourceCurrencyData, rows: number, amount: number) => {
    if (rows > 0) excluded.push(excludedOf(reason, d, rows, amount));
  };
  for (const d of present) {
    if (sampleExcluded && d.source === SAMPLE_SOURCE) add('sample', d, d.rows, d.amount);
    else if (!readsCurrency(d.currency)) add('currency', d, d.rows, d.amount);
    else add('after_as_of', d, d.rowsAfterAsOf, d.amountAfterAsOf);
  }
  for (const d of read) add('superseded', d, d.rowsSuperseded, d.amountSuperseded);
  for (const d of otherFamily) {
    if (d.rows > 0)
      excluded.push({ ...excludedOf('family', d, d.rows, d.amount), family: familyOf(d.source)! });
  }

  return {
    sources: [...new Set(read.map((d) => d.source))].sort(),
    sampleExcluded,
    currency,
    currencyChoice,
    fxRates,
    asOf,
    asOfDefaulted: input.requestedAsOf === undefined,
    excluded,
    read,
  };
}

/**
 * Exclusion rows (reason `family`) for the profile of sources the run does not read in its export
 * kind (the transactions of a subscriptions run, the subscriptions of any other run).
 */
export function familyExclusionsOf(
  data: readonly SourceCurrencyData[],
  sourceFamilies: Record<string, ModelFamily>,
): ExcludedRows[] {
  return data
    .filter((d) => d.rows > 0)
    .map((d) => ({ ...excludedOf('family', d, d.rows, d.amount), family: sourceFamilies[d.source]! }));
}

const excludedOf = (
  reason: ExcludedRows['reason'],
  d: SourceCurrencyData,
  rows: number,
  amount: number,
): ExcludedRows => ({ reason, source: d.source, currency: d.currency, rows, amount: round2(amount) });

/** Whole days from the last transaction to the as-of date; null without data. */
export function daysPastLastTransaction(asOf: string, lastDate: string | null): number | null {
  return lastDate ? parseEpochDay(asOf) - parseEpochDay(lastDate) : null;
}

/** The day before `now` (UTC), as YYYY-MM-DD. */
export const dayBefore = (now: Date) => formatEpochDay(Math.floor(now.getTime() / 86_400_000) - 1);

const round2 = (value: number) => Math.round(value * 100) / 100;

const count = (n: number) => n.toLocaleString('en-US');
const money = (n: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const REASON_TEXT: Record<ExcludedRows['reason'], string> = {
  sample: 'the bundled sample, left out because other data exists',
  currency: 'in another currency without an fxRates rate',
  after_as_of: 'dated after the as-of date',
  superseded: 'replaced by a later export of the same order (not lost)',
  family: 'of another model family',
};

/** Why a source of another family is left out, and how to run it. */
const familyText = (family: string | undefined) =>
  family
    ? `of the ${family} family (config sources.<source>.family, or a subscriptions export); score it with its own run: cvm recalc --family ${family}, or POST /runs with {"family": "${family}"}`
    : REASON_TEXT.family;

/**
 * What a run read and left out, one line each, for people: printed by `cvm up` and `cvm recalc`
 * and shown by the report's data panel. Warnings first, prefixed with `⚠`.
 */
export function describeDataSelection(
  record: Pick<
    RunRecord,
    'asOf' | 'currency' | 'dataRange' | 'exclusions' | 'dataWarnings' | 'sampleExcluded'
  > & { model?: Pick<NonNullable<RunRecord['model']>, 'input'> | null },
): string[] {
  const lines: string[] = (record.dataWarnings ?? []).map((w) => `⚠ ${w}`);
  const range = record.dataRange;
  if (range) {
    const converted = range.currencies.filter((c) => c.currency !== record.currency);
    // A run over subscriptions exports reads one row per membership: its dates are start dates.
    const read =
      record.model?.input === 'subscriptions'
        ? `${count(range.orders)} subscriptions of ${count(range.customers)} members, started `
        : `${count(range.rows)} rows, ${count(range.orders)} orders of ${count(range.customers)} customers, `;
    lines.push(
      `Data: ${read}` +
        `${range.firstDate ?? '–'} to ${range.lastDate ?? '–'} (sources ${range.sources.join(', ')}); ` +
        `run currency ${record.currency} (${range.currencyChoice === 'most rows' ? 'the currency with the most rows' : range.currencyChoice})` +
        (converted.length > 0
          ? `, converted: ${converted.map((c) => `${count(c.rows)} rows in ${c.currency} at ${c.rate}`).join(', ')}`
          : '') +
        `; as of ${record.asOf}.`,
    );
  }
  const exclusions = record.exclusions;
  if (!exclusions) return lines;
  if (record.sampleExcluded) {
    const sample = exclusions.rows.filter((r) => r.reason === 'sample');
    lines.push(
      `Sample left out: the bundled sample (source ${SAMPLE_SOURCE}, ${sample.map((r) => `${count(r.rows)} rows, ${money(r.amount)} ${r.currency}`).join('; ')}) is not used because your own data is present. Remove it for good: npm start -- --no-sample.`,
    );
  }
  for (const r of exclusions.rows) {
    if (r.reason === 'sample') continue;
    lines.push(
      `${r.reason === 'superseded' ? 'Replaced' : 'Left out'}: ${count(r.rows)} rows (${money(r.amount)} ${r.currency}) of source ${r.source}, ${r.reason === 'family' ? familyText(r.family) : REASON_TEXT[r.reason]}.`,
    );
  }
  if (exclusions.suppressedIds > 0) {
    lines.push(`Suppressed: ${count(exclusions.suppressedIds)} erased customer ids are never scored.`);
  }
  const dup = exclusions.crossSourceDuplicates;
  if (dup.rows > 0) {
    lines.push(
      `Cross-source duplicates: ${count(dup.rows)} rows (${money(dup.amount)} ${record.currency}) are identical to rows of another source — ` +
        (dup.handling === 'collapse'
          ? 'collapsed: only the first source’s copy is used.'
          : 'counted twice (set crossSourceDuplicates: "collapse" in config/recalc.json to use one copy).'),
    );
  }
  if (
    lines.length === 0 ||
    (exclusions.rows.length === 0 && exclusions.suppressedIds === 0 && dup.rows === 0)
  ) {
    lines.push('Nothing left out: every clean row was used.');
  }
  return lines;
}

/** The exclusions of a run from the selection and the warehouse profile. */
export function runExclusionsOf(
  selection: DataSelection,
  suppressedIds: number,
  duplicates: { rows: number; amount: number; handling: 'keep' | 'collapse' },
): RunExclusions {
  return {
    rows: selection.excluded,
    suppressedIds,
    crossSourceDuplicates: { ...duplicates, amount: round2(duplicates.amount) },
  };
}
