/**
 * Runs the analyst commands (`cvm summarize`, `fit`, `predict`) as a child process the way an analyst
 * does, and reads their CSV output: shared by the CLI end-to-end tests.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A CDNOW reference file of test/fixtures/cdnow/. */
export const cdnowFixture = (name: string) => join(PROJECT_ROOT, 'test/fixtures/cdnow', name);

export async function cvm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'infra/cli/main.ts'), ...args],
      { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A simple CSV (no quoted fields) as objects by header name. */
export function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])));
}
