/** Checkpoints of resumable steps: what the Lambda steps save, and where a resume starts. */
import { describe, expect, it } from 'vitest';
import { latestCheckpoint, withCheckpoints } from '#app/recalc/checkpoints.ts';
import { RECALC_PIPELINE, resumableSteps } from '#app/recalc/pipeline.ts';
import type { RecalcDeps } from '#app/recalc/types.ts';
import { checkpointKey } from '#domain/bucket-layout.ts';

function memoryFiles() {
  const files = new Map<string, unknown>();
  const deps = {
    files: {
      getJson: async (key: string) => files.get(key),
      putJson: async (key: string, value: unknown) => {
        files.set(key, JSON.parse(JSON.stringify(value)));
      },
    },
  } as unknown as Pick<RecalcDeps, 'files'>;
  return { files, deps };
}

describe('checkpoints', () => {
  it('resumable steps run up to and including the first Map', () => {
    const names = resumableSteps().map((step) => step.name);
    const all = RECALC_PIPELINE.body.steps.map((step) => step.name);
    const map = RECALC_PIPELINE.body.steps.findIndex((step) => step.kind === 'map');
    expect(names).toEqual(all.slice(0, map + 1));
  });

  it('a Lambda step saves the state it starts with; the step before the Map also saves the state after it under the Map’s name', async () => {
    const { files, deps } = memoryFiles();
    const prepare = withCheckpoints(
      () => deps,
      'prepare',
      async (event: { runId: string }) => ({ ...event, prepared: true }),
    );
    await prepare({ runId: 'r1' });
    expect(files.get(checkpointKey('r1', 'prepare'))).toEqual({ runId: 'r1' });

    const fitModels = withCheckpoints(
      () => deps,
      'fitModels',
      async (event: { runId: string }) => ({ ...event, model: 'bgnbd' }),
    );
    await fitModels({ runId: 'r1' });
    expect(files.get(checkpointKey('r1', 'fitModels'))).toEqual({ runId: 'r1' });
    const map = resumableSteps().at(-1)!;
    expect(files.get(checkpointKey('r1', map.name))).toEqual({ runId: 'r1', model: 'bgnbd' });
  });

  it('a failed step keeps the checkpoint of its start, and nothing under the next step', async () => {
    const { files, deps } = memoryFiles();
    const fitModels = withCheckpoints(
      () => deps,
      'fitModels',
      async (_event: { runId: string }): Promise<never> => {
        throw new Error('no convergence');
      },
    );
    await expect(fitModels({ runId: 'r1' })).rejects.toThrow('no convergence');
    expect([...files.keys()]).toEqual([checkpointKey('r1', 'fitModels')]);
  });

  it('steps after the Map (and other handlers) save nothing', async () => {
    const { files, deps } = memoryFiles();
    const finalize = withCheckpoints(
      () => deps,
      'finalize',
      async (event: { runId: string }) => event,
    );
    await finalize({ runId: 'r1' });
    expect(files.size).toBe(0);
  });

  it('a resume starts at the latest resumable step with a checkpoint, or nowhere', async () => {
    const { files, deps } = memoryFiles();
    expect(await latestCheckpoint(deps, 'r1')).toBeNull();
    files.set(checkpointKey('r1', 'prepare'), { runId: 'r1', step: 1 });
    files.set(checkpointKey('r1', 'fitModels'), { runId: 'r1', step: 3 });
    // Another run's checkpoint is not this run's.
    files.set(checkpointKey('r2', 'scoreParts'), { runId: 'r2' });
    expect(await latestCheckpoint(deps, 'r1')).toEqual({
      stepName: 'fitModels',
      state: { runId: 'r1', step: 3 },
    });
  });
});
