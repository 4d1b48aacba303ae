/** Step 1 of the recalculation: the run id and the run lock. */
import { randomBytes } from 'node:crypto';
import { runInputsKey } from '#domain/bucket-layout.ts';
import { CvmError } from '#domain/errors.ts';
import { expiresAfterWeeks } from '#domain/recalc/settings.ts';
import type { RunRecord } from '#domain/run.ts';
import { latestCheckpoint, type ResumePoint } from './checkpoints.ts';
import { DEFAULT_LEASE_MINUTES } from './lease.ts';
import { loggedStep } from './step-log.ts';
import type { LockedRun, RecalcDeps, RecalcRequest } from './types.ts';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Sortable run id: start time (UTC, to the second) and a random suffix, e.g. `20260525T061500Z-3fa2`. */
export function newRunId(startedAt: Date): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * Takes the run lock (a conditional write). A second run while one holds it is refused with
 * `RecalcLockedError`, whose message names the holder.
 */
export async function acquireLockStep(deps: RecalcDeps, request: RecalcRequest = {}): Promise<LockedRun> {
  const startedAt = deps.now();
  const runId = request.resume ?? request.runId ?? newRunId(startedAt);
  return loggedStep(
    deps.logger,
    'acquireLock',
    runId,
    async () => {
      if (!RUN_ID.test(runId)) {
        throw new Error(`runId '${runId}' is invalid: use 1–64 letters, digits, '.', '_' or '-'`);
      }
      const leaseMinutes = request.leaseMinutes ?? DEFAULT_LEASE_MINUTES;
      // Checked before the lock is taken, so a refused resume changes nothing.
      const resumed = request.resume ? await resumableRun(deps, request.resume) : null;
      const { tookOverFrom, tookOverBecause } = await deps.lock.acquire(
        runId,
        startedAt,
        leaseMinutes,
        request.lockHolder,
      );
      if (tookOverFrom) {
        const why =
          tookOverBecause === 'lease-expired'
            ? 'its lock lease ran out without being renewed or released (the run stopped: killed, timed out or stopped)'
            : 'the process running it ended without finishing (killed or crashed)';
        await recordAbandonedRun(deps, tookOverFrom, `aborted: ${why}; run ${runId} took the lock over`);
      }
      if (resumed) {
        const attempt = { number: (resumed.record.attempts ?? 1) + 1, resumedAt: startedAt.toISOString() };
        const { message: _failure, ...kept } = resumed.record;
        await deps.runs.putRunRecord(
          {
            ...kept,
            status: 'running',
            finishedAt: null,
            attempts: attempt.number,
            resumedAt: attempt.resumedAt,
          },
          expiresAfterWeeks(new Date(resumed.record.startedAt), deps.settings.retentionWeeks),
        );
        // This execution's lease, lock holder and attempt replace the saved ones.
        const carried = {
          attempt,
          leaseMinutes,
          ...(request.lockHolder ? { lockHolder: request.lockHolder } : {}),
        };
        // The state the step to resume at started with (it keeps the run's start, request and
        // settings); the body's first state jumps to that step.
        return {
          ...resumed.point.state,
          ...carried,
          resumeAt: resumed.point.stepName,
        } as unknown as LockedRun;
      }
      return {
        runId,
        startedAt: startedAt.toISOString(),
        request,
        leaseMinutes,
        ...(request.lockHolder ? { lockHolder: request.lockHolder } : {}),
      };
    },
    (locked) => ({ leaseMinutes: locked.leaseMinutes ?? DEFAULT_LEASE_MINUTES }),
  );
}

/** A run that cannot be resumed: the message says why and what to do instead. */
export class ResumeRefusedError extends CvmError {
  readonly code = 'resume_refused';
  constructor(message: string) {
    super(message);
    this.name = 'ResumeRefusedError';
  }
}

/**
 * The record of a run that may be resumed: it exists, did not publish, and its inputs (the clean
 * objects Prepare listed) are unchanged — else the parts it scored would mix two data sets. A run
 * still "running" is refused by the lock while its holder lives.
 */
async function resumableRun(
  deps: RecalcDeps,
  runId: string,
): Promise<{ record: RunRecord; point: ResumePoint }> {
  const record = await deps.runs.getRunRecord(runId);
  if (!record) {
    throw new ResumeRefusedError(
      `Cannot resume run ${runId}: no such run (it never started, or has expired).`,
    );
  }
  if (record.status === 'published') {
    throw new ResumeRefusedError(`Cannot resume run ${runId}: it was published; start a new run instead.`);
  }
  const inputs = (await deps.files.getJson(runInputsKey(runId))) as { cleanObjects?: string[] } | undefined;
  if (inputs?.cleanObjects) {
    const before = new Set(inputs.cleanObjects);
    const now = await deps.files.listCleanObjects();
    const added = now.filter((key) => !before.has(key));
    const nowSet = new Set(now);
    const gone = inputs.cleanObjects.filter((key) => !nowSet.has(key));
    if (added.length > 0 || gone.length > 0) {
      const sample = [...added, ...gone].slice(0, 3).join(', ');
      throw new ResumeRefusedError(
        `Cannot resume run ${runId}: the clean data changed since it started (${added.length} objects added, ${gone.length} gone, e.g. ${sample}); its scored parts would mix two data sets. Start a new run instead.`,
      );
    }
  }
  const point = await latestCheckpoint(deps, runId);
  if (!point) {
    throw new ResumeRefusedError(
      `Cannot resume run ${runId}: it left no checkpoint (it failed before Prepare started); start a new run instead.`,
    );
  }
  return { record, point };
}

/**
 * A run that ended without finishing (its process killed, its execution stopped or timed out) holds
 * no lock any more once another run took it over, or once its execution's end released it: its
 * record would say "running" forever. It is recorded as failed, saying what happened. A run that
 * already ended (published or failed) is left as it is.
 */
export async function recordAbandonedRun(
  deps: RecalcDeps,
  abandonedRunId: string,
  message: string,
): Promise<void> {
  const existing = await deps.runs.getRunRecord(abandonedRunId);
  if (existing?.status !== 'running') return;
  const failed: RunRecord = {
    ...existing,
    status: 'failed',
    finishedAt: deps.now().toISOString(),
    message,
  };
  await deps.runs.putRunRecord(
    failed,
    expiresAfterWeeks(new Date(existing.startedAt), deps.settings.retentionWeeks),
  );
}
