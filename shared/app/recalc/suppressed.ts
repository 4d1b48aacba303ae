/** The suppression list as `prepare` snapshotted it for the run (read by fitModels and scorePart). */
import type { RecalcDeps } from './types.ts';

export async function loadSuppressed(
  deps: Pick<RecalcDeps, 'files'>,
  run: { suppressedKey: string },
): Promise<Set<string>> {
  const stored = await deps.files.getJson(run.suppressedKey);
  return new Set(Array.isArray(stored) ? (stored as string[]) : []);
}
