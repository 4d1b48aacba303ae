/** The run-files port on S3: the data bucket through the shared object helpers and the Parquet reader. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { RunFiles } from '#app/ports/run-files.ts';
import { listCleanParquetObjects } from '../warehouse/clean-sources.ts';
import { listParquetParts, readParquetParts } from '../warehouse/parquet-parts.ts';
import { deletePrefix, getJsonObject, getTextObject, listKeys, putTextObject } from './objects.ts';

export function createS3RunFiles(s3: S3Client, bucket: string): RunFiles {
  return {
    location: (key) => `s3://${bucket}/${key}`,
    getJson: (key) => getJsonObject(s3, bucket, key),
    getText: (key) => getTextObject(s3, bucket, key),
    putJson: (key, value) => putTextObject(s3, bucket, key, JSON.stringify(value)),
    putText: (key, text, contentType) => putTextObject(s3, bucket, key, text, contentType),
    listKeys: (prefix) => listKeys(s3, bucket, prefix),
    deletePrefix: (prefix) => deletePrefix(s3, bucket, prefix),
    listParts: async (prefix) => (await listParquetParts(s3, bucket, prefix)).map((part) => part.key),
    readParts: (prefix, decode) => readParquetParts(s3, bucket, prefix, decode),
    async listCleanObjects() {
      const keys: string[] = [];
      for await (const { key } of listCleanParquetObjects(s3, bucket)) keys.push(key);
      return keys;
    },
  };
}
