/**
 * Erasure of one customer (right to erasure) as an application service: the same steps whether
 * `cvm forget` or `DELETE /customers/{id}` asks.
 *
 * 1. Suppress: the hashed id joins the suppression list first, so an ingest or a run that starts while
 *    erasure works already leaves the customer out.
 * 2. Records: the customer's score items of every run (their history) are deleted.
 * 3. Objects: every stored object that can hold customer rows (every prefix of the bucket layout but
 *    `config/`) is rewritten without the customer's rows — raw uploads, clean Parquet, rejected rows,
 *    every run's summary parts, change files, audiences — and every earlier version of it that holds
 *    the customer is deleted, so no version of any object keeps the id.
 * 4. Local state outside the bucket (locally only): the warehouse mirror, event files, the inbox.
 */
import { PERSONAL_DATA_PREFIXES, parseIncomingKey, personalDataFormatOf } from '#domain/bucket-layout.ts';
import { CvmError } from '#domain/errors.ts';
import type {
  ErasureObjectStore,
  ErasureTarget,
  LocalPersonalData,
  ObjectRewrite,
} from '../ports/erasure.ts';
import type { IngestReportStore } from '../ports/ingest-reports.ts';
import type { AppLogger } from '../ports/logger.ts';
import type { SuppressionRepository } from '../ports/suppression-repository.ts';

/** What erasing the customer's records (suppression list and table items) needs. */
export interface ErasureRecordDeps {
  suppression: SuppressionRepository;
  /** Whether any run scored the customer: an id no run knows is most likely a typo. */
  hasScores(customerId: string): Promise<boolean>;
  now?: () => Date;
}

/** What erasing the customer's rows from stored objects needs. */
export interface ErasureObjectDeps {
  objects: ErasureObjectStore;
  /**
   * The ingest's content markers: a rewritten upload is new bytes, and the S3 trigger delivers it like
   * an upload. Its content is marked as already ingested (by the ingest of the original bytes), so the
   * trigger records a duplicate instead of ingesting every other customer's rows a second time.
   */
  contentMarkers: Pick<IngestReportStore, 'contentHolder' | 'markContent'>;
  local?: LocalPersonalData;
  now?: () => Date;
  logger?: AppLogger;
}

export type ErasureDeps = ErasureRecordDeps & ErasureObjectDeps;

export interface RecordErasure {
  customerIdHash: string;
  /** Score items deleted (one per run that scored the customer). */
  deletedScores: number;
}

export interface ObjectErasure {
  /** Objects looked at (current versions with a format erasure reads). */
  objectsScanned: number;
  /** Objects rewritten without the customer's rows. */
  objectsRewritten: number;
  /** Rows removed from them. */
  rowsRemoved: number;
  /** Earlier versions deleted (each held the customer). */
  versionsDeleted: number;
  /** Local files outside the bucket changed, and rows removed from them. */
  localFiles: number;
  localRows: number;
}

export type ErasureResult = RecordErasure & ObjectErasure;

/** `forget` of an id that no run scored and that was never erased: most likely a typo. */
export class UnknownCustomerError extends CvmError {
  override readonly name = 'UnknownCustomerError';
  readonly code = 'customer_unknown';
  constructor(customerId: string) {
    super(
      `No customer ${JSON.stringify(customerId)} in any run: nothing was erased. Check the id (ids are ` +
        'case-sensitive); to erase it anyway (e.g. its data was ingested after the last run), force it.',
    );
  }
}

/**
 * Suppresses the customer and deletes their score items. Refuses (changing nothing) an id that no
 * run scored and that is not suppressed yet, unless `force`.
 */
export async function eraseCustomerRecords(
  deps: ErasureRecordDeps,
  customerId: string,
  options: { force?: boolean } = {},
): Promise<RecordErasure> {
  if (
    !options.force &&
    !(await deps.hasScores(customerId)) &&
    !(await deps.suppression.isSuppressed(customerId))
  ) {
    throw new UnknownCustomerError(customerId);
  }
  const now = deps.now ?? (() => new Date());
  return deps.suppression.eraseCustomer(customerId, now());
}

/**
 * Removes the customer's rows (or, given hashes, every suppressed customer's rows) from every stored
 * object and every version that holds them.
 */
