import type { S3Client } from '@aws-sdk/client-s3';
import { CLEAN_TRANSACTIONS_PREFIX, cleanSourcesOf } from '#domain/bucket-layout.ts';
import { listObjects } from '../s3/objects.ts';

/**
 * The sources that have clean data: the `source=<name>/` folders under `clean/transactions/`.
 * The recalculation passes them to the statements (`sources`), because Athena's injected partition
 * projection on `source` needs the values in the query. Empty when nothing has been ingested.
 *
 * Lists the objects rather than asking for CommonPrefixes with a delimiter: the local S3 stand-in
 * (s3rver 3.7) answers delimiter listings of these keys with no prefixes at all. One clean file per
 * ingested export keeps the listing small.
 */
export async function listCleanSources(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of listCleanParquetObjects(s3, bucket)) keys.push(key);
  return cleanSourcesOf(keys);
}

/** Every Parquet object under `prefix` (default `clean/transactions/`), page by page. */
export async function* listCleanParquetObjects(
  s3: S3Client,
  bucket: string,
  prefix: string = CLEAN_TRANSACTIONS_PREFIX,
): AsyncGenerator<{ key: string; eTag: string | undefined; size: number | undefined }> {
  for await (const { key, eTag, size } of listObjects(s3, bucket, prefix)) {
    if (key.endsWith('.parquet')) yield { key, eTag, size };
  }
}
