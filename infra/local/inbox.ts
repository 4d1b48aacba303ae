import { existsSync, mkdirSync, readdirSync, renameSync, statSync, watch } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';

/**
 * Watches a folder for export files dropped by a person: each file is handed over once, after its size
 * stopped changing (a copy in progress must not be ingested half-written), then moved to
 * `<inbox>/.done/` (or `<inbox>/.failed/`) so a restart does not ingest it again.
 *
 * A file directly in the inbox belongs to source `inbox`; a file in `<inbox>/<source>/` to `<source>`.
 * A file named `mapping.json` is not data: it is the source's mapping config (columns, currency, …),
 * taken before the source's exports of the same scan.
 */
export interface InboxFile {
  path: string;
  source: string;
  fileName: string;
  /** `mapping`: the source's mapping config (`mapping.json`), to store rather than ingest. */
  kind: 'export' | 'mapping';
}

/** The name of a source's mapping config in the inbox. */
export const INBOX_MAPPING_FILE = 'mapping.json';

/** Where a handled file goes: `.done/`, or `.failed/` when its content was refused. */
export type InboxOutcome = 'done' | 'failed';

export interface InboxWatcher {
  /** Stops watching; resolves once the file being handed over (if any) is finished and moved. */
  close(): Promise<void>;
}

export interface InboxWatcherOptions {
  dir: string;
  onFile(file: InboxFile): Promise<InboxOutcome>;
  /** A thrown `onFile`: the file is moved to `.failed/`. */
  onError(file: InboxFile, error: unknown): void;
  /** How long a file's size must stay unchanged before it is taken. @default 500 */
  settleMs?: number;
}

const IGNORED = /^(\.|~|.*\.(tmp|part|crdownload|swp)$)/i;

export function watchInbox(options: InboxWatcherOptions): InboxWatcher {
  const { dir } = options;
  const settleMs = options.settleMs ?? 500;
  mkdirSync(dir, { recursive: true });
  const pending = new Map<string, { size: number; since: number }>();
  const busy = new Set<string>();
  let closed = false;
  let queue = Promise.resolve();

  const scan = () => {
    if (closed) return;
    let files: string[];
    try {
      files = listFiles(dir);
    } catch {
      // The folder was removed or renamed while watched: recreate it rather than crash the process.
      mkdirSync(dir, { recursive: true });
      return;
    }
    for (const path of files) {
      if (busy.has(path)) continue;
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        continue; // removed meanwhile
      }
      const seen = pending.get(path);
      const now = Date.now();
      if (!seen || seen.size !== size) {
        pending.set(path, { size, since: now });
        continue;
      }
      if (now - seen.since < settleMs) continue;
      pending.delete(path);
      busy.add(path);
      const rel = relative(dir, path).split(sep);
      const fileName = basename(path);
      const file: InboxFile = {
        path,
        fileName,
        source: rel.length > 1 ? rel[0]! : 'inbox',
        kind: fileName.toLowerCase() === INBOX_MAPPING_FILE ? 'mapping' : 'export',
      };
      // One file at a time: ingests share the local DuckDB temp space and the recalculation debounce.
      queue = queue
        .then(async () => {
          // Closed while queued: leave the file where it is; the next start takes it.
          if (closed) return;
          let outcome: InboxOutcome;
          try {
            outcome = await options.onFile(file);
          } catch (error) {
            options.onError(file, error);
            outcome = 'failed';
          }
          moveTo(dir, outcome === 'done' ? '.done' : '.failed', path);
        })
        // A file that cannot be moved must not stop the queue for the files after it.
        .catch((error: unknown) => options.onError(file, error))
        .finally(() => busy.delete(path));
    }
  };

  // fs.watch is unreliable across platforms and misses files that were there before start: poll too.
  const watcher = watch(dir, { recursive: false }, () => scan());
  watcher.on('error', () => {}); // e.g. the folder was removed: the polling below carries on
  const timer = setInterval(scan, Math.max(100, Math.floor(settleMs / 2)));
  scan();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      watcher.close();
      await queue;
    },
  };
}

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (IGNORED.test(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isFile()) files.push(path);
    else if (entry.isDirectory()) {
      for (const inner of readdirSync(path, { withFileTypes: true })) {
        if (inner.isFile() && !IGNORED.test(inner.name)) files.push(join(path, inner.name));
      }
    }
  }
  // Mappings first: a source's exports dropped together with its mapping must be read with it.
  const isMapping = (path: string) => basename(path).toLowerCase() === INBOX_MAPPING_FILE;
  return [...files.filter(isMapping), ...files.filter((path) => !isMapping(path))];
}

function moveTo(dir: string, folder: string, path: string) {
  const target = join(dir, folder, relative(dir, path));
  mkdirSync(join(target, '..'), { recursive: true });
  if (existsSync(path)) renameSync(path, target);
}
