/**
 * What the recalculation steps hand each other and what they talk to. In AWS the state objects are
 * the Step Functions state (JSON, at most 256 KB: nothing here grows with the number of customers);
 * locally the runner passes them, JSON round-tripped, from one handler to the next.
 */

import type { EconomicsAggregates } from '#domain/economics/economics-report.ts';
import type { NetRatioGroups } from '#domain/economics/net-contribution.ts';
import type { MigrationMatrix, SegmentTotals } from '#domain/migration.ts';
import type { DataSelection } from '#domain/recalc/data-selection.ts';
import type { ScoringRun } from '#domain/recalc/scoring.ts';
import type { RunFailure } from '#domain/recalc/settings.ts';
import type { ModelChoice, ModelFamily, RecalcConfig, RecalcConfigInput } from '#domain/recalc-config.ts';
import type { ReportAggregates } from '#domain/report/aggregates.ts';
import type { RunRecord } from '#domain/run.ts';
import type { ChangeEventPublisher } from '../ports/change-events.ts';
import type { IngestCatalog } from '../ports/ingest-catalog.ts';
import type { AppLogger } from '../ports/logger.ts';
import type { RecalcLock } from '../ports/recalc-lock.ts';
import type { RecalcQueries } from '../ports/recalc-queries.ts';
import type { RunFiles } from '../ports/run-files.ts';
import type { RunRepository } from '../ports/run-repository.ts';
import type { ScoreRepository } from '../ports/score-repository.ts';
import type { SuppressionRepository } from '../ports/suppression-repository.ts';
import type { DataProfileRow, Warehouse } from '../ports/warehouse.ts';
import type { PlaybookPartResult, PlaybookReference } from './playbook.ts';

/** Deployment settings the steps need (no I/O). */
export interface RecalcSettings {
  /** The data bucket: targets of warehouse unloads. */
  bucket: string;
  /** Run currency when neither the settings file nor the request names one. */
  defaultCurrency: string;
  /** Retention of a run's items when the settings do not say. */
  retentionWeeks: number;
  /**
   * ScorePart invocations the Distributed Map runs at once, when the deployment sets it (the
   * pipeline's default otherwise): the index shard count follows from it.
   */
  scoreMaxConcurrency?: number;
}

/** Everything a step talks to, as ports; built once per Lambda container or per local run. */
export interface RecalcDeps {
  settings: RecalcSettings;
  files: RunFiles;
  lock: RecalcLock;
  runs: RunRepository;
  scores: ScoreRepository;
  suppression: SuppressionRepository;
  /** Which clean objects past ingests wrote (to notice one that went missing). */
  ingests: IngestCatalog;
  queries: RecalcQueries;
  /** Opened on first use: only the warehouse steps, prepare and fitModels run SQL. */
  warehouse(): Promise<Warehouse>;
  publisher: ChangeEventPublisher;
  /** Renders the run's HTML report. */
  renderReport(input: { run: RunRecord; aggregates: ReportAggregates }): Promise<string>;
  logger: AppLogger;
  now(): Date;
}

/** Input of a run (Step Functions execution input, or CLI options). Every field is optional. */
export interface RecalcRequest {
  /**
   * Observation end YYYY-MM-DD (inclusive). Default: the last complete day with data, capped at
   * yesterday (UTC), decided in `prepare`.
   */
  asOf?: string;
  model?: ModelChoice;
  /** The family this run scores (overrides `family` of the settings): sources of other families are left out. */
  family?: ModelFamily;
  /** Overrides of the stored `config/recalc.json`, merged field by field over it. */
  config?: RecalcConfigInput;
  /** Given by tests and retries; generated otherwise. */
  runId?: string;
  /**
   * Resume this failed run instead of starting a new one: same run id, the steps whose checkpoints
   * exist are skipped and only parts without a result are scored. Other request fields are ignored
   * (the run keeps the settings it started with).
   */
  resume?: string;
  /** How long the lock protects a run that dies without releasing it (renewed by each step). @default 90 */
  leaseMinutes?: number;
  /**
   * Who runs this request, recorded with the lock: the state machine sets its execution ARN, so the
   * end of an execution that never reached its own release (timed out, stopped) can release it.
   */
  lockHolder?: string;
}

