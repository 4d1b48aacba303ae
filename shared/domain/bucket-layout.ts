/**
 * The data bucket's layout: every top-level prefix and every key the pipeline reads or writes. The
 * one source for these facts — the ingest, the recalculation, the local stack and the CDK stack
 * (prefix-scoped IAM grants, lifecycle rules, S3 notifications) all derive their keys from here.
 */

/** Top-level prefixes of the data bucket. Each ends with `/`. */
export const BUCKET_PREFIXES = {
  /** Uploaded exports, `incoming/<source>/<file>`; an upload triggers an ingest. */
  incoming: 'incoming/',
  /** Clean Parquet written by the ingest, read by the warehouse. */
  clean: 'clean/',
  /** Rejected rows (JSON Lines) per ingest. */
  rejected: 'rejected/',
  /** Exports that could not be read at all, moved out of `incoming/`. */
  quarantine: 'quarantine/',
  /** Per-source settings and the recalculation settings. */
  config: 'config/',
  /** Per-run artefacts: summary parts, part results, reports, change files. */
  runs: 'runs/',
  /** Athena query results (the workgroup's enforced output location). */
  athenaResults: 'athena-results/',
} as const;

export type BucketPrefixName = keyof typeof BUCKET_PREFIXES;

// ── ingest ─────────────────────────────────────────────────────────────────────────────────────

export const INCOMING_PREFIX = BUCKET_PREFIXES.incoming;

/** Where an export of `source` is uploaded. */
export const incomingKey = (source: string, fileName: string) =>
  `${BUCKET_PREFIXES.incoming}${source}/${fileName}`;

/** `incoming/<source>/` — every export of one source. */
export const incomingSourcePrefix = (source: string) => `${BUCKET_PREFIXES.incoming}${source}/`;

/**
 * What an upload holds: a transaction export, a customer attributes export (docs/economics.md) or a
 * subscriptions export (docs/ingest.md), told apart by the folder: `incoming/<source>/customers/<file>`
 * is an attributes export, `incoming/<source>/subscriptions/<file>` a subscriptions export.
 */
export type ExportKind = 'transactions' | 'customers' | 'subscriptions';

/** The folder under `incoming/<source>/` whose files are customer attributes exports. */
export const CUSTOMER_ATTRIBUTES_FOLDER = 'customers';

/** Where a customer attributes export of `source` is uploaded. */
export const incomingAttributesKey = (source: string, fileName: string) =>
  `${BUCKET_PREFIXES.incoming}${source}/${CUSTOMER_ATTRIBUTES_FOLDER}/${fileName}`;

/** The folder under `incoming/<source>/` whose files are subscriptions (memberships) exports. */
export const SUBSCRIPTIONS_FOLDER = 'subscriptions';

/** Where a subscriptions export of `source` is uploaded. */
export const incomingSubscriptionsKey = (source: string, fileName: string) =>
  `${BUCKET_PREFIXES.incoming}${source}/${SUBSCRIPTIONS_FOLDER}/${fileName}`;

/** `incoming/<source>/<...>/<file name>` → source and file name; null for keys outside `incoming/`. */
export function parseIncomingKey(key: string): { source: string; fileName: string } | null {
  if (!key.startsWith(BUCKET_PREFIXES.incoming)) return null;
  const rest = key.slice(BUCKET_PREFIXES.incoming.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return null;
  const fileName = rest.slice(rest.lastIndexOf('/') + 1);
  return { source: rest.slice(0, slash), fileName };
}

/**
 * The export kind of an upload under `incoming/`: `customers` when its first folder below the source
 * is {@link CUSTOMER_ATTRIBUTES_FOLDER}, `subscriptions` when it is {@link SUBSCRIPTIONS_FOLDER}, else
 * `transactions` (other sub-folders stay free, e.g. `incoming/shop/2025/01/orders.csv`).
 */
export function exportKindOf(key: string): ExportKind {
  const parts = key.slice(BUCKET_PREFIXES.incoming.length).split('/');
  if (parts.length <= 2) return 'transactions';
  if (parts[1] === CUSTOMER_ATTRIBUTES_FOLDER) return 'customers';
  return parts[1] === SUBSCRIPTIONS_FOLDER ? 'subscriptions' : 'transactions';
}

/** Clean transactions: Hive-style partitions the warehouse projects as columns. */
export const CLEAN_TRANSACTIONS_PREFIX = `${BUCKET_PREFIXES.clean}transactions/`;

/** `clean/transactions/source=<source>/` — every clean file of one source. */
export const cleanSourcePrefix = (source: string) => `${CLEAN_TRANSACTIONS_PREFIX}source=${source}/`;
export const cleanTransactionKey = (source: string, ingestDate: string, contentSha256: string) =>
  `${CLEAN_TRANSACTIONS_PREFIX}source=${source}/ingest_date=${ingestDate}/${contentSha256}.parquet`;

/**
 * The sources of clean keys under `prefix` (their `source=<name>/` folders), sorted, each once.
 * @default prefix the clean transactions
 */
export function cleanSourcesOf(keys: Iterable<string>, prefix: string = CLEAN_TRANSACTIONS_PREFIX): string[] {
  const sources = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const source = /^source=([^/]+)\//.exec(key.slice(prefix.length))?.[1];
    if (source) sources.add(source);
  }
  return [...sources].sort();
}

