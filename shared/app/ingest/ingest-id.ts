/**
 * The stable id of one ingest: the same object write (bucket, key, version or ETag) always maps to the
 * same id, so a redelivered event finds the report of the first delivery.
 */
import { createHash } from 'node:crypto';
import type { IngestObjectRef } from '../ports/ingest-objects.ts';

export function ingestIdFor(ref: IngestObjectRef): string {
  const revision = ref.versionId ?? normalizeETag(ref.eTag) ?? ref.sequencer ?? '';
  return createHash('sha256').update(`${ref.bucket}\n${ref.key}\n${revision}`).digest('hex').slice(0, 24);
}

/** S3 returns ETags quoted from the API and unquoted in events. */
export function normalizeETag(eTag: string | undefined): string | undefined {
  if (!eTag) return undefined;
  return eTag.replace(/^"|"$/g, '');
}
