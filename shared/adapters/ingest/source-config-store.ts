/**
 * Loads a source's column-mapping config from the bucket; no file means automatic mapping, a bad one
 * fails the ingest naming the file and the field.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sourceConfigKey } from '#domain/bucket-layout.ts';
import {
  parseSourceConfigText,
  type SourceConfig,
  sourceConfigSchema,
} from '#domain/ingest/source-config.ts';

/**
 * Reads `config/sources/<source>.json`; a missing file means automatic column mapping (`{}`). A bad
 * file throws an `IngestFileError` (`config_invalid`) whose message names the file and the field.
 */
export async function loadSourceConfig(s3: S3Client, bucket: string, source: string): Promise<SourceConfig> {
  const key = sourceConfigKey(source);
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return sourceConfigSchema.parse({});
    throw error;
  }
  return parseSourceConfigText(text, key);
}