/**
 * Clean customer attributes (docs/economics.md): the same Hive-style layout as transactions, so the
 * warehouse projects `source` and `ingest_date` the same way.
 */
export const CLEAN_CUSTOMER_ATTRIBUTES_PREFIX = `${BUCKET_PREFIXES.clean}customer_attributes/`;

export const cleanAttributesKey = (source: string, ingestDate: string, contentSha256: string) =>
  `${CLEAN_CUSTOMER_ATTRIBUTES_PREFIX}source=${source}/ingest_date=${ingestDate}/${contentSha256}.parquet`;

/** Clean subscriptions (memberships), the same Hive-style layout as transactions. */
export const CLEAN_SUBSCRIPTIONS_PREFIX = `${BUCKET_PREFIXES.clean}subscriptions/`;

export const cleanSubscriptionsKey = (source: string, ingestDate: string, contentSha256: string) =>
  `${CLEAN_SUBSCRIPTIONS_PREFIX}source=${source}/ingest_date=${ingestDate}/${contentSha256}.parquet`;

/** The clean key of an ingest's Parquet file, by export kind. */
export const cleanKeyFor = (kind: ExportKind, source: string, ingestDate: string, contentSha256: string) =>
  kind === 'customers'
    ? cleanAttributesKey(source, ingestDate, contentSha256)
    : kind === 'subscriptions'
      ? cleanSubscriptionsKey(source, ingestDate, contentSha256)
      : cleanTransactionKey(source, ingestDate, contentSha256);

/**
 * Every prefix holding clean data about customers. Erasure (rewriting clean objects without a
 * forgotten customer) iterates these, so a new clean data set is covered by adding it here.
 */
export const CLEAN_DATA_PREFIXES = [
  CLEAN_TRANSACTIONS_PREFIX,
  CLEAN_CUSTOMER_ATTRIBUTES_PREFIX,
  CLEAN_SUBSCRIPTIONS_PREFIX,
] as const;

export const rejectedKeyFor = (source: string, ingestId: string) =>
  `${BUCKET_PREFIXES.rejected}${source}/${ingestId}.jsonl`;

export const quarantineKeyFor = (source: string, ingestId: string, fileName: string) =>
  `${BUCKET_PREFIXES.quarantine}${source}/${ingestId}/${fileName}`;

// ── configuration ──────────────────────────────────────────────────────────────────────────────

/** Settings of the weekly value recalculation. */
export const RECALC_CONFIG_KEY = `${BUCKET_PREFIXES.config}recalc.json`;

/** A source's mapping config (column names, time zone, decimal style). */
export const sourceConfigKey = (source: string) => `${BUCKET_PREFIXES.config}sources/${source}.json`;

// ── runs ───────────────────────────────────────────────────────────────────────────────────────

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Throws unless `runId` is safe as one key segment. */
export function assertRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new Error(`Invalid run id '${runId}': use letters, digits, '.', '_' and '-' (at most 128)`);
  }
}

/** `runs/<runId>/` — every working file of one run. */
export const runPrefix = (runId: string) => `${BUCKET_PREFIXES.runs}${runId}/`;

/** Small query results of the warehouse, one sub-folder per query. */
export const QUERY_RESULTS_PREFIX = `${BUCKET_PREFIXES.runs}query-results/`;

/** Where a run's result of a statement lives: `runs/<runId>/<statement name>/`. */
export function runOutputPrefix(runId: string, statementName: string): string {
  assertRunId(runId);
  if (!/^[a-z0-9-]+$/.test(statementName)) throw new Error(`Invalid statement name '${statementName}'`);
  return `${runPrefix(runId)}${statementName}/`;
}

/** The run's HTML report (`cvm up` serves it at /report). */
export const reportKey = (runId: string) => `${runPrefix(runId)}report.html`;
export const suppressedKey = (runId: string) => `${runPrefix(runId)}suppressed.json`;
export const partResultsPrefix = (runId: string) => `${runPrefix(runId)}parts/`;
export const changesPrefix = (runId: string) => `${runPrefix(runId)}changes/`;
/** Which change files were sent as events already: the checkpoint of the sending step. */
export const changesSentKey = (runId: string) => `${runPrefix(runId)}changes-sent.json`;

/**
 * File name of a summary part, used to name its result and change files. A part in a partition
 * folder (`part=3/part-0.parquet`, the pipeline's customer buckets) keeps the folder in its name:
 * file names repeat across folders.
 */
