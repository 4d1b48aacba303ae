/**
 * The scoring Map's failure policy and concurrency as synthesized: every part runs to its end (item
 * failures tolerated), the part check (Finalize) runs after the Map inside the body's Catch, and
 * MaxConcurrency comes from the deployment config.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECALC_PIPELINE, resumableSteps } from '#app/recalc/pipeline.ts';
import { deploymentConfigSchema } from '#infra/aws/config.ts';
import { type CfnJson, logicalIdOf, type SynthesizedPipeline, synthPipeline } from './synth-pipeline.ts';

interface AslState {
  Type: string;
  Next?: string;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Branches?: AslMachine[];
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  Resource?: string;
}
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

/** The recalculation definition, references rendered as `<LogicalId>` so the JSON parses. */
function definitionOf(synth: SynthesizedPipeline): AslMachine {
  const id = logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine);
  const resource = synth.template.toJSON().Resources[id] as { Properties: Record<string, CfnJson> };
  const [, parts] = resource.Properties.DefinitionString['Fn::Join'] as [string, unknown[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return ref.Ref ? `<${ref.Ref}>` : `<${ref['Fn::GetAtt']![0]}.${ref['Fn::GetAtt']![1]}>`;
    })
    .join('');
  return JSON.parse(text) as AslMachine;
}

const mapStep = RECALC_PIPELINE.body.steps.find((step) => step.kind === 'map')!;

describe('recalculation: the scoring Map', () => {
  let defaults: SynthesizedPipeline;
  let configured: SynthesizedPipeline;
  beforeAll(() => {
    defaults = synthPipeline();
    configured = synthPipeline({ scoreMaxConcurrency: 12 });
  });
  afterAll(() => {
    defaults?.cleanup();
    configured?.cleanup();
  });

  it('lets every part run to its end: item failures are tolerated, the part check decides', () => {
    const body = definitionOf(defaults).States[RECALC_PIPELINE.body.stateName]!.Branches![0]!;
    const map = body.States[mapStep.stateName]!;
    expect(map.ToleratedFailurePercentage).toBe(100);
    expect(map.ToleratedFailurePercentage).toBe(mapStep.toleratedFailurePercentage);
    expect(map.ToleratedFailureCount).toBeUndefined();
  });

  it('runs the part check (Finalize) right after the Map, inside the body whose Catch releases the lock as failed', () => {
    const definition = definitionOf(defaults);
    const recalculate = definition.States[RECALC_PIPELINE.body.stateName]!;
    const body = recalculate.Branches![0]!;
    const finalize = body.States[body.States[mapStep.stateName]!.Next!]!;
    expect(body.States[mapStep.stateName]!.Next).toBe('Finalize');
    expect(finalize.Resource).toBe(
      `<${logicalIdOf(defaults.stack, defaults.stack.recalculation.steps.finalize.function)}.Arn>`,
    );
    expect(recalculate.Catch).toEqual([
      {
        ErrorEquals: [...RECALC_PIPELINE.onFailure.errors],
        ResultPath: RECALC_PIPELINE.onFailure.errorPath,
        Next: RECALC_PIPELINE.onFailure.stateName,
      },
    ]);
  });

  it('takes MaxConcurrency from the deployment config (scoreMaxConcurrency), with its default otherwise', () => {
    const mapOf = (synth: SynthesizedPipeline) =>
      definitionOf(synth).States[RECALC_PIPELINE.body.stateName]!.Branches![0]!.States[mapStep.stateName]!;
    expect(mapOf(configured).MaxConcurrency).toBe(12);
    expect(mapOf(defaults).MaxConcurrency).toBe(deploymentConfigSchema.parse({}).scoreMaxConcurrency);
  });

  it('starts the body with a Choice that sends a resumed run to the step it names, up to the Map', () => {
    const body = definitionOf(defaults).States[RECALC_PIPELINE.body.stateName]!.Branches![0]!;
    expect(body.StartAt).toBe(RECALC_PIPELINE.body.resumeChoiceStateName);
    const choice = body.States[body.StartAt]! as AslState & {
      Choices: Array<{ And: Array<Record<string, unknown>>; Next: string }>;
      Default: string;
    };
    expect(choice.Type).toBe('Choice');
    expect(choice.Default).toBe(RECALC_PIPELINE.body.steps[0]!.stateName);
    const targets = resumableSteps().filter((step) => body.States[step.stateName]);
    expect(choice.Choices).toEqual(
      targets.map((step) => ({
        And: [
          { Variable: '$.resumeAt', IsPresent: true },
          { Variable: '$.resumeAt', StringEquals: step.name },
        ],
        Next: step.stateName,
      })),
    );
    // Up to and including the Map: Finalize and later always run again.
    expect(targets.map((step) => step.name).at(-1)).toBe(mapStep.name);
  });

  it('refuses a concurrency outside 1–1000, naming the key', () => {
    const result = deploymentConfigSchema.safeParse({ scoreMaxConcurrency: 0 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['scoreMaxConcurrency']);
  });
});
