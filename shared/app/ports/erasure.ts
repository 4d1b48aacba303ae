/**
 * The erasure ports: the data bucket seen as stored versions of objects that may hold a customer's
 * rows, and the local state outside the bucket (the local stack's caches and files).
 */
import type { PersonalDataFormat } from '#domain/bucket-layout.ts';

/** Whom to erase: one customer by id, or the suppression list's customers by id hash (SHA-256 hex). */
export type ErasureTarget = { customerId: string } | { customerIdHashes: ReadonlySet<string> };

/** One stored version of an object (in an unversioned store: the object itself). */
export interface StoredVersion {
  key: string;
  /** Absent when the store keeps no versions (the local S3 stand-in). */
  versionId?: string;
  /** The version the pipeline reads; earlier versions stay readable only by version id. */
  isLatest: boolean;
  isDeleteMarker: boolean;
}

/** What rewriting one object did. */
export interface ObjectRewrite {
  /** Rows (records, lines) removed; 0 means the object was left as it was. */
  removed: number;
  /** SHA-256 hex of the stored bytes before and after (what the ingest's content dedupe compares). */
  previousSha256?: string;
  sha256?: string;
  /** The version the rewrite wrote, when the store keeps versions. */
  versionId?: string;
  /**
   * The version the rewrite was made from (it held the customer). Usually the one listed; another
   * when a concurrent writer replaced the object meanwhile and the rewrite read it again.
   */
  replacedVersionId?: string;
}

export interface ErasureObjectStore {
  /** Every stored version under `prefix`, delete markers included (a store without versions: every object). */
  listVersions(prefix: string): Promise<StoredVersion[]>;
  /**
   * Rewrites the current object without the customer's rows, in the same format (a Parquet object
   * keeps its columns, types and compression; a text file its encoding, line endings and gzip). When
   * rows are removed, `beforeWrite` runs with the new content's hash before the object is replaced.
   */
  rewriteWithout(
    key: string,
    format: PersonalDataFormat,
    target: ErasureTarget,
    beforeWrite?: (
      rewrite: Required<Omit<ObjectRewrite, 'versionId' | 'replacedVersionId'>>,
    ) => Promise<void>,
  ): Promise<ObjectRewrite>;
  /** Whether one stored (earlier) version holds the customer. */
  versionHolds(version: StoredVersion, format: PersonalDataFormat, target: ErasureTarget): Promise<boolean>;
  /** Deletes one stored version for good. */
  deleteVersion(version: StoredVersion): Promise<void>;
}

/** Personal data kept outside the bucket (locally: the warehouse mirror, event files, the inbox). */
export interface LocalPersonalData {
  /** Removes the customer's rows from every such file; returns the files changed and rows removed. */
  erase(target: ErasureTarget): Promise<{ files: number; rows: number }>;
}
