/**
 * Synthesized erasure job: a DuckDB function that may read, rewrite and delete versions of objects
 * under exactly the prefixes that can hold customer rows (never config/), list them with versions,
 * read the suppression list and mark rewritten uploads; a state machine that retries it, started only
 * by the API's admin function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_PREFIXES, PERSONAL_DATA_PREFIXES } from '#domain/bucket-layout.ts';
import {
  type CfnJson,
  logicalIdOf,
  resourcesOfType,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

let synth: SynthesizedPipeline;
let resources: Record<string, { Type: string; Properties: Record<string, CfnJson> }>;
beforeAll(() => {
  synth = synthPipeline();
  resources = synth.template.toJSON().Resources;
});
afterAll(() => synth.cleanup());

function statementsOf(roleId: string): Array<Record<string, CfnJson>> {
  return Object.values(resourcesOfType(synth.template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => (policy.Properties as CfnJson).PolicyDocument.Statement);
}

/** Object prefixes a statement's resources name (`arn:…:bucket/<prefix>*`). */
const prefixesOf = (statement: Record<string, CfnJson>) =>
  [statement.Resource]
    .flat()
    .map((resource) =>
      String((resource as CfnJson)['Fn::Join']?.[1]?.[1] ?? '')
        .replace(/^\//, '')
        .replace(/\*$/, ''),
    )
    .sort();

describe('erasure job', () => {
  const roleId = () => logicalIdOf(synth.stack, synth.stack.erasure.handler.role);

  it('reads, rewrites and deletes versions under every prefix that can hold customer rows, not config/', () => {
    const expected = [...PERSONAL_DATA_PREFIXES].sort();
    expect(expected).not.toContain(BUCKET_PREFIXES.config);
    const bySid = Object.fromEntries(statementsOf(roleId()).map((statement) => [statement.Sid, statement]));
    expect(bySid.ReadStoredFiles!.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(bySid.RewriteStoredFiles!.Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(bySid.DeleteVersionsHoldingErasedCustomers!.Action).toBe('s3:DeleteObjectVersion');
    for (const sid of ['ReadStoredFiles', 'RewriteStoredFiles', 'DeleteVersionsHoldingErasedCustomers']) {
      expect(prefixesOf(bySid[sid]!), sid).toEqual(expected);
    }
    expect(bySid.ListStoredFilesAndVersions!.Action).toEqual(['s3:ListBucket', 's3:ListBucketVersions']);
    const listed = (bySid.ListStoredFilesAndVersions!.Condition as CfnJson).StringLike[
      's3:prefix'
    ] as string[];
    expect([...listed].sort()).toEqual(expected.map((prefix) => `${prefix}*`));
    const actions = statementsOf(roleId()).flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(actions).not.toContain('s3:DeleteObject');
    expect(JSON.stringify(statementsOf(roleId()))).not.toContain('"s3:*"');
  });

  it('runs one job at a time with DuckDB-sized memory and /tmp, within Lambda limits', () => {
    const fn = resources[logicalIdOf(synth.stack, synth.stack.erasure.handler.function)]!.Properties;
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(fn.MemorySize).toBe(2048);
    expect(fn.EphemeralStorage).toEqual({ Size: 4096 });
    expect(fn.Timeout).toBe(900);
    expect(fn.Architectures).toEqual(['x86_64']);
  });

  it('retries the job from a state machine whose input carries nothing', () => {
    const machine = resources[logicalIdOf(synth.stack, synth.stack.erasure.stateMachine)]!.Properties;
    const definition = JSON.stringify(machine.DefinitionString);
    expect(definition).toContain('States.ALL');
    expect(definition).toContain('MaxAttempts\\":5');
    expect(machine.LoggingConfiguration.IncludeExecutionData).toBe(false);
  });
});
