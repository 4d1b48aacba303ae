/**
 * Clean objects that went missing: an ingest succeeded and wrote a clean Parquet object that is no
 * longer in the bucket (deleted by hand, a lifecycle rule, a failed restore). Without this check the
 * run would read fewer transactions and say nothing.
 */
import { CLEAN_TRANSACTIONS_PREFIX } from '#domain/bucket-layout.ts';
import { CvmError } from '#domain/errors.ts';
import type { IngestedCleanObject } from '../ports/ingest-catalog.ts';
import type { RecalcDeps } from './types.ts';

/** The run refuses to read clean data with objects missing, naming them and their ingests. */
export class CleanDataMissingError extends CvmError {
  override readonly name = 'CleanDataMissingError';
  readonly code = 'clean_data_missing';
}

/**
 * Clean objects of succeeded ingests that are not among `present` (the clean objects the bucket
 * holds), in key order.
 */
export async function findMissingCleanObjects(
  deps: Pick<RecalcDeps, 'ingests'>,
  present: readonly string[],
): Promise<IngestedCleanObject[]> {
  const expected = await deps.ingests.listCleanObjects();
  const held = new Set(present);
  // The run reads the transactions; other clean data sets (customer attributes) are checked where
  // they are read.
  return expected
    .filter((object) => object.cleanKey.startsWith(CLEAN_TRANSACTIONS_PREFIX) && !held.has(object.cleanKey))
    .sort((a, b) => (a.cleanKey < b.cleanKey ? -1 : a.cleanKey > b.cleanKey ? 1 : 0));
}

/** One line per object, at most `limit`, for messages and run warnings. */
export function describeMissing(missing: readonly IngestedCleanObject[], limit = 5): string {
  const shown = missing
    .slice(0, limit)
    .map((o) => `${o.cleanKey} (ingest ${o.ingestId} of ${o.exportKey})`)
    .join('; ');
  return missing.length > limit ? `${shown}; and ${missing.length - limit} more` : shown;
}

/**
 * `fail` (default): the run stops naming the objects. `exclude`: the run goes on without them and
 * says so in its data warnings.
 */
export async function checkCleanObjects(
  deps: Pick<RecalcDeps, 'ingests'>,
  present: readonly string[],
  policy: 'fail' | 'exclude',
  runId: string,
): Promise<string[]> {
  const missing = await findMissingCleanObjects(deps, present);
  if (missing.length === 0) return [];
  const what = `${missing.length} clean data object${missing.length === 1 ? ' is' : 's are'} missing from the bucket: ${describeMissing(missing)}`;
  if (policy === 'exclude') {
    return [`${what}. Their transactions are left out of this run (missingCleanObjects: exclude).`];
  }
  throw new CleanDataMissingError(
    `Run ${runId} stopped: ${what}. Reading without them would silently count fewer transactions. ` +
      'Restore the objects (in AWS the bucket is versioned: remove the delete marker), or run without ' +
      'them by setting "missingCleanObjects": "exclude" in config/recalc.json.',
  );
}

/**
 * A clean object the warehouse cannot read (the adapter's error carries its `key` and code
 * `clean_object_unreadable`), named together with the ingest that wrote it. Other errors pass as
 * they are.
 */
export async function nameUnreadableCleanObject(
  deps: Pick<RecalcDeps, 'ingests'>,
  error: unknown,
  runId: string,
): Promise<unknown> {
  if (!(error instanceof CvmError) || error.code !== 'clean_object_unreadable') return error;
  const key = (error as CvmError & { key?: string }).key;
  const origin = key ? (await deps.ingests.listCleanObjects()).find((o) => o.cleanKey === key) : undefined;
  return new CleanDataUnreadableError(
    `Run ${runId} stopped: ${error.message}` +
      (origin ? ` It was written by ingest ${origin.ingestId} of ${origin.exportKey}.` : '') +
      ' Restore the object (in AWS: an earlier version of it), or delete it and set ' +
      '"missingCleanObjects": "exclude" in config/recalc.json to run without it.',
    { cause: error },
  );
}

export class CleanDataUnreadableError extends CvmError {
  override readonly name = 'CleanDataUnreadableError';
  readonly code = 'clean_object_unreadable';
}
