/**
 * One structured log line per recalculation step: step name, run id, duration and counts (never
 * customer ids or amounts), through the logger port.
 */
import type { AppLogger } from '../ports/logger.ts';

export async function loggedStep<T>(
  logger: AppLogger,
  step: string,
  runId: string | undefined,
  run: () => Promise<T>,
  counts: (result: T) => Record<string, number | string | boolean | null>,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await run();
    logger.info('recalc step finished', {
      step,
      runId,
      durationMs: Math.round(performance.now() - started),
      ...counts(result),
    });
    return result;
  } catch (error) {
    logger.error('recalc step failed', {
      step,
      runId,
      durationMs: Math.round(performance.now() - started),
      errorName: (error as Error)?.name ?? 'Error',
    });
    throw error;
  }
}
