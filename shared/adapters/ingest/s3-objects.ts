import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * Streams one or more local files, concatenated, to one S3 object (multipart above 8 MB), so even a
 * large Parquet or rejects file never sits in memory whole.
 */
export async function uploadFiles(
  s3: S3Client,
  target: { bucket: string; key: string; contentType: string },
  paths: string[],
): Promise<void> {
  const body =
    paths.length === 1
      ? createReadStream(paths[0] as string)
      : Readable.from(
          (async function* concatenated() {
            for (const path of paths) yield* createReadStream(path);
          })(),
        );
  const upload = new Upload({
    client: s3,
    params: { Bucket: target.bucket, Key: target.key, Body: body, ContentType: target.contentType },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  });
  await upload.done();
}

/** Moves an object within the bucket (copy, then delete the original). */
export async function moveObject(s3: S3Client, bucket: string, from: string, to: string): Promise<void> {
  // CopySource is `bucket/key` with the key URL-encoded per segment ("/" kept).
  const copySource = `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: from }));
}