export async function eraseCustomerObjects(
  deps: ErasureObjectDeps,
  target: ErasureTarget,
): Promise<ObjectErasure> {
  const now = deps.now ?? (() => new Date());
  const result: ObjectErasure = {
    objectsScanned: 0,
    objectsRewritten: 0,
    rowsRemoved: 0,
    versionsDeleted: 0,
    localFiles: 0,
    localRows: 0,
  };
  for (const prefix of PERSONAL_DATA_PREFIXES) {
    // Listed whole before anything is written, so the versions this pass writes are not visited.
    for (const version of await deps.objects.listVersions(prefix)) {
      const format = personalDataFormatOf(version.key);
      if (!format || version.isDeleteMarker) continue;
      if (!version.isLatest) {
        if (await deps.objects.versionHolds(version, format, target)) {
          await deps.objects.deleteVersion(version);
          result.versionsDeleted++;
        }
        continue;
      }
      result.objectsScanned++;
      const upload = parseIncomingKey(version.key);
      const rewrite = await deps.objects.rewriteWithout(
        version.key,
        format,
        target,
        upload
          ? (written) => markRewrittenUpload(deps.contentMarkers, upload.source, written, now())
          : undefined,
      );
      if (rewrite.removed === 0) continue;
      result.objectsRewritten++;
      result.rowsRemoved += rewrite.removed;
      // In a versioned bucket the rewrite is a new version, and the versions it replaced (the one
      // listed, and the one read if a concurrent writer replaced it meanwhile) held the customer;
      // without versioning the rewrite replaced the object itself.
      if (rewrite.versionId !== undefined) {
        const replaced = new Set([version.versionId, rewrite.replacedVersionId]);
        for (const versionId of replaced) {
          if (versionId === undefined || versionId === rewrite.versionId) continue;
          await deps.objects.deleteVersion({ ...version, versionId, isLatest: false });
          result.versionsDeleted++;
        }
      }
    }
  }
  if (deps.local) {
    const local = await deps.local.erase(target);
    result.localFiles = local.files;
    result.localRows = local.rows;
  }
  deps.logger?.info('customer erased from stored objects', { ...result });
  return result;
}

/** What the erasure job did: the customers it erased (by hash) and the objects it changed. */
export type SuppressedErasure = ObjectErasure & { suppressedCustomers: number };

/**
 * The erasure job: every customer on the suppression list out of every stored object. It needs no
 * customer id (the list holds hashes), so whatever starts it passes none, and running it again (a
 * retry, a second erasure meanwhile) only finds less to do.
 */
export async function eraseSuppressedCustomers(
  deps: ErasureObjectDeps & { suppression: Pick<SuppressionRepository, 'listSuppressedHashes'> },
): Promise<SuppressedErasure> {
  const hashes = await deps.suppression.listSuppressedHashes();
  const erased =
    hashes.length === 0
      ? {
          objectsScanned: 0,
          objectsRewritten: 0,
          rowsRemoved: 0,
          versionsDeleted: 0,
          localFiles: 0,
          localRows: 0,
        }
      : await eraseCustomerObjects(deps, { customerIdHashes: new Set(hashes) });
  return { ...erased, suppressedCustomers: hashes.length };
}

/** Both: records first (suppression stops new copies), then objects. */
export async function eraseCustomer(
  deps: ErasureDeps,
  customerId: string,
  options: { force?: boolean } = {},
): Promise<ErasureResult> {
  const records = await eraseCustomerRecords(deps, customerId, options);
  const objects = await eraseCustomerObjects(deps, { customerId });
  return { ...records, ...objects };
}

/**
 * Marks the rewritten upload's content as held by the ingest of the original bytes, before it is
 * written: the upload was ingested already (its clean rows are erased separately), so the delivery
 * the rewrite triggers must count it as a duplicate. An upload never ingested keeps no marker and is
 * ingested normally.
 */
export async function markRewrittenUpload(
  contentMarkers: ErasureObjectDeps['contentMarkers'],
  source: string,
  written: Required<Omit<ObjectRewrite, 'versionId' | 'replacedVersionId'>>,
  now: Date,
): Promise<void> {
  const holder = await contentMarkers.contentHolder(source, written.previousSha256);
  if (!holder) return;
  await contentMarkers.markContent({ source, sha256: written.sha256, ingestId: holder, now });
}
