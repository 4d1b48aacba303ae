/**
 * Runs `cvm up` (what `npm start` runs) as a child process, the way a person starts it: the real CLI
 * entry `infra/cli/cvm.js`, its own CVM_HOME, stdin closed. Shared by the end-to-end test, the
 * browser test and the start-up benchmark, so all three measure and exercise the same thing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CVM_BIN = join(PROJECT_ROOT, 'infra', 'cli', 'cvm.js');

/** The line `cvm up` prints on stdout once the API answers; everything before it is set-up. */
export const READY_LINE = /^serving (http:\/\/127\.0\.0\.1:(\d+))$/m;

export interface CvmUpOptions {
  /** CVM_HOME of the process: its S3 objects, DynamoDB files, warehouse cache and inbox. */
  home: string;
  port: number;
  /** `--debounce`: wait after the last dropped file before recalculating. */
  debounceMs?: number;
  /** Extra command-line arguments after `up`. */
  args?: string[];
  /** Added to the environment (which never carries the caller's CVM_API_KEY / CVM_ADMIN_KEY). */
  env?: Record<string, string>;
}

export interface CvmUpExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CvmUpProcess {
  readonly child: ChildProcess;
  readonly home: string;
  readonly port: number;
  /** Milliseconds since the spawn. */
  elapsedMs(): number;
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited. */
  readonly exited: Promise<CvmUpExit>;
  /** The exit, once it happened; null while running. */
  exit(): CvmUpExit | null;
  /**
   * Resolves with the first match of `pattern` in stdout (or stderr) printed so far or later; rejects
   * when the process exits first or after `timeoutMs`, quoting the output so a failure explains itself.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  /** Waits for the readiness line and returns the URL it names. */
  waitForReady(timeoutMs?: number): Promise<string>;
  /** Ctrl-C: SIGINT, then waits for the exit (SIGKILL and rejection after `timeoutMs`). */
  interrupt(timeoutMs?: number): Promise<CvmUpExit>;
  /** Last resort for clean-up after a failed test: SIGKILL when still running. */
  kill(): Promise<void>;
  /** The tail of both streams, for assertion messages. */
  transcript(maxChars?: number): string;
}

/** Environment of the child: the caller's, without API keys (the tests call the API without one). */
function childEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CVM_HOME: home, ...extra };
  delete env.CVM_API_KEY;
  delete env.CVM_ADMIN_KEY;
  delete env.CVM_CORS_ORIGINS;
  return env;
}

export function spawnCvmUp(options: CvmUpOptions): CvmUpProcess {
  const args = [CVM_BIN, 'up', '--port', String(options.port)];
  if (options.debounceMs !== undefined) args.push('--debounce', String(options.debounceMs));
  args.push(...(options.args ?? []));
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: childEnv(options.home, options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exitInfo: CvmUpExit | null = null;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  const exited = new Promise<CvmUpExit>((resolveExit) => {
    // 'close' (not 'exit'): all output has been read by then.
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      resolveExit(exitInfo);
      notify();
    });
    child.once('error', (error) => {
      err += `\n[spawn error] ${error.message}`;
      exitInfo = { code: null, signal: null };
      resolveExit(exitInfo);
      notify();
    });
  });

  const transcript = (maxChars = 4000) => {
    const tail = (text: string) => (text.length > maxChars ? `…${text.slice(-maxChars)}` : text);
    return `--- stdout ---\n${tail(out)}\n--- stderr ---\n${tail(err)}`;
  };

  const proc: CvmUpProcess = {
    child,
    home: options.home,
    port: options.port,
    elapsedMs: () => performance.now() - started,
    stdout: () => out,
    stderr: () => err,
    exited,
    exit: () => exitInfo,
    transcript,
    waitForOutput(pattern, timeoutMs, stream) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const text = stream === 'stderr' ? err : stream === 'stdout' ? out : `${out}\n${err}`;
          const match = text.match(pattern);
          if (match) return finish(() => resolveMatch(match));
          if (exitInfo) {
            return finish(() =>
              reject(
                new Error(
                  `cvm up exited (code ${exitInfo?.code}, signal ${exitInfo?.signal}) before printing ${pattern}\n${transcript()}`,
                ),
              ),
            );
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`cvm up did not print ${pattern} within ${timeoutMs} ms\n${transcript()}`)),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async waitForReady(timeoutMs = 90_000) {
      const match = await proc.waitForOutput(READY_LINE, timeoutMs, 'stdout');
      return match[1]!;
    },
    async interrupt(timeoutMs = 30_000) {
      if (!exitInfo) child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`cvm up did not stop within ${timeoutMs} ms of SIGINT\n${transcript()}`);
      }
      return outcome;
    },
    async kill() {
      if (exitInfo) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  return proc;
}

/** Spawns `cvm up` and waits for its readiness line. On failure the process is killed. */
export async function startCvmUp(
  options: CvmUpOptions & { readyTimeoutMs?: number },
): Promise<{ cvm: CvmUpProcess; url: string }> {
  const cvm = spawnCvmUp(options);
  try {
    const url = await cvm.waitForReady(options.readyTimeoutMs);
    return { cvm, url };
  } catch (error) {
    await cvm.kill();
    throw error;
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function tempCvmHome(prefix = 'cvm-up-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Drops a file into an inbox the way a careful person or script does: written under a dot-name
 * (which the watcher ignores), then renamed, so the watcher never sees it half-written.
 */
export function dropIntoInbox(inboxDir: string, fileName: string, content: string): string {
  mkdirSync(inboxDir, { recursive: true });
  const partial = join(inboxDir, `.${fileName}.partial`);
  const target = join(inboxDir, fileName);
  writeFileSync(partial, content);
  renameSync(partial, target);
  return target;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export async function getJson(url: string): Promise<JsonResponse> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text, the caller's assertion shows it.
  }
  return { status: response.status, body };
}

/** Calls `probe` every `intervalMs` until it returns a value other than undefined, or fails with `what`. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; what: string; context?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(
    `timed out after ${options.timeoutMs} ms waiting for ${options.what}${cause}${options.context ? `\n${options.context()}` : ''}`,
  );
}
