/** Last step of the recalculation, on success and on failure: record a failed run, release the lock. */

import { clvSettingsOf, expiresAfterWeeks, failureMessage } from '#domain/recalc/settings.ts';
import { recalcConfigSchema } from '#domain/recalc-config.ts';
import type { RunRecord } from '#domain/run.ts';
import { runRetentionWeeks } from './run-settings.ts';
import { loggedStep } from './step-log.ts';
import type { RecalcDeps, ReleaseLockInput, ReleaseLockResult } from './types.ts';

/**
 * Last step, on success and on failure: records a failed run (when given the error) and releases
 * the lock if this run holds it. A run that readers saw (the current-run pointer names it) is never
 * marked failed afterwards; one whose record says published but whose pointer flip failed was never
 * visible, so it is recorded as failed (GET /runs/{id} must not call it published).
 */
export function releaseLockStep(deps: RecalcDeps, input: ReleaseLockInput): Promise<ReleaseLockResult> {
  return loggedStep(
    deps.logger,
    'releaseLock',
    input.runId,
    () => releaseLock(deps, input),
    (r) => ({ released: r.released, recordedFailure: r.recordedFailure }),
  );
}

async function releaseLock(deps: RecalcDeps, input: ReleaseLockInput): Promise<ReleaseLockResult> {
  let recordedFailure = false;
  if (input.error !== undefined) {
    const message = failureMessage(input.error);
    const existing = await deps.runs.getRunRecord(input.runId);
    const visible = existing?.status === 'published' && (await deps.runs.getCurrentRunId()) === input.runId;
    if (!visible) {
      const run = input.run ?? {};
      const config = run.config ?? {
        ...recalcConfigSchema.parse({}),
        currency: deps.settings.defaultCurrency,
      };
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
        // Its score items (if any) stay readable under the keys they were written with.
        ...((existing?.indexShards ?? run.indexShards) !== undefined
          ? { indexShards: existing?.indexShards ?? run.indexShards }
          : {}),
        // A resumed run's record keeps counting its attempts.
        ...(existing?.attempts ? { attempts: existing.attempts } : {}),
        ...(existing?.resumedAt ? { resumedAt: existing.resumedAt } : {}),
      };
      const expiresAt = expiresAfterWeeks(new Date(startedAt), runRetentionWeeks(deps, config));
      try {
        await deps.runs.putRunRecord(failed, expiresAt);
      } catch (recordError) {
        // What the failed run knew may itself be invalid (e.g. non-finite holdout figures from a
        // degenerate fit): record the failure without it rather than keep the lock held.
        await deps.runs.putRunRecord(
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
  const released = await deps.lock.release(input.runId);
  return { runId: input.runId, released, recordedFailure };
}
