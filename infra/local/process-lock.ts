/**
 * Which local process holds something: the stand-ins' state directory (dynalite's LevelDB files open
 * in one process only) and ingest leases. Same-host process ids let a new command tell a busy home from
 * one left behind by a process that was killed, and take over at once instead of waiting or crashing.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CvmError } from '#domain/errors.ts';

/** This process as a lease holder: `local:<host>:<pid>`. */
export function localProcessId(): string {
  return `local:${hostname()}:${process.pid}`;
}

/** Whether a process on this host with this id is running (an id from another host: unknown → alive). */
export function isLocalProcessAlive(holder: string): boolean {
  const match = /^local:(.+):(\d+)$/.exec(holder);
  if (!match || match[1] !== hostname()) return true;
  const pid = Number(match[2]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A holder that is a local process known to be gone (killed, crashed): its lease may be taken over. */
export const isDeadLocalProcess = (holder: string | null | undefined): boolean =>
  typeof holder === 'string' && holder.startsWith('local:') && !isLocalProcessAlive(holder);

/** Another live process uses the local stack's state directory. */
export class StackBusyError extends CvmError {
  override readonly name = 'StackBusyError';
  readonly code = 'stack_busy';
}

/**
 * Takes `<home>/stack.lock` for this process, or throws {@link StackBusyError} naming the process that
 * holds it. A lock left by a process that no longer runs is taken over. Returns the release function.
 */
export function lockStackHome(home: string): () => void {
  const file = join(resolve(home), 'stack.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, localProcessId());
      closeSync(fd);
      return () => {
        if (readHolder(file) === localProcessId()) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder && !isDeadLocalProcess(holder)) {
      const pid = holder.slice(holder.lastIndexOf(':') + 1);
      throw new StackBusyError(
        `The local stack in ${resolve(home)} is in use by another cvm process (pid ${pid}). ` +
          'Wait for it to finish, or keep `cvm up` (or `cvm serve`) running: other commands then share its stack.',
      );
    }
    // Left behind by a process that is gone: take it over.
    rmSync(file, { force: true });
  }
  throw new StackBusyError(
    `Could not lock the local stack in ${resolve(home)}: another process keeps taking it`,
  );
}

function readHolder(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
