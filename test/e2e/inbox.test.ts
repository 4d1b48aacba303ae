/**
 * The inbox watcher of `cvm up` on a real folder: which files are handed over, under which source,
 * where they end up, and what closing does to a file in progress.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InboxFile, type InboxWatcher, watchInbox } from '#infra/local/inbox.ts';
import { pollUntil } from '../support/cvm-up.ts';

describe('inbox watcher', () => {
  let dir: string;
  let watcher: InboxWatcher | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cvm-inbox-'));
  });
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('hands each file over once with its source and files it under .done or .failed', async () => {
    mkdirSync(join(dir, 'shop-a'));
    writeFileSync(join(dir, 'top.csv'), 'a');
    writeFileSync(join(dir, 'shop-a', 'orders.csv'), 'b');
    writeFileSync(join(dir, 'refused.csv'), 'c');
    writeFileSync(join(dir, 'crash.csv'), 'd');
    // Names a person's tools use while a file is still being written: never taken.
    writeFileSync(join(dir, '.orders.csv.partial'), 'e');
    writeFileSync(join(dir, 'download.csv.part'), 'f');
    writeFileSync(join(dir, '~lock.csv'), 'g');

    const handed: InboxFile[] = [];
    const errors: string[] = [];
    watcher = watchInbox({
      dir,
      settleMs: 100,
      async onFile(file) {
        handed.push(file);
        if (file.fileName === 'crash.csv') throw new Error('ingest crashed');
        return file.fileName === 'refused.csv' ? 'failed' : 'done';
      },
      onError(file, error) {
        errors.push(`${file.fileName}: ${(error as Error).message}`);
      },
    });

    await pollUntil(
      async () => (existsSync(join(dir, '.failed', 'crash.csv')) && handed.length >= 4 ? true : undefined),
      {
        timeoutMs: 20_000,
        what: 'four files handed over',
        context: () => JSON.stringify(handed),
      },
    );
    const bySource = handed.map((f) => `${f.source}:${f.fileName}`).sort();
    expect(bySource).toEqual(['inbox:crash.csv', 'inbox:refused.csv', 'inbox:top.csv', 'shop-a:orders.csv']);
    expect(handed.find((f) => f.fileName === 'orders.csv')?.path).toBe(join(dir, 'shop-a', 'orders.csv'));
    expect(errors).toEqual(['crash.csv: ingest crashed']);

    expect(existsSync(join(dir, '.done', 'top.csv'))).toBe(true);
    expect(existsSync(join(dir, '.done', 'shop-a', 'orders.csv'))).toBe(true);
    expect(existsSync(join(dir, '.failed', 'refused.csv'))).toBe(true);
    expect(existsSync(join(dir, 'top.csv'))).toBe(false);
    for (const ignored of ['.orders.csv.partial', 'download.csv.part', '~lock.csv']) {
      expect(existsSync(join(dir, ignored)), ignored).toBe(true);
    }

    // A file renamed into place later is taken too, exactly once.
    writeFileSync(join(dir, 'late.csv'), 'h');
    await pollUntil(async () => (existsSync(join(dir, '.done', 'late.csv')) ? true : undefined), {
      timeoutMs: 20_000,
      what: 'late.csv to be handed over',
    });
    expect(handed.filter((f) => f.fileName === 'late.csv')).toHaveLength(1);
    expect(handed).toHaveLength(5);
  }, 60_000);

  it('close() waits for the file in progress and leaves queued files for the next start', async () => {
    writeFileSync(join(dir, 'first.csv'), '1');
    writeFileSync(join(dir, 'second.csv'), '2');
    let release!: () => void;
    const inProgress = new Promise<void>((r) => {
      release = r;
    });
    const handed: string[] = [];
    watcher = watchInbox({
      dir,
      settleMs: 100,
      async onFile(file) {
        handed.push(file.fileName);
        await inProgress;
        return 'done';
      },
      onError() {},
    });
    await pollUntil(async () => (handed.length > 0 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the first file to be handed over',
    });

    let closed = false;
    const closing = watcher.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(closed, 'close() must wait for the ingest in progress').toBe(false);
    release();
    await closing;
    watcher = undefined;

    expect(handed).toHaveLength(1);
    const [taken] = handed;
    const left = taken === 'first.csv' ? 'second.csv' : 'first.csv';
    expect(existsSync(join(dir, '.done', taken!))).toBe(true);
    expect(existsSync(join(dir, left)), `${left} stays in the inbox`).toBe(true);
  }, 60_000);
});
