/**
 * Personal data the local stack keeps outside its bucket, under its home directory: the warehouse's
 * mirror of clean Parquet, the change-event files (the local stand-in for EventBridge) and the
 * exports handed over through the inbox (`.done/`, `.failed/`). Erasure rewrites them like the
 * bucket's objects.
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalPersonalData } from '#app/ports/erasure.ts';
import type { PersonalDataFormat } from '#domain/bucket-layout.ts';
import { CLEAN_DATA_PREFIXES } from '#domain/bucket-layout.ts';
import { createCleanCache } from '../warehouse/clean-cache.ts';
import { eraseFromStoredText } from './s3-erasure-objects.ts';

export interface LocalPersonalDataOptions {
  home: string;
  s3: S3Client;
  bucket: string;
  /** The warehouse mirror. @default `<home>/warehouse` */
  warehouseDirectory?: string;
  /** The `cvm up` inbox. @default `<home>/inbox` */
  inboxDirectory?: string;
  /**
   * Purges deleted table items from the local table's files (LevelDB keeps them until a compaction).
   * @default nothing
   */
  purgeDeletedItems?: () => void;
}

/** Every file under `dir` (recursively), or none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

export function createLocalPersonalData(options: LocalPersonalDataOptions): LocalPersonalData {
  const { home } = options;
  const inbox = options.inboxDirectory ?? join(home, 'inbox');
  return {
    async erase(target) {
      let files = 0;
      let rows = 0;
      const rewrite = async (path: string, format: PersonalDataFormat) => {
        const erased = eraseFromStoredText(await readFile(path), path, format, target);
        if (erased.removed === 0 || !erased.bytes) return;
        // Beside the file, then renamed: a reader never sees half a file.
        const partial = `${path}.${process.pid}.erasing`;
        await writeFile(partial, erased.bytes);
        await rename(partial, path);
        files++;
        rows += erased.removed;
      };
      for (const path of await filesUnder(join(home, 'events'))) {
        if (/\.jsonl$/.test(path)) await rewrite(path, 'jsonl');
      }
      // Handed-over exports: only those moved aside (a file still in the inbox is about to be ingested,
      // and its rows of an erased customer are dropped then).
      for (const folder of ['.done', '.failed']) {
        for (const path of await filesUnder(join(inbox, folder))) await rewrite(path, 'export');
      }
      // The mirror downloads every object whose ETag changed (the rewritten ones) and drops deleted ones,
      // for every clean data set the warehouse mirrors (transactions, attributes, subscriptions).
      for (const prefix of CLEAN_DATA_PREFIXES) {
        const synced = await createCleanCache(
          options.s3,
          options.bucket,
          options.warehouseDirectory ?? join(home, 'warehouse'),
          prefix,
        ).sync();
        files += synced.downloaded + synced.removed;
      }
      options.purgeDeletedItems?.();
      return { files, rows };
    },
  };
}
