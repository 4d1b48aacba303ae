/**
 * The failure policy of the scoring Map: every part runs to its end (the Map tolerates item
 * failures), then this check compares the parts with a result against the parts listed. Failed parts
 * above the run's `toleratedFailedPartsPercent` fail the run, naming them; within it the run
 * publishes and its record names the parts and counts their customers.
 */

import { partFailureKey, partResultsPrefix } from '#domain/bucket-layout.ts';
import { CvmError } from '#domain/errors.ts';
import type { FittedRun, PartResult, RecalcDeps } from './types.ts';

/** What ScorePart records when it fails (`partFailureKey`). */
export interface PartFailure {
  partKey: string;
  /** Error name and message, e.g. `DynamoThrottledError: …`. */
  error: string;
}

export interface PartCheck {
  /** Results of the listed parts. */
  results: PartResult[];
  /** Listed parts without a result, with the error each recorded. */
  failed: PartFailure[];
  /** Customers of the failed parts (summarized by Prepare, neither scored nor suppressed). */
  customersWithoutNewScore: number;
}

/** A part that timed out or whose process was killed records no error: this stands in for it. */
export const NO_ERROR_RECORDED =
  'no result and no error recorded (the invocation timed out, ran out of memory or was stopped)';

export class PartsFailedError extends CvmError {
  readonly code = 'parts_failed';
  constructor(
    readonly runId: string,
    readonly failed: PartFailure[],
    readonly listed: number,
    readonly toleratedPercent: number,
  ) {
    const shown = failed.slice(0, 10).map((f) => `${f.partKey} (${f.error.slice(0, 300)})`);
    super(
      `Run ${runId}: ${failed.length} of ${listed} summary parts failed to score, more than the tolerated ` +
        `${toleratedPercent} % (config toleratedFailedPartsPercent): ${shown.join('; ')}` +
        `${failed.length > shown.length ? `; and ${failed.length - shown.length} more` : ''}. ` +
        `The other parts are scored: resume the run (cvm recalc --resume ${runId}) to score only these.`,
    );
    this.name = 'PartsFailedError';
  }
}

/** The error a failed ScorePart left, as one line (`Name: message`). */
export function describePartError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Records why a part failed, for the check (best effort: the part's own error is what matters). */
export async function recordPartFailure(
  deps: Pick<RecalcDeps, 'files' | 'logger'>,
  runId: string,
  partKey: string,
  error: unknown,
): Promise<void> {
  const failure: PartFailure = { partKey, error: describePartError(error) };
  try {
    await deps.files.putJson(partFailureKey(runId, partKey), failure);
  } catch (recordError) {
    deps.logger.warn('could not record the part failure', {
      runId,
      partKey,
      error: describePartError(recordError),
    });
  }
}

/**
 * Whether the run may publish: its parts' results, and the parts without one. Throws
 * `PartsFailedError` when more parts failed than the run's config tolerates.
 */
export function checkScoredParts(deps: RecalcDeps, run: FittedRun): Promise<PartCheck> {
  return checkParts(deps, run);
}

async function checkParts(deps: RecalcDeps, run: FittedRun): Promise<PartCheck> {
  const listed = new Set(run.summaryPartKeys);
  const resultKeys = await deps.files.listKeys(partResultsPrefix(run.runId));
  const results = ((await Promise.all(resultKeys.map((key) => deps.files.getJson(key)))) as PartResult[])
    // Results of parts an earlier attempt listed but this one does not are not this run's.
    .filter((result) => listed.has(result.partKey));
  const scored = new Set(results.map((result) => result.partKey));
  const failed: PartFailure[] = [];
  for (const partKey of run.summaryPartKeys) {
    if (scored.has(partKey)) continue;
    const recorded = (await deps.files.getJson(partFailureKey(run.runId, partKey))) as
      | PartFailure
      | undefined;
    failed.push({ partKey, error: recorded?.error ?? NO_ERROR_RECORDED });
  }
  const tolerated = run.config.toleratedFailedPartsPercent ?? 0;
  // A run with no scored part publishes nothing, whatever the tolerance.
  const tooMany = failed.length * 100 > tolerated * run.summaryPartKeys.length || results.length === 0;
  if (failed.length > 0 && tooMany) {
    throw new PartsFailedError(run.runId, failed, run.summaryPartKeys.length, tolerated);
  }
  const handled = results.reduce((n, r) => n + r.customers + r.suppressed, 0);
  const customersWithoutNewScore =
    failed.length === 0 ? 0 : Math.max(0, run.profile.customersSummarized - handled);
  return { results, failed, customersWithoutNewScore };
}
