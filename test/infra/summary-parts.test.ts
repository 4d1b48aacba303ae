/**
 * The part size the pipeline chooses against the ScorePart Lambda's timeout: a part of the default
 * `partCustomers` takes, on the local stack (the slowest place it was measured, docs/scale.md
 * "Summary parts"), at most 102 s per 100 k customers; the synthesized ScorePart timeout must leave
 * at least twice that, so a slow part is not cut off before its retry budget matters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PART_CUSTOMERS, MAX_SUMMARY_PARTS } from '#domain/recalc/summary-parts.ts';
import { type CfnJson, logicalIdOf, type SynthesizedPipeline, synthPipeline } from './synth-pipeline.ts';

/** Slowest ScorePart measured locally (bench/summary-parts.ts: 4 parts of 25 k, dynalite writes). */
const MEASURED_SECONDS_PER_100K = 102;

let synth: SynthesizedPipeline;
beforeAll(() => {
  synth = synthPipeline({ model: 'auto' });
});
afterAll(() => synth.cleanup());

describe('summary part size vs the ScorePart timeout', () => {
  it('leaves at least twice the measured time of a default-sized part', () => {
    const id = logicalIdOf(synth.stack, synth.stack.recalculation.steps.scorePart.function);
    const resources = synth.template.toJSON().Resources as Record<
      string,
      { Properties: Record<string, CfnJson> }
    >;
    const timeoutSeconds = resources[id]!.Properties.Timeout as number;
    const partSeconds = (DEFAULT_PART_CUSTOMERS / 100_000) * MEASURED_SECONDS_PER_100K;
    expect(partSeconds).toBeCloseTo(204, 0);
    expect(timeoutSeconds).toBeGreaterThanOrEqual(2 * partSeconds);
    // 10 M customers fit in the UNLOAD partition limit at the default part size.
    expect(Math.ceil(10_000_000 / DEFAULT_PART_CUSTOMERS)).toBeLessThanOrEqual(MAX_SUMMARY_PARTS);
  });
});
