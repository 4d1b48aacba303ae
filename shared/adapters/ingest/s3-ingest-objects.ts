/**
 * The ingest's object store on S3: the upload and its source config are read from the data bucket,
 * clean and rejected objects streamed into it, and a quarantined file moved within it.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { IngestObjectRef, IngestObjectStore } from '#app/ports/ingest-objects.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';
import { moveObject, uploadFiles } from '../s3/objects.ts';
import { loadSourceConfig } from './source-config-store.ts';

export class S3IngestObjects implements IngestObjectStore {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
  }

  loadSourceConfig(source: string): Promise<SourceConfig> {
    return loadSourceConfig(this.#s3, this.#bucket, source);
  }

  async openUpload(ref: IngestObjectRef): Promise<AsyncIterable<Uint8Array>> {
    const object = await this.#s3
      .send(
        new GetObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          ...(ref.versionId ? { VersionId: ref.versionId } : {}),
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name === 'NoSuchKey') {
          throw new IngestFileError('object_missing', `${ref.key}: the object no longer exists`);
        }
        throw error;
      });
    if (!object.Body) throw new IngestFileError('object_missing', `${ref.key}: the object has no body`);
    return object.Body as AsyncIterable<Uint8Array>;
  }

  putFiles(key: string, contentType: string, files: string[]): Promise<void> {
    return uploadFiles(this.#s3, { bucket: this.#bucket, key, contentType }, files);
  }

  quarantine(ref: IngestObjectRef, quarantineKey: string): Promise<void> {
    return moveObject(this.#s3, ref.bucket, ref.key, quarantineKey);
  }
}
