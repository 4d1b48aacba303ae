/**
 * Erased customers stay out of raw uploads too. The ingest drops a suppressed customer's rows from
 * clean data, but the upload itself (a re-sent export, an old file uploaded again) would keep them in
 * `incoming/` until the lifecycle rule expires it. After an upload is ingested, its rows of suppressed
 * customers are removed from it, and every earlier version of it that holds them is deleted.
 */
import { parseIncomingKey } from '#domain/bucket-layout.ts';
import type { ErasureObjectStore } from '../ports/erasure.ts';
import type { IngestReportStore } from '../ports/ingest-reports.ts';
import { markRewrittenUpload } from './erase-customer.ts';

export interface UploadScrubDeps {
  objects: ErasureObjectStore;
  contentMarkers: Pick<IngestReportStore, 'contentHolder' | 'markContent'>;
  /** SHA-256 hex of every suppressed customer id. */
  suppressedHashes(): Promise<readonly string[]>;
  now?: () => Date;
}

export interface UploadScrub {
  /** Rows of suppressed customers removed from the upload. */
  rowsRemoved: number;
  /** Earlier versions of the upload deleted (each held a suppressed customer). */
  versionsDeleted: number;
}

/**
 * Removes suppressed customers' rows from the ingested upload at `key`. The rewrite's content is
 * marked as held by the ingest of the bytes it replaces, so the S3 event it causes is recorded as a
 * duplicate, not ingested again; that delivery finds nothing more to remove, so the loop ends there.
 */
export async function scrubSuppressedFromUpload(deps: UploadScrubDeps, key: string): Promise<UploadScrub> {
  const result: UploadScrub = { rowsRemoved: 0, versionsDeleted: 0 };
  const upload = parseIncomingKey(key);
  if (!upload) return result;
  const hashes = await deps.suppressedHashes();
  if (hashes.length === 0) return result;
  const target = { customerIdHashes: new Set(hashes) };
  const now = deps.now ?? (() => new Date());
  const rewrite = await deps.objects.rewriteWithout(key, 'export', target, (written) =>
    markRewrittenUpload(deps.contentMarkers, upload.source, written, now()),
  );
  result.rowsRemoved = rewrite.removed;
  for (const version of await deps.objects.listVersions(key)) {
    if (version.key !== key || version.isLatest || version.isDeleteMarker) continue;
    if (await deps.objects.versionHolds(version, 'export', target)) {
      await deps.objects.deleteVersion(version);
      result.versionsDeleted++;
    }
  }
  return result;
}
