/**
 * Step 6 of the recalculation: sends the published run's change events. The events were written
 * with the run before its pointer flipped (ScorePart's change files under `runs/<runId>/changes/`,
 * the outbox); this step sends them file by file and records each sent file in a checkpoint, so a
 * step that runs out of time returns `done: false` and its next invocation resumes where it stopped
 * (the state machine loops until done). A file may be sent twice after a crash between sending and
 * the checkpoint: every event carries an `eventId` for consumers to de-duplicate on.
 */
import { changesPrefix, changesSentKey, partName } from '#domain/bucket-layout.ts';
import type { CustomerChange } from '#domain/migration.ts';
import { toChangeEvent } from '../ports/change-events.ts';
import { renewLease } from './lease.ts';
import { loggedStep } from './step-log.ts';
import type { FittedRun, RecalcDeps } from './types.ts';

/** Leave this much of the invocation's time for writing the checkpoint and returning. */
const SAFETY_MARGIN_MS = 60_000;

export interface SendChangeEventsResult {
  /** False when time ran out with files left: the step is invoked again and resumes. */
  done: boolean;
  /** Events sent so far for this run (all invocations). */
  events: number;
  /** Change files sent so far, of `files`. */
  filesSent: number;
  files: number;
}

interface Checkpoint {
  sent: string[];
  events: number;
}

export function sendChangeEventsStep(
  deps: RecalcDeps,
  run: FittedRun,
  remainingMs: () => number = () => Number.POSITIVE_INFINITY,
): Promise<SendChangeEventsResult> {
  return loggedStep(
    deps.logger,
    'sendChangeEvents',
    run.runId,
    async () => {
      await renewLease(deps, run);
      return sendChangeEvents(deps, run, remainingMs);
    },
    (r) => ({ done: r.done, events: r.events, filesSent: r.filesSent, files: r.files }),
  );
}

async function sendChangeEvents(
  deps: RecalcDeps,
  run: FittedRun,
  remainingMs: () => number,
): Promise<SendChangeEventsResult> {
  // The first run has no previous scores to change from: nothing to send.
  const previousRunId = run.previousRunId;
  if (!previousRunId) return { done: true, events: 0, filesSent: 0, files: 0 };
  const files = await deps.files.listKeys(changesPrefix(run.runId));
  const checkpoint = ((await deps.files.getJson(changesSentKey(run.runId))) as Checkpoint | undefined) ?? {
    sent: [],
    events: 0,
  };
  const sent = new Set(checkpoint.sent);
  let events = checkpoint.events;
  for (const file of files) {
    if (sent.has(file)) continue;
    if (remainingMs() < SAFETY_MARGIN_MS) {
      return { done: false, events, filesSent: sent.size, files: files.length };
    }
    const changes = (await deps.files.getText(file))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as CustomerChange);
    events += await deps.publisher.publishBatch(
      run.runId,
      partName(file.replace(/\.jsonl$/, '')),
      changes.map((change) =>
        toChangeEvent(change, {
          runId: run.runId,
          previousRunId,
          asOf: run.asOf,
          hashIds: run.config.hashIdsInEvents,
        }),
      ),
    );
    sent.add(file);
    await deps.files.putJson(changesSentKey(run.runId), { sent: [...sent], events } satisfies Checkpoint);
  }
  return { done: true, events, filesSent: sent.size, files: files.length };
}
