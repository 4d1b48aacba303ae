import { describe, expect, it } from 'vitest';
import { RECALC_HANDLERS, RECALC_PIPELINE } from '#app/recalc/pipeline.ts';
import * as handler from '#functions/recalc/handler.ts';

describe('recalculation Lambda entry points', () => {
  it('export one middy handler per handler the pipeline names', () => {
    const named = new Set([
      RECALC_PIPELINE.acquire.handler,
      ...RECALC_PIPELINE.body.steps.flatMap((step) => (step.kind === 'warehouse' ? [] : [step.handler])),
      RECALC_PIPELINE.onFailure.handler,
      RECALC_PIPELINE.release.handler,
      RECALC_PIPELINE.onExecutionEnded.handler,
    ]);
    expect([...named].sort()).toEqual([...RECALC_HANDLERS].sort());
    for (const name of RECALC_HANDLERS) {
      const exported = (handler as unknown as Record<string, { use?: unknown }>)[name];
      expect(typeof exported).toBe('function');
      // middy handlers carry `.use`: the observability middlewares are attached.
      expect(typeof exported?.use).toBe('function');
    }
  });
});
