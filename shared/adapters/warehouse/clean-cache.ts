/**
 * A local mirror of `clean/transactions/` for DuckDB. The local S3 stand-in keeps objects in its own
 * on-disk layout and DuckDB cannot read `s3://` offline, so the DuckDB warehouse reads this copy.
 * The sync is incremental: an object is downloaded again only when its ETag changed or its local
 * copy no longer has the object's size (truncated, damaged), and local files whose object is gone
 * (erasure rewrites, deletions) are removed. Every download is checked against the object (length,
 * MD5 where the ETag is one, Parquet magic bytes), so a damaged object is named, not read.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CLEAN_TRANSACTIONS_PREFIX } from '#domain/bucket-layout.ts';
import { CvmError } from '#domain/errors.ts';
import { listCleanParquetObjects } from './clean-sources.ts';

const MANIFEST = 'sync-manifest.json';
const DATA_DIR = 'data';
const PARALLEL_DOWNLOADS = 8;

export interface CleanCacheSyncReport {
  /** Parquet objects under the prefix. */
  objects: number;
  downloaded: number;
  removed: number;
  unchanged: number;
}

export interface CleanCache {
  /** Root under which the object keys are mirrored (`<dataDir>/clean/transactions/...`). */
  readonly dataDir: string;
  /** Glob DuckDB reads; only valid when {@link CleanCache.sync} reported objects > 0. */
  readonly parquetGlob: string;
  sync(): Promise<CleanCacheSyncReport>;
}

type Manifest = Record<string, string>;

/** A clean object that is not a readable Parquet file (damaged, truncated, replaced by hand). */
export class CleanObjectUnreadableError extends CvmError {
  override readonly name = 'CleanObjectUnreadableError';
  readonly code = 'clean_object_unreadable';
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`The clean data object ${key} cannot be read: ${problem}.`);
  }
}

const PARQUET_MAGIC = Buffer.from('PAR1');
/** An ETag that is the MD5 of the object (single-part upload, no KMS): 32 hex digits in quotes. */
const MD5_ETAG = /^"?([0-9a-f]{32})"?$/;

/** Checks downloaded bytes against what the listing says the object is. */
function verifyObject(key: string, bytes: Uint8Array, eTag: string, size: number | undefined): void {
  if (size !== undefined && bytes.length !== size) {
    throw new CleanObjectUnreadableError(key, `${bytes.length} bytes arrived of ${size}`);
  }
  const md5 = MD5_ETAG.exec(eTag)?.[1];
  if (md5 && createHash('md5').update(bytes).digest('hex') !== md5) {
    throw new CleanObjectUnreadableError(key, 'its bytes do not match the object checksum (ETag)');
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    buffer.length < 12 ||
    !buffer.subarray(0, 4).equals(PARQUET_MAGIC) ||
    !buffer.subarray(buffer.length - 4).equals(PARQUET_MAGIC)
  ) {
    throw new CleanObjectUnreadableError(key, 'it is not a Parquet file (no PAR1 header and footer)');
  }
}

/** Object keys become file paths: reject anything that could escape the cache directory. */
function assertSafeKey(key: string): void {
  const segments = key.split('/');
  if (key.includes('\\') || key.includes('\0') || segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw new Error(`Refusing to mirror S3 key '${key}': it is not a plain relative path`);
  }
}

/**
 * @param directory cache root (e.g. `CVM_HOME/warehouse`, or a temp dir in tests); created if missing.
 * @param prefix the clean data set to mirror; each has its own manifest beside the shared data folder.
 */
export function createCleanCache(
  s3: S3Client,
  bucket: string,
  directory: string,
  prefix: string = CLEAN_TRANSACTIONS_PREFIX,
): CleanCache {
  const dataDir = join(directory, DATA_DIR);
  const manifestPath = join(
    directory,
    prefix === CLEAN_TRANSACTIONS_PREFIX
      ? MANIFEST
      : MANIFEST.replace('.json', `-${prefix.split('/').filter(Boolean).join('-')}.json`),
  );
  const localPath = (key: string) => join(dataDir, ...key.split('/'));

  async function readManifest(): Promise<Manifest> {
    try {
      return JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    } catch {
      return {};
    }
  }

  async function download(key: string, size: number | undefined): Promise<void> {
    const target = localPath(key);
    await mkdir(dirname(target), { recursive: true });
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`s3://${bucket}/${key}: empty response body`);
    const bytes = await response.Body.transformToByteArray();
    verifyObject(key, bytes, response.ETag ?? '', size);
    // Write beside the target and rename, so DuckDB never sees a half-written file.
    const partial = `${target}.${randomUUID()}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, target);
  }

  return {
    dataDir,
    parquetGlob: `${join(dataDir, ...prefix.split('/').filter(Boolean))}${sep}**${sep}*.parquet`,
    async sync() {
      await mkdir(dataDir, { recursive: true });
      const previous = await readManifest();
      const current: Manifest = {};
      const sizes = new Map<string, number | undefined>();
      for await (const object of listCleanParquetObjects(s3, bucket, prefix)) {
        assertSafeKey(object.key);
        current[object.key] = object.eTag ?? '';
        sizes.set(object.key, object.size);
      }

      const stale: string[] = [];
      for (const [key, eTag] of Object.entries(current)) {
        const localSize = await sizeOf(localPath(key));
        const sizeChanged = sizes.get(key) !== undefined && localSize !== sizes.get(key);
        if (previous[key] !== eTag || eTag === '' || localSize === undefined || sizeChanged) stale.push(key);
      }
      const gone = Object.keys(previous).filter((key) => !(key in current));
      for (let i = 0; i < stale.length; i += PARALLEL_DOWNLOADS) {
        await Promise.all(stale.slice(i, i + PARALLEL_DOWNLOADS).map((key) => download(key, sizes.get(key))));
      }
      await Promise.all(gone.map((key) => rm(localPath(key), { force: true })));
      const manifestPartial = `${manifestPath}.${randomUUID()}.partial`;
      await writeFile(manifestPartial, JSON.stringify(current, null, 1));
      await rename(manifestPartial, manifestPath);
      return {
        objects: Object.keys(current).length,
        downloaded: stale.length,
        removed: gone.length,
        unchanged: Object.keys(current).length - stale.length,
      };
    },
  };
}

/** Size of a local file in bytes, or undefined when it does not exist. */
async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
