/**
 * The one root of every error the pipeline raises on purpose. Each carries a stable `code` that logs,
 * the CLI's `--json` output and the API use; messages are written for the person who can fix it.
 */

/** File-level ingest problems: nothing from the file is ingested, the report says why. */
export type IngestFileErrorCode =
  | 'encoding_ambiguous'
  | 'encoding_invalid'
  | 'decimal_ambiguous'
  | 'date_format_ambiguous'
  | 'columns_missing'
  | 'format_unknown'
  | 'empty_file'
  | 'config_invalid'
  | 'gzip_corrupt'
  | 'object_missing'
  | 'source_invalid';

/** What went wrong in a fit; callers branch on it, the message says what to try. */
export type FitErrorCode =
  /** No customers (empty input or every weight 0). */
  | 'no-customers'
  /** Too little information for the model (e.g. no repeat buyers); the message names the rule. */
  | 'insufficient-data'
  /** No start reached a maximum within the iteration budget. */
  | 'not-converged'
  /** The wall-clock budget (`timeLimitMs`) ran out. */
  | 'time-limit'
  /** A maximum was found but the parameters are not identified (with `requireIdentified`). */
  | 'not-identified';

export type CvmErrorCode =
  | IngestFileErrorCode
  /** Another delivery took over an ingest whose lease expired. */
  | 'lease_lost'
  /** An ingest failed for a reason other than its file; the event is delivered again. */
  | 'ingest_failed_retryable'
  /** A user's input file (analyst CLI) cannot be read; the message names file and line. */
  | 'input_invalid'
  /** A model could not be fitted to the data (`ModelFitError`). */
  | FitErrorCode
  /** A second recalculation while one holds the lock. */
  | 'recalc_locked'
  /** Another run published between this run's start and its pointer flip. */
  | 'pointer_moved'
  /** Another process uses the local stack's state directory. */
  | 'stack_busy'
  /** DynamoDB kept throttling a batch through every retry; the step can be run again. */
  | 'dynamo_throttled'
  /** A clean object a succeeded ingest wrote is gone from the bucket. */
  | 'clean_data_missing'
  /** A clean object is not a readable Parquet file. */
  | 'clean_object_unreadable'
  /** More summary parts failed to score than the run tolerates; the message names them. */
  | 'parts_failed'
  /** A run cannot be resumed (unknown, published, or its inputs changed); the message says which. */
  | 'resume_refused';

/** HTTP errors carry the API's own codes (`functions/api/errors.ts`), which are open-ended here. */
export abstract class CvmError extends Error {
  abstract readonly code: CvmErrorCode | (string & {});
}

/** Whether `error` is one of ours (safe to show its message), as opposed to a bug or an SDK error. */
export function isCvmError(error: unknown): error is CvmError {
  return error instanceof CvmError;
}