/** Which execution of a run this is: set when a failed run is resumed. */
export interface RunAttempt {
  /** 2 for the first resume. */
  number: number;
  resumedAt: string;
}

export interface LockedRun {
  runId: string;
  startedAt: string;
  request: RecalcRequest;
  /** Present on a resumed run. */
  attempt?: RunAttempt;
  /**
   * A resumed run starts at this step (pipeline.ts `resumableSteps`); the lock step's output is then
   * the state that step started with (checkpoints.ts), not a bare LockedRun.
   */
  resumeAt?: string;
  /** Lease of the run lock, renewed by every later step. */
  leaseMinutes?: number;
  /** Who holds the lock (see {@link RecalcRequest.lockHolder}); kept when the lease is renewed. */
  lockHolder?: string;
}

/**
 * After `prepare`: the run's settings and snapshots, and the source profile statement
 * (`queries.sourceProfile`) the next warehouse step runs over every source with clean data.
 */
export interface SourcesRun {
  runId: string;
  startedAt: string;
  /** Present on a resumed run (carried from the lock step). */
  attempt?: RunAttempt;
  leaseMinutes?: number;
  lockHolder?: string;
  request: RecalcRequest;
  /** The settings as configured (`currency` undefined when nobody set it: the data decides). */
  configured: RecalcConfig;
  previousRunId: string | null;
  suppressedKey: string;
  /** How many customer-id hashes the suppression snapshot holds. */
  suppressedIds: number;
  /** Every source with clean data (the source profile reads them all). */
  allSources: string[];
  /** Warnings of the clean-object check (objects left out by `missingCleanObjects: exclude`). */
  cleanWarnings: string[];
  /** Statement key → UNLOAD text, for the next warehouse step. */
  queries: Record<string, string>;
  /** A contractual run over its sources' subscriptions exports (docs/recalc.md, "Model families"). */
  subscriptions?: true;
  /** Each source's family: its `sources` entry, contractual with a subscriptions export, else the run's. */
  sourceFamilies: Record<string, ModelFamily>;
  /** Sources with clean transactions, and with clean subscriptions. */
  transactionSources: string[];
  subscriptionSources: string[];
  /** Sources of another family whose data is of the other export kind (profiled beside the source profile). */
  otherKindSources: string[];
}

/**
 * After `selectData`: what the run reads (sources, currency, as-of date: the data selection), and
 * the run profile statement (`queries.runProfile`: data profile, input profile, economics presence
 * in one scan) the next warehouse step runs.
 */
export interface SelectedRun extends Omit<SourcesRun, 'configured'> {
  config: RecalcConfig & { currency: string };
  asOf: string;
  sources: string[];
  selection: DataSelection;
}

