/**
 * Security review of the synthesized stack: no unacknowledged cdk-nag finding, no wildcard actions,
 * least-privilege roles, limited log retention and the intended runtimes.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CfnJson, logicalIdOf, type SynthesizedPipeline, synthPipeline } from './synth-pipeline.ts';

let synth: SynthesizedPipeline;
let resources: Record<string, { Type: string; Properties: Record<string, CfnJson> }>;
beforeAll(() => {
  // Everything optional switched on, so every construct and acknowledgement is exercised.
  synth = synthPipeline({
    alarmEmail: 'ops@example.com',
    corsOrigins: ['https://crm.example.com'],
    apiClients: [
      { name: 'crm', rateLimit: 10, burstLimit: 20 },
      { name: 'bi', rateLimit: 2, burstLimit: 5, quotaPerDay: 1000 },
    ],
  });
  resources = synth.template.toJSON().Resources;
});
afterAll(() => synth.cleanup());

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const allowStatements = (): Array<{ policy: string; statement: Statement }> =>
  Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')
    .flatMap(([policy, resource]) =>
      (resource.Properties.PolicyDocument.Statement as Statement[])
        .filter((statement) => statement.Effect === 'Allow')
        .map((statement) => ({ policy, statement })),
    );

describe('security review', () => {
  it('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks().validateScope(synth.stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledgement a reason a reviewer can judge', () => {
    const acknowledgements = synth.stack.node
      .findAll()
      .flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) => Object.entries(entry.data as Record<string, string>)),
      );
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect(reason.length, id).toBeGreaterThan(60);
    }
  });

  it('grants no wildcard actions', () => {
    const wildcards = allowStatements().filter(({ statement }) =>
      [statement.Action].flat().some((action) => action.includes('*')),
    );
    expect(wildcards).toEqual([]);
  });

  it('uses Resource "*" only for actions that have no resource-level permissions', () => {
    const allowedOnStar = new Set([
      // X-Ray tracing of the state machine
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      // CloudWatch Logs vended delivery for the state machine's log group
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const onStar = allowStatements()
      .filter(({ statement }) => [statement.Resource].flat().includes('*'))
      .flatMap(({ statement }) => [statement.Action].flat());
    expect(onStar.filter((action) => !allowedOnStar.has(action))).toEqual([]);
  });

  it('keeps the API read function read-only: no table writes, no StartExecution', () => {
    const readRole = logicalIdOf(synth.stack, synth.stack.api.readHandler.role);
    const actions = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .filter((resource) => JSON.stringify(resource.Properties.Roles).includes(readRole))
      .flatMap((resource) => resource.Properties.PolicyDocument.Statement as Statement[])
      .flatMap((statement) => [statement.Action].flat());
    expect(actions.length).toBeGreaterThan(0);
    const readOnly = new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']);
    const logWrites = new Set(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actions.filter((action) => !readOnly.has(action) && !logWrites.has(action))).toEqual([]);
  });

  it('lets no function but the API admin function start the recalculation', () => {
    const functionRoles = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => JSON.stringify(resource.Properties.Role));
    const starterRoles = allowStatements()
      .filter(({ statement }) => [statement.Action].flat().includes('states:StartExecution'))
      .flatMap(({ policy }) => (resources[policy]!.Properties.Roles as CfnJson[]).map((role) => role.Ref));
    const functionStarters = starterRoles.filter((role) =>
      functionRoles.some((functionRole) => functionRole.includes(`"${role}"`)),
    );
    expect([...new Set(functionStarters)]).toEqual([
      logicalIdOf(synth.stack, synth.stack.api.adminHandler.role),
    ]);
  });

  it('lets only the erasure job and the ingest (removing erased customers) write under incoming/', () => {
    // Their rewrites trigger an ingest that finds the content marked as ingested: a duplicate, not
    // data (test/integration/erasure/privacy-erasure.test.ts), so there is no recursive ingest.
    const writers = allowStatements()
      .filter(
        ({ statement }) =>
          [statement.Action].flat().some((action) => action === 's3:PutObject') &&
          JSON.stringify(statement.Resource).includes('/incoming/'),
      )
      .flatMap(({ policy }) => (resources[policy]!.Properties.Roles as CfnJson[]).map((role) => role.Ref))
      .sort();
    expect(writers).toEqual(
      [
        logicalIdOf(synth.stack, synth.stack.erasure.handler.role),
        logicalIdOf(synth.stack, synth.stack.ingest.handler.role),
      ].sort(),
    );
  });

  it('runs every function on nodejs22.x, ARM64 except the DuckDB ingest and erasure', () => {
    const duckDbIds = [synth.stack.ingest.handler, synth.stack.erasure.handler].map((fn) =>
      logicalIdOf(synth.stack, fn.function),
    );
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBe(14 + 1); // 14 pipeline functions + CDK's bucket-notification handler
    for (const [id, fn] of functions) {
      if (id.startsWith('BucketNotificationsHandler')) continue;
      expect(fn.Properties.Runtime, id).toBe('nodejs22.x');
      expect(fn.Properties.Architectures, id).toEqual([duckDbIds.includes(id) ? 'x86_64' : 'arm64']);
      expect(fn.Properties.LoggingConfig?.LogGroup, id).toBeDefined();
    }
  });

  it('keeps every log group for a limited time', () => {
    const groups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(0);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toBe(30);
  });

  it('gives each function its own role without the broad Lambda basic execution managed policy', () => {
    const functions = [
      synth.stack.ingest.handler,
      synth.stack.api.readHandler,
      synth.stack.api.adminHandler,
      synth.stack.erasure.handler,
      ...Object.values(synth.stack.recalculation.steps),
    ];
    const roles = new Set(functions.map((fn) => logicalIdOf(synth.stack, fn.role)));
    expect(roles.size).toBe(functions.length);
    for (const role of roles) expect(resources[role]!.Properties.ManagedPolicyArns, role).toBeUndefined();
  });
});
