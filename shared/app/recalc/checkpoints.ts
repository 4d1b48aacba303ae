/**
 * Checkpoints of a run, for resuming it: the state each resumable step (pipeline.ts,
 * `resumableSteps`) started with, saved in the run's folder under the step's name. The Lambda steps
 * save their own (in AWS nothing else runs between states); the Athena tasks cannot, so a run that
 * failed in one resumes at the Lambda step before it, which renders its statements and clears their
 * unload targets again.
 */

import { checkpointKey } from '#domain/bucket-layout.ts';
import {
  applyResultPath,
  type LambdaStep,
  RECALC_PIPELINE,
  type RecalcPipeline,
  resumableSteps,
} from './pipeline.ts';
import type { RecalcDeps } from './types.ts';

/** Where a resumed run starts, and the state it starts with. */
export interface ResumePoint {
  stepName: string;
  state: Record<string, unknown>;
}

/** The latest resumable step that has a checkpoint, or null (the run restarts at its first step). */
export async function latestCheckpoint(
  deps: Pick<RecalcDeps, 'files'>,
  runId: string,
  pipeline: RecalcPipeline = RECALC_PIPELINE,
): Promise<ResumePoint | null> {
  for (const step of resumableSteps(pipeline).reverse()) {
    const state = await deps.files.getJson(checkpointKey(runId, step.name));
    if (state && typeof state === 'object')
      return { stepName: step.name, state: state as Record<string, unknown> };
  }
  return null;
}

/**
 * Wraps a Lambda step's service so it saves the state it starts with, and — when the next step is the
 * Map, which no Lambda starts — the state after it under the Map's name. Steps that are not
 * resumable are returned unchanged.
 */
export function withCheckpoints<Event extends { runId: string }, Result>(
  deps: () => Pick<RecalcDeps, 'files'>,
  handler: LambdaStep['handler'],
  run: (event: Event) => Promise<Result>,
  pipeline: RecalcPipeline = RECALC_PIPELINE,
): (event: Event) => Promise<Result> {
  const steps = resumableSteps(pipeline);
  const index = steps.findIndex((step) => step.kind === 'lambda' && step.handler === handler);
  if (index < 0) return run;
  const step = steps[index] as LambdaStep;
  const next = steps[index + 1];
  return async (event) => {
    await deps().files.putJson(checkpointKey(event.runId, step.name), event);
    const result = await run(event);
    if (next?.kind === 'map') {
      await deps().files.putJson(
        checkpointKey(event.runId, next.name),
        applyResultPath(event, result, step.resultPath),
      );
    }
    return result;
  };
}
