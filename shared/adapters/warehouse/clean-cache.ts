/**
 * A local mirror of `clean/transactions/` for DuckDB. The local S3 stand-in keeps objects in its own
 * on-disk layout and DuckDB cannot read `s3://` offline, so the DuckDB warehouse reads this copy.
 * The sync is incremental: an object is downloaded again only when its ETag changed, and local files
 * whose object is gone (erasure rewrites, deletions) are removed.
 */
import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CLEAN_TRANSACTIONS_PREFIX } from '#domain/bucket-layout.ts';
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

  async function download(key: string): Promise<void> {
    const target = localPath(key);
    await mkdir(dirname(target), { recursive: true });
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`s3://${bucket}/${key}: empty response body`);
    // Write beside the target and rename, so DuckDB never sees a half-written file.
    const partial = `${target}.${randomUUID()}.partial`;
    await writeFile(partial, await response.Body.transformToByteArray());
    await rename(partial, target);
  }

  return {
    dataDir,
    parquetGlob: `${join(dataDir, ...prefix.split('/').filter(Boolean))}${sep}**${sep}*.parquet`,
    async sync() {
      await mkdir(dataDir, { recursive: true });
      const previous = await readManifest();
      const current: Manifest = {};
      for await (const object of listCleanParquetObjects(s3, bucket, prefix)) {
        assertSafeKey(object.key);
        current[object.key] = object.eTag ?? '';
      }

      const stale: string[] = [];
      for (const [key, eTag] of Object.entries(current)) {
        if (previous[key] !== eTag || eTag === '' || !(await exists(localPath(key)))) stale.push(key);
      }
      const gone = Object.keys(previous).filter((key) => !(key in current));
      for (let i = 0; i < stale.length; i += PARALLEL_DOWNLOADS) {
        await Promise.all(stale.slice(i, i + PARALLEL_DOWNLOADS).map(download));
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

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
