/**
 * The end of a state machine execution that did not end through its own release step: it timed
 * out, was stopped, or failed with an error its Catch cannot handle (`States.Runtime`,
 * `States.DataLimitExceeded`). Step Functions reports the end as an event; this service releases
 * the lock the execution still holds and records its run as failed, so neither waits out a lease.
 */
import { recordAbandonedRun } from './acquire-lock.ts';
import type { UnfinishedExecutionStatus } from './pipeline.ts';
import { releaseLockStep } from './release-lock.ts';
import { loggedStep } from './step-log.ts';
import type { RecalcDeps } from './types.ts';

export interface ExecutionEnded {
  executionArn: string;
  status: UnfinishedExecutionStatus;
}

export interface ExecutionEndedResult {
  executionArn: string;
  /** The run the execution held the lock for; null when it held none (the lock was released or taken). */
  runId: string | null;
  released: boolean;
  recordedFailure: boolean;
}

const HOW_IT_ENDED: Record<UnfinishedExecutionStatus, string> = {
  TIMED_OUT: 'the state machine execution timed out',
  ABORTED: 'the state machine execution was stopped',
  FAILED: 'the state machine execution failed with an error its failure path could not handle',
};

export function executionEndedStep(deps: RecalcDeps, event: ExecutionEnded): Promise<ExecutionEndedResult> {
  return loggedStep(
    deps.logger,
    'executionEnded',
    event.executionArn,
    () => executionEnded(deps, event),
    (r) => ({ runId: r.runId, released: r.released, recordedFailure: r.recordedFailure }),
  );
}

async function executionEnded(deps: RecalcDeps, event: ExecutionEnded): Promise<ExecutionEndedResult> {
  const lock = await deps.lock.current();
  // Only a lock this execution still holds is its to release: a released lock, or one another run
  // took over (which recorded this run as failed then), is left alone.
  if (!lock || lock.released || lock.holder !== event.executionArn) {
    return { executionArn: event.executionArn, runId: null, released: false, recordedFailure: false };
  }
  const message = `aborted: ${HOW_IT_ENDED[event.status]} before run ${lock.runId} finished (${event.executionArn})`;
  const record = await deps.runs.getRunRecord(lock.runId);
  if (record?.status === 'failed') {
    // Its failure path recorded the error but did not get to release the lock.
    const released = await deps.lock.release(lock.runId);
    return { executionArn: event.executionArn, runId: lock.runId, released, recordedFailure: false };
  }
  if (record?.status === 'running') {
    await recordAbandonedRun(deps, lock.runId, message);
    const released = await deps.lock.release(lock.runId);
    return { executionArn: event.executionArn, runId: lock.runId, released, recordedFailure: true };
  }
  // No record yet (it ended before Prepare), or published: the release step's own rules apply
  // (a run readers saw is never marked failed afterwards).
  const result = await releaseLockStep(deps, { runId: lock.runId, error: message });
  return { executionArn: event.executionArn, ...result };
}