export interface PreparedRun {
  runId: string;
  startedAt: string;
  /** Present on a resumed run (carried from the lock step, not from the checkpoint). */
  attempt?: RunAttempt;
  /** Lease of the run lock, renewed by every step (see lease.ts). */
  leaseMinutes?: number;
  lockHolder?: string;
  asOf: string;
  /** End of the calibration period of the holdout check; null when the history is too short. */
  calibrationEnd: string | null;
  config: RecalcConfig & { currency: string };
  /** Run the pointer named when this run started; its scores are the migration baseline. */
  previousRunId: string | null;
  profile: DataProfileRow;
  /**
   * The sources the run reads, listed once in `prepare`: Athena projects `source` as an injected
   * partition and refuses queries that do not name them, and every step must read the same set.
   */
  sources: string[];
  /** Where the per-customer summaries are unloaded (Parquet parts; a Distributed Map reads this prefix). */
  summaryPrefix: string;
  /**
   * Shards of the run's segment and audience index keys, chosen by `prepare` from the customer count
   * (shared/domain/recalc/index-shards.ts) and recorded in the run record; absent = 1 (unsharded).
   */
  indexShards?: number;
  /** The parts' keys; empty after `prepare` (the unload step writes them), filled by `fitModels`. */
  summaryPartKeys: string[];
  /** Suppressed customer-id hashes at prepare time, stored as JSON (the list can outgrow the state). */
  suppressedKey: string;
  /**
   * The summary step's statements as Athena UNLOAD texts (statement key → query string; the output
   * goes to `runs/<runId>/<statement name>/`): for the state machine's Athena tasks, and a record of
   * exactly what SQL the run used (see run-statements.ts).
   */
  queries: Record<string, string>;
  /**
   * What the run read and left out (data selection): copied into the run record by `prepare` and
   * `finalize`, printed by the CLI and shown in the report's data panel.
   */
  dataSelection?: RunDataSelection;
  /**
   * Present when the run values customers on net contribution (docs/economics.md): its data has
   * order figures or customer attributes, or the settings have an `economics` section. The customer
   * summaries then carry each customer's economics.
   */
  economics?: RunEconomics;
  /**
   * Contractual runs whose sources have subscriptions exports read those (one row per subscription)
   * instead of fee payments in the transactions (docs/recalc.md, "Subscriptions").
   */
  subscriptions?: true;
}

/** What `prepare` found of the run's economics data. */
export interface RunEconomics {
  orderRowsWithFigures: number;
  attributeRows: number;
}

/** The run-record fields of the data selection. */
export type RunDataSelection = Pick<
  RunRecord,
  'dataRange' | 'exclusions' | 'dataWarnings' | 'sampleExcluded'
>;

export interface FittedRun extends PreparedRun, ScoringRun {
  model: NonNullable<RunRecord['model']>;
  spendModel: RunRecord['spendModel'];
  holdout: RunRecord['holdout'];
  /** Other models tried when `model` is `auto`: name → holdout MAE (null when the fit failed). */
  candidates: Record<string, number | null>;
  messages: string[];
  /** Runs with economics: the net-ratio priors per group over every customer (economics-scoring.ts). */
  economicsGroups?: NetRatioGroups;
  /** Rung CLV references and the backtest of the value playbook (see playbook-reference.ts). */
  playbook?: PlaybookReference;
}

/** Input of one Distributed Map item: the run and one summary part's object key. */
export interface ScorePartInput {
  run: FittedRun;
  partKey: string;
}

/** What one scored part contributes to the run (also stored at `runs/<runId>/parts/<name>.json`). */
export interface PartResult {
  partKey: string;
  customers: number;
  suppressed: number;
  segments: SegmentTotals;
  /** Customers by previous → current segment; `(new)` row for customers without a previous score. */
  migration: MigrationMatrix;
  changes: number;
  writes: { calls: number; retries: number };
  /** Distributions for the run report (mergeable across parts). */
  report: ReportAggregates;
  /** Runs with economics: the report's economics sums (mergeable across parts). */
  economics?: EconomicsAggregates;
  /** The value playbook's tallies (absent on part results written before it existed). */
  playbook?: PlaybookPartResult;
  /** Set on the Map's output (never stored) when a resumed run kept the result an earlier attempt wrote. */
  resumed?: boolean;
}

export interface FinalizeResult {
  record: RunRecord;
}

export interface ReleaseLockInput {
  runId: string;
  startedAt?: string;
  /** Step Functions Catch output, or a message: the run is then recorded as failed. */
  error?: RunFailure;
  /** Whatever the failed run knew, to fill its run record. */
  run?: Partial<FittedRun>;
}

export interface ReleaseLockResult {
  runId: string;
  released: boolean;
  recordedFailure: boolean;
}
