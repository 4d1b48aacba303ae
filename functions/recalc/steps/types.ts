/**
 * What the recalculation steps hand each other. In AWS these objects are the Step Functions state
 * (JSON, at most 256 KB: nothing here grows with the number of customers); locally
 * `runLocalRecalculation` passes them from one call to the next.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { RuntimeConfig } from '../../../shared/adapters/config.ts';
import type { RunStore } from '../../../shared/adapters/dynamo/run-store.ts';
import type { ChangeEventPublisher } from '../../../shared/app/ports/change-events.ts';
import type { DataProfileRow, Warehouse } from '../../../shared/app/ports/warehouse.ts';
import type { MigrationMatrix, SegmentTotals } from '../../../shared/domain/migration.ts';
import type { ModelChoice, RecalcConfig, RecalcConfigInput } from '../../../shared/domain/recalc-config.ts';
import type { ReportAggregates } from '../../../shared/domain/report/aggregates.ts';
import type { RunRecord } from '../../../shared/domain/run.ts';
import type { ValueTierThresholds } from '../../../shared/domain/segments.ts';

/** Everything a step talks to; built once per Lambda container or per local run. */
export interface RecalcDeps {
  config: RuntimeConfig;
  s3: S3Client;
  runStore: RunStore;
  /** Opened on first use: only prepare and fitModels run SQL. */
  warehouse(): Promise<Warehouse>;
  /**
   * Whether `prepare` unloads the customer summaries itself (local runs), or leaves it to the state
   * machine's Athena task that runs `queries.customerSummaries` after `prepare` (AWS: no Lambda has
   * to wait out the largest query).
   */
  unloadSummariesInPrepare: boolean;
  publisher: ChangeEventPublisher;
  now(): Date;
}

/** Input of a run (Step Functions execution input, or CLI options). Every field is optional. */
export interface RecalcRequest {
  /** Observation end YYYY-MM-DD (inclusive). Default: yesterday (UTC). */
  asOf?: string;
  model?: ModelChoice;
  /** Overrides of the stored `config/recalc.json`, merged field by field over it. */
  config?: RecalcConfigInput;
  /** Given by tests and retries; generated otherwise. */
  runId?: string;
  /** How long the lock protects a run that dies without releasing it. @default 360 */
  leaseMinutes?: number;
}

export interface LockedRun {
  runId: string;
  startedAt: string;
  request: RecalcRequest;
}

export interface PreparedRun {
  runId: string;
  startedAt: string;
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
  /** The parts' keys; empty after `prepare` when the state machine unloads, filled by `fitModels`. */
  summaryPartKeys: string[];
  /** Suppressed customer-id hashes at prepare time, stored as JSON (the list can outgrow the state). */
  suppressedKey: string;
  /**
   * Every statement of the run as the Athena UNLOAD text (statement key → query string; the output
   * goes to `runs/<runId>/<statement name>/`): for the state machine's Athena tasks, and a record of
   * exactly what SQL the run used.
   */
  queries: Record<string, string>;
}

export interface FittedRun extends PreparedRun {
  model: NonNullable<RunRecord['model']>;
  spendModel: RunRecord['spendModel'];
  /** Mean spend per purchase used for customers without a spend estimate (no Gamma-Gamma fit). */
  fallbackSpend: number;
  holdout: RunRecord['holdout'];
  /** Other models tried when `model` is `auto`: name → holdout MAE (null when the fit failed). */
  candidates: Record<string, number | null>;
  tierThresholds: ValueTierThresholds;
  messages: string[];
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
}

export interface ReleaseLockInput {
  runId: string;
  startedAt?: string;
  /** Step Functions Catch output, or a message: the run is then recorded as failed. */
  error?: { Error?: string; Cause?: string } | string;
  /** Whatever the failed run knew, to fill its run record. */
  run?: Partial<FittedRun>;
}
