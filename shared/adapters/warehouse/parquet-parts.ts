/**
 * Reads the Parquet parts a warehouse unload wrote to S3, row group by row group, with the pure-JS
 * `hyparquet` reader: the scoring Lambda reads DuckDB's and Athena's output the same way and does not
 * need the 70 MB DuckDB binary.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type AsyncBuffer, type Compressors, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { listObjects } from '../s3/objects.ts';

/** Parts up to this size are fetched in one GET; larger ones by byte ranges (footer, then row groups). */
const WHOLE_OBJECT_BYTES = 16 * 1024 * 1024;

/**
 * SNAPPY is built into hyparquet; GZIP (Athena UNLOAD's Parquet default, should a workgroup
 * override our SNAPPY setting) comes from node:zlib.
 */
const COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
};

export interface ParquetPartObject {
  key: string;
  size: number;
}

/**
 * The Parquet parts under a prefix, sorted by key. Skips "folder" markers, empty objects and names
 * starting with '_' or '.' (markers such as `_SUCCESS`), none of which are data.
 */
export async function listParquetParts(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<ParquetPartObject[]> {
  const parts: ParquetPartObject[] = [];
  for await (const { key, size } of listObjects(s3, bucket, prefix)) {
    if (key.endsWith('/') || !size) continue;
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (name.startsWith('_') || name.startsWith('.')) continue;
    parts.push({ key, size });
  }
  return parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** An S3 object as hyparquet's AsyncBuffer: whole when small, by byte ranges when large. */
export async function s3AsyncBuffer(
  s3: S3Client,
  bucket: string,
  key: string,
  size?: number,
): Promise<AsyncBuffer> {
  const byteLength =
    size ?? (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
  const get = async (range?: string): Promise<ArrayBuffer> => {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    if (!response.Body) throw new Error(`s3://${bucket}/${key}: empty response body`);
    const bytes = await response.Body.transformToByteArray();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };
  if (byteLength <= WHOLE_OBJECT_BYTES) {
    const whole = await get();
    return { byteLength: whole.byteLength, slice: (start, end) => whole.slice(start, end) };
  }
  return {
    byteLength,
    slice: (start, end = byteLength) =>
      end <= start ? new ArrayBuffer(0) : get(`bytes=${start}-${end - 1}`),
  };
}

/**
 * Rows of one Parquet part, one batch per row group (DuckDB writes ~120k rows per row group; Athena
 * similar), so memory stays bounded by one row group whatever the part size.
 * Raw values: INT64 → bigint, DOUBLE → number, UTF8 → string, NULL → null.
 */
export async function* readParquetPart(
  s3: S3Client,
  bucket: string,
  key: string,
  size?: number,
): AsyncGenerator<Record<string, unknown>[]> {
  const file = await s3AsyncBuffer(s3, bucket, key, size);
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new Error(`s3://${bucket}/${key} is not a readable Parquet file: ${(error as Error).message}`);
  }
  let rowStart = 0;
  for (const rowGroup of metadata.row_groups) {
    const rowEnd = rowStart + Number(rowGroup.num_rows);
    if (rowEnd > rowStart) {
      yield (await parquetReadObjects({
        file,
        metadata,
        rowStart,
        rowEnd,
        compressors: COMPRESSORS,
      })) as Record<string, unknown>[];
    }
    rowStart = rowEnd;
  }
}

/**
 * Every row under a prefix, part after part, in batches (one per row group); with `decode`, typed rows
 * (e.g. `customerSummariesStatement(params).decode`). An empty or missing prefix yields nothing.
 */
export function readParquetParts(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<Record<string, unknown>[]>;
export function readParquetParts<Row>(
  s3: S3Client,
  bucket: string,
  prefix: string,
  decode: (raw: Record<string, unknown>) => Row,
): AsyncGenerator<Row[]>;
export async function* readParquetParts<Row>(
  s3: S3Client,
  bucket: string,
  prefix: string,
  decode?: (raw: Record<string, unknown>) => Row,
): AsyncGenerator<Row[] | Record<string, unknown>[]> {
  for (const part of await listParquetParts(s3, bucket, prefix)) {
    for await (const batch of readParquetPart(s3, bucket, part.key, part.size)) {
      yield decode ? batch.map(decode) : batch;
    }
  }
}
