import { expiresAfterWeeks } from '../../../shared/adapters/dynamo/keys.ts';
import { recalcConfigSchema } from '../../../shared/domain/recalc-config.ts';
import type { RunRecord } from '../../../shared/domain/run.ts';
import { clvSettingsOf } from './prepare.ts';
import type { RecalcDeps, ReleaseLockInput } from './types.ts';

/** The message of a Step Functions Catch output (`Cause` is the Lambda error as JSON), or the text. */
export function failureMessage(error: ReleaseLockInput['error']): string {
  if (error === undefined) return '';
  if (typeof error === 'string') return error;
  if (error.Cause) {
    try {
      const cause = JSON.parse(error.Cause) as { errorMessage?: string; errorType?: string };
      if (cause.errorMessage) return `${cause.errorType ?? error.Error ?? 'Error'}: ${cause.errorMessage}`;
    } catch {
      // Not JSON: use it as it is.
    }
    return `${error.Error ?? 'Error'}: ${error.Cause}`;
  }
  return error.Error ?? 'unknown error';
}

/**
 * Last step, on success and on failure: records a failed run (when given the error) and releases
 * the lock if this run holds it. A run that readers saw (the current-run pointer names it) is never
 * marked failed afterwards; one whose record says published but whose pointer flip failed was never
 * visible, so it is recorded as failed (GET /runs/{id} must not call it published).
 */
export async function releaseLockStep(
  deps: RecalcDeps,
  input: ReleaseLockInput,
): Promise<{ runId: string; released: boolean; recordedFailure: boolean }> {
  let recordedFailure = false;
  if (input.error !== undefined) {
    const message = failureMessage(input.error);
    const existing = await deps.runStore.getRunRecord(input.runId);
    const visible =
      existing?.status === 'published' && (await deps.runStore.getCurrentRunId()) === input.runId;
    if (!visible) {
      const run = input.run ?? {};
      const config = run.config ?? { ...recalcConfigSchema.parse({}), currency: deps.config.defaultCurrency };
      const startedAt = existing?.startedAt ?? input.startedAt ?? run.startedAt ?? deps.now().toISOString();
      const failed: RunRecord = {
        runId: input.runId,
        status: 'failed',
        asOf: existing?.asOf ?? run.asOf ?? '',
        startedAt,
        finishedAt: deps.now().toISOString(),
        timeUnit: existing?.timeUnit ?? config.timeUnit,
        currency: existing?.currency ?? config.currency,
        customers: existing?.customers ?? run.profile?.customersSummarized ?? 0,
        model: run.model ?? existing?.model ?? null,
        spendModel: run.spendModel ?? existing?.spendModel ?? null,
        clvSettings: existing?.clvSettings ?? clvSettingsOf(config),
        holdout: run.holdout ?? existing?.holdout ?? null,
        segments: existing?.status === 'published' ? existing.segments : [],
        previousRunId: existing?.previousRunId ?? run.previousRunId ?? null,
        migration: null,
        message,
      };
      const expiresAt = expiresAfterWeeks(
        new Date(startedAt),
        config.retentionWeeks ?? deps.config.retentionWeeks,
      );
      try {
        await deps.runStore.putRunRecord(failed, expiresAt);
      } catch (recordError) {
        // What the failed run knew may itself be invalid (e.g. non-finite holdout figures from a
        // degenerate fit): record the failure without it rather than keep the lock held.
        await deps.runStore.putRunRecord(
          {
            ...failed,
            model: null,
            spendModel: null,
            holdout: null,
            segments: [],
            message: `${message} (details not recorded: ${(recordError as Error).message.slice(0, 200)})`,
          },
          expiresAt,
        );
      }
      recordedFailure = true;
    }
  }
  const released = await deps.runStore.releaseLock(input.runId);
  return { runId: input.runId, released, recordedFailure };
}
