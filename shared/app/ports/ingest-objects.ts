/**
 * The ingest's object storage port: reading an uploaded export and its source config, writing the
 * clean and rejected objects, and moving a file to quarantine. Keys come from the bucket layout.
 */
import type { SourceConfig } from '#domain/ingest/source-config.ts';

/** One uploaded object, as identified by its S3 event. */
export interface IngestObjectRef {
  bucket: string;
  /** The decoded object key. */
  key: string;
  versionId?: string;
  eTag?: string;
  /** S3's event sequencer; identifies the write when the bucket is unversioned and no ETag is known. */
  sequencer?: string;
}

export interface IngestObjectStore {
  /** The source's config; a missing one is `{}` (automatic mapping), a bad one an `IngestFileError`. */
  loadSourceConfig(source: string): Promise<SourceConfig>;
  /** The stored bytes of the upload, streamed; a vanished object is an `IngestFileError` (`object_missing`). */
  openUpload(ref: IngestObjectRef): Promise<AsyncIterable<Uint8Array>>;
  /** Writes local working files, concatenated, as one object of the data bucket. */
  putFiles(key: string, contentType: string, files: string[]): Promise<void>;
  /** Moves the upload to `quarantineKey`. */
  quarantine(ref: IngestObjectRef, quarantineKey: string): Promise<void>;
}
