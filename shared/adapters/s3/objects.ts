/**
 * The one set of S3 object helpers every adapter uses: paginated listing, JSON/text get and put,
 * streamed multi-file uploads and moves. Missing objects read as `undefined` where that is a normal
 * answer; every other S3 error propagates for the caller's retry policy.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface ListedObject {
  key: string;
  eTag: string | undefined;
  size: number | undefined;
}

/** Every object under a prefix, page by page (in S3's key order). */
export async function* listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedObject> {
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    for (const { Key: key, ETag: eTag, Size: size } of page.Contents ?? []) {
      if (key) yield { key, eTag, size };
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
}

/** Every key under a prefix, sorted. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of listObjects(s3, bucket, prefix)) keys.push(key);
  return keys.sort();
}

/** JSON object, or `undefined` when the key does not exist. */
export async function getJsonObject(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  let body: string | undefined;
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = await got.Body?.transformToString('utf8');
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
    throw error;
  }
  try {
    return JSON.parse(body ?? '');
  } catch (error) {
    throw new Error(`s3://${bucket}/${key} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function putTextObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  contentType = 'application/json',
): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

export async function getTextObject(s3: S3Client, bucket: string, key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await got.Body?.transformToString('utf8')) ?? '';
}

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

/** Deletes every object under a prefix (unload targets must be empty; a retried step starts clean). */
export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  if (!prefix.endsWith('/') || prefix.length < 2) {
    throw new Error(`Refusing to delete under '${prefix}': a prefix must be a non-root folder ending in '/'`);
  }
  let deleted = 0;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) return deleted;
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
    );
    if (result.Errors?.length) {
      const first = result.Errors[0];
      throw new Error(`Could not delete s3://${bucket}/${first?.Key}: ${first?.Code} ${first?.Message}`);
    }
    deleted += keys.length;
  }
}