export const partName = (partKey: string) => {
  const segments = partKey.split('/');
  const folder = segments.length > 1 ? segments[segments.length - 2]! : '';
  const file = segments[segments.length - 1]!;
  const name = `${/^[A-Za-z0-9_]+=[^=]+$/.test(folder) ? `${folder}_` : ''}${file.replace(/\.parquet$/, '')}`;
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
};

export const partResultKey = (runId: string, partKey: string) =>
  `${partResultsPrefix(runId)}${partName(partKey)}.json`;
export const partChangesKey = (runId: string, partKey: string) =>
  `${changesPrefix(runId)}${partName(partKey)}.jsonl`;

/**
 * Why a part has no result: ScorePart records the error it failed with (a part that timed out or was
 * killed leaves none). Read by finalize's part check; a later result of the same part supersedes it.
 */
export const partFailuresPrefix = (runId: string) => `${runPrefix(runId)}part-failures/`;
export const partFailureKey = (runId: string, partKey: string) =>
  `${partFailuresPrefix(runId)}${partName(partKey)}.json`;
/**
 * A step's output, saved when the step finished: a resumed run starts after the last step with one
 * (keyed by the step's name in the pipeline definition, so new steps get their own).
 */
/** The clean objects Prepare read: a resume is refused when the listing has changed since. */
export const runInputsKey = (runId: string) => `${runPrefix(runId)}inputs.json`;
export const checkpointsPrefix = (runId: string) => `${runPrefix(runId)}checkpoints/`;
export const checkpointKey = (runId: string, stepName: string) => {
  if (!/^[A-Za-z0-9]+$/.test(stepName)) throw new Error(`Invalid step name '${stepName}'`);
  return `${checkpointsPrefix(runId)}${stepName}.json`;
};

/** The audiences of a run: one CSV per playbook action, for campaign tools. */
export const audiencesPrefix = (runId: string) => `${runPrefix(runId)}audiences/`;
/** One playbook action's audience of a run, as CSV for campaign tools. */
export const audienceKey = (runId: string, action: string) => `${audiencesPrefix(runId)}${action}.csv`;
/** A run list of customers (the high-value detractors), as CSV; rewritten by erasure like the audiences. */
export const runListKey = (runId: string, list: string) => `${runPrefix(runId)}lists/${list}.csv`;
/** A scored part's audience rows (JSON lines), ranked and split into the audience files by finalize. */
export const audienceRowsPrefix = (runId: string) => `${runPrefix(runId)}audience-rows/`;
export const partAudienceRowsKey = (runId: string, partKey: string) =>
  `${audienceRowsPrefix(runId)}${partName(partKey)}.jsonl`;
/** The playbook backtest's assignments on the calibration view: who it selected, per customer. */
export const backtestAssignmentsKey = (runId: string) => `${runPrefix(runId)}backtest/assignments.csv`;

/** Settings of the value playbook (ladder and actions). */
export const PLAYBOOK_CONFIG_KEY = `${BUCKET_PREFIXES.config}playbook.json`;

// ── personal data (erasure) ────────────────────────────────────────────────────────────────────

/**
 * How erasure reads the rows of an object: `export` is a raw upload (CSV or JSON Lines, maybe
 * gzipped) as a shop sent it; the others are files the pipeline writes.
 */
export type PersonalDataFormat = 'export' | 'parquet' | 'jsonl' | 'csv' | 'json';

/**
 * Every prefix that can hold a customer's rows: all of them but `config/` (settings only). Derived
 * from {@link BUCKET_PREFIXES}, so a prefix added there is searched by erasure without a change here.
 */
export const PERSONAL_DATA_PREFIXES: readonly string[] = Object.entries(BUCKET_PREFIXES)
  .filter(([name]) => name !== 'config')
  .map(([, prefix]) => prefix);

/**
 * The format erasure reads `key` in, or null for objects that hold no customer rows by design (the
 * HTML run report: aggregates only; Athena's `.metadata` files). Uploads (and their quarantined
 * copies) are raw exports whatever their name; other objects are known by their extension, so a new
 * run file (`runs/<runId>/audiences/<action>.csv`, another Parquet output, another clean prefix) is
 * covered as soon as it is written.
 */
export function personalDataFormatOf(key: string): PersonalDataFormat | null {
  if (key.endsWith('/')) return null;
  if (key.startsWith(BUCKET_PREFIXES.incoming) || key.startsWith(BUCKET_PREFIXES.quarantine)) return 'export';
  if (key.startsWith(BUCKET_PREFIXES.config)) return null;
  const name = key
    .slice(key.lastIndexOf('/') + 1)
    .toLowerCase()
    .replace(/\.gz$/, '');
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.csv') || name.endsWith('.tsv') || name.endsWith('.txt')) return 'csv';
  if (name.endsWith('.json')) return 'json';
  return null;
}
