/**
 * Synthesized recalculation: the Glue table and workgroup, a state machine that matches the shared step
 * list with its retries and catch, and the schedule, bus and grants.
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#adapters/config.ts';
import { CLEAN_ATTRIBUTE_COLUMNS } from '#adapters/ingest/attributes-ingest.ts';
import { CUSTOMER_ATTRIBUTES_RELATION, TRANSACTIONS_RELATION } from '#adapters/warehouse/queries.ts';
import { DEFAULT_LEASE_MINUTES } from '#app/recalc/lease.ts';
import {
  LAMBDA_RETRY,
  PART_RETRY,
  pipelineStateNames,
  RECALC_PIPELINE,
  WAREHOUSE_RETRY,
} from '#app/recalc/pipeline.ts';
import {
  BUCKET_PREFIXES,
  CLEAN_CUSTOMER_ATTRIBUTES_PREFIX,
  CLEAN_TRANSACTIONS_PREFIX,
} from '#domain/bucket-layout.ts';
import { athenaBytesScannedCutoffMbOf } from '#infra/aws/config.ts';
import {
  CUSTOMER_ATTRIBUTE_COLUMNS,
  SUMMARY_QUERIES,
  TRANSACTION_COLUMNS,
} from '#infra/aws/constructs/recalculation.ts';
import {
  type CfnJson,
  logicalIdOf,
  onlyResource,
  resourcesOfType,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

let synth: SynthesizedPipeline;

/** The recalculation's state machine (the stack also has the erasure job's). */
function recalcStateMachine() {
  const id = logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine);
  const resource = synth.template.toJSON().Resources[id] as { Properties: Record<string, CfnJson> };
  return { id, properties: resource.Properties };
}
let resources: Record<string, { Type: string; Properties: Record<string, CfnJson> }>;
let definition: AslStateMachine;
beforeAll(() => {
  synth = synthPipeline({ model: 'auto' });
  resources = synth.template.toJSON().Resources;
  definition = renderDefinition(recalcStateMachine().properties);
});
afterAll(() => synth.cleanup());

interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, CfnJson>;
  Retry?: Array<{
    ErrorEquals: string[];
    BackoffRate?: number;
    MaxAttempts?: number;
    IntervalSeconds?: number;
  }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Branches?: AslStateMachine[];
  ItemProcessor?: AslStateMachine & { ProcessorConfig: { Mode: string } };
  ItemReader?: { Resource: string; Parameters: Record<string, unknown> };
  ItemSelector?: Record<string, string>;
  MaxConcurrency?: number;
  ResultPath?: string | null;
}
interface AslStateMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

/**
 * The definition string is a Fn::Join of text and references (function ARNs, bucket name); each
 * reference becomes `<LogicalId>` (or `<LogicalId.Attr>`) so the JSON parses and stays checkable.
 */
function renderDefinition(properties: Record<string, CfnJson>): AslStateMachine {
  const [, parts] = properties.DefinitionString['Fn::Join'] as [string, unknown[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return ref.Ref ? `<${ref.Ref}>` : `<${ref['Fn::GetAtt']![0]}.${ref['Fn::GetAtt']![1]}>`;
    })
    .join('');
  return JSON.parse(text) as AslStateMachine;
}

/** The Athena task of a warehouse step's branch: its start, or behind the Choice of an optional query. */
function athenaTaskOf(branch: AslStateMachine): AslState {
  const start = branch.States[branch.StartAt]!;
  if (start.Type !== 'Choice') return start;
  const choice = start as AslState & { Choices: Array<{ Next: string }> };
  return branch.States[choice.Choices[0]!.Next]!;
}

/** State names from StartAt following Next (and the resume Choice's Default: a run that is not resumed). */
function path(machine: AslStateMachine): string[] {
  const names: string[] = [];
  for (let name: string | undefined = machine.StartAt; name; ) {
    names.push(name);
    const state = machine.States[name]! as AslState & { Default?: string };
    name = name === RECALC_PIPELINE.body.resumeChoiceStateName ? state.Default : state.Next;
  }
  return names;
}

const functionId = (step: keyof typeof synth.stack.recalculation.steps) =>
  logicalIdOf(synth.stack, synth.stack.recalculation.steps[step].function);

/** The Glue table named `name` (the stack has one per clean data set). */
function glueTable(name: string): { properties: Record<string, CfnJson> } {
  const found = Object.values(resourcesOfType(synth.template, 'AWS::Glue::Table')).filter(
    (resource) =>
      (resource.Properties as { TableInput?: { Name?: string } } | undefined)?.TableInput?.Name === name,
  );
  if (found.length !== 1) throw new Error(`expected one Glue table ${name}, found ${found.length}`);
  return { properties: found[0]!.Properties ?? {} };
}

describe('recalculation: Glue table and Athena workgroup', () => {
  it('declares the customer attributes table over its own clean prefix, with the columns the ingest writes', () => {
    const table = glueTable(CUSTOMER_ATTRIBUTES_RELATION).properties.TableInput;
    const columns = table.StorageDescriptor.Columns as Array<{ Name: string; Type: string }>;
    expect(columns).toEqual(
      CUSTOMER_ATTRIBUTE_COLUMNS.map((column) => ({ Name: column.name, Type: column.type })),
    );
    const hive: Record<string, string> = {
      VARCHAR: 'string',
      TIMESTAMPTZ: 'timestamp',
      'DECIMAL(18,2)': 'decimal(18,2)',
      BIGINT: 'bigint',
      BOOLEAN: 'boolean',
    };
    expect(columns).toEqual(
      Object.entries(CLEAN_ATTRIBUTE_COLUMNS).map(([name, type]) => ({ Name: name, Type: hive[type] })),
    );
    expect(table.PartitionKeys).toEqual([
      { Name: 'source', Type: 'string' },
      { Name: 'ingest_date', Type: 'date' },
    ]);
    expect(JSON.stringify(table.Parameters['storage.location.template'])).toContain(
      `/${CLEAN_CUSTOMER_ATTRIBUTES_PREFIX}source=\${source}/ingest_date=\${ingest_date}/`,
    );
  });

  it('declares exactly the columns documented in shared/domain/transaction.ts', () => {
    const source = readFileSync(new URL('../../shared/domain/transaction.ts', import.meta.url), 'utf8');
    // Rows of the column table in the doc comment (the header row is "| column | …").
    const documented = [...source.matchAll(/^ \* \| ([a-z_]+)\s+\|/gm)]
      .map((match) => match[1])
      .filter((name) => name !== 'column');
    const { properties } = glueTable(TRANSACTIONS_RELATION);
    const columns = properties.TableInput.StorageDescriptor.Columns as Array<{ Name: string; Type: string }>;
    expect(columns.map((column) => column.Name)).toEqual(documented);
    expect(columns).toEqual(TRANSACTION_COLUMNS.map((column) => ({ Name: column.name, Type: column.type })));
    expect(columns.find((column) => column.Name === 'amount')?.Type).toBe('decimal(18,2)');
  });

  it('projects partitions source (injected) and ingest_date (date, 2000-01-01..NOW) without a crawler', () => {
    const { properties } = glueTable(TRANSACTIONS_RELATION);
    const table = properties.TableInput;
    expect(table.Name).toBe(TRANSACTIONS_RELATION);
    expect(table.PartitionKeys).toEqual([
      { Name: 'source', Type: 'string' },
      { Name: 'ingest_date', Type: 'date' },
    ]);
    expect(table.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.source.type': 'injected',
      'projection.ingest_date.type': 'date',
      'projection.ingest_date.range': '2000-01-01,NOW',
      'projection.ingest_date.format': 'yyyy-MM-dd',
    });
    const bucketId = logicalIdOf(synth.stack, synth.stack.storage.dataBucket);
    expect(table.Parameters['storage.location.template']).toEqual({
      'Fn::Join': [
        '',
        [
          's3://',
          { Ref: bucketId },
          `/${CLEAN_TRANSACTIONS_PREFIX}source=\${source}/ingest_date=\${ingest_date}/`,
        ],
      ],
    });
    expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(Object.keys(resources).some((id) => resources[id]!.Type === 'AWS::Glue::Crawler')).toBe(false);
  });

  it('enforces the workgroup result location, its encryption and a bytes-scanned cutoff', () => {
    const { properties } = onlyResource(synth.template, 'AWS::Athena::WorkGroup');
    const configuration = properties.WorkGroupConfiguration;
    expect(configuration.EnforceWorkGroupConfiguration).toBe(true);
    expect(configuration.BytesScannedCutoffPerQuery).toBe(10_240 * 1024 * 1024);
    expect(configuration.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
    expect(JSON.stringify(configuration.ResultConfiguration.OutputLocation)).toContain('/athena-results/');
  });

  it('sizes the bytes-scanned cutoff from the expected transactions: max(10 GiB, rows × 30 B × 2)', () => {
    // 1 B transactions × 30 B × 2 = 60 GB = 57,220.46 MiB → 57,221 MiB: one scan of the clean table
    // at that size passes, a runaway query (a missing source filter) is still stopped.
    const big = synthPipeline({ expectedTransactions: 1_000_000_000 });
    try {
      const { properties } = onlyResource(big.template, 'AWS::Athena::WorkGroup');
      expect(properties.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBe(57_221 * 1024 * 1024);
    } finally {
      big.cleanup();
    }
    expect(athenaBytesScannedCutoffMbOf({ expectedTransactions: 100_000_000 })).toBe(10_240);
    expect(athenaBytesScannedCutoffMbOf({ expectedTransactions: 1_000_000_000 })).toBe(57_221);
    expect(
      athenaBytesScannedCutoffMbOf({
        expectedTransactions: 1_000_000_000,
        athenaBytesScannedCutoffMb: 20_000,
      }),
    ).toBe(20_000);
  });
});

describe('recalculation: state machine', () => {
  it('gives the run lock a lease shorter than the execution limit (each step renews it)', () => {
    const machine = recalcStateMachine().properties;
    const timeoutSeconds =
      (definition as { TimeoutSeconds?: number }).TimeoutSeconds ?? machine.TimeoutSeconds;
    expect(timeoutSeconds).toBeGreaterThan(0);
    expect(DEFAULT_LEASE_MINUTES * 60).toBeLessThan(timeoutSeconds);
  });

  it('runs AcquireLock → Recalculate → ReleaseLock → Published', () => {
    expect(path(definition)).toEqual(['AcquireLock', 'Recalculate', 'ReleaseLock', 'Published']);
    expect(definition.States.Published!.Type).toBe('Succeed');
  });

  it('runs Prepare → source profile → SelectData → run profile → PlanRun → summary queries → FitModels → ScoreParts → Finalize → SendChangeEvents inside Recalculate', () => {
    const branch = definition.States.Recalculate!.Branches![0]!;
    expect(path(branch)).toEqual([
      'ResumeAtStep',
      'Prepare',
      'ProfileSources',
      'SelectData',
      'ProfileRun',
      'PlanRun',
      'RunSummaryQueries',
      'FitModels',
      'ScoreParts',
      'Finalize',
      'SendChangeEvents',
      'AllChangeEventsSent',
    ]);
    // Sending resumes from its checkpoint: the Choice loops back while the step is not done.
    const choice = branch.States.AllChangeEventsSent as AslState & {
      Choices: Array<{ Variable: string; BooleanEquals: boolean; Next: string }>;
      Default: string;
    };
    expect(choice.Type).toBe('Choice');
    expect(choice.Default).toBe('ChangeEventsSent');
    expect(branch.States.ChangeEventsSent!.Type).toBe('Pass');
    expect(branch.States.ChangeEventsSent!.End).toBe(true);
    expect(choice.Choices).toEqual([
      { Variable: '$.changeEvents.done', BooleanEquals: false, Next: 'SendChangeEvents' },
    ]);
  });

  it('invokes each step function by its exported handler name', () => {
    const branch = definition.States.Recalculate!.Branches![0]!;
    const resourceOf = (state: AslState | undefined) => state?.Resource;
    expect(resourceOf(branch.States.Prepare)).toBe(`<${functionId('prepare')}.Arn>`);
    expect(resourceOf(branch.States.SelectData)).toBe(`<${functionId('selectData')}.Arn>`);
    expect(resourceOf(branch.States.PlanRun)).toBe(`<${functionId('planRun')}.Arn>`);
    expect(resourceOf(branch.States.FitModels)).toBe(`<${functionId('fitModels')}.Arn>`);
    expect(resourceOf(branch.States.Finalize)).toBe(`<${functionId('finalize')}.Arn>`);
    expect(resourceOf(definition.States.ReleaseLock)).toBe(`<${functionId('releaseLock')}.Arn>`);
    for (const step of [
      'acquireLock',
      'prepare',
      'selectData',
      'planRun',
      'fitModels',
      'scorePart',
      'finalize',
      'releaseLock',
    ] as const) {
      expect(resources[functionId(step)]!.Properties.Handler).toBe(`index.${step}`);
    }
  });

  it('runs every query of a run as an Athena .sync task inside Recalculate, with the SQL the step before rendered', () => {
    const branch = definition.States.Recalculate!.Branches![0]!;
    const tasks = ['ProfileSources', 'ProfileRun', 'RunSummaryQueries'].flatMap((name) =>
      branch.States[name]!.Branches!.map(athenaTaskOf),
    );
    expect(tasks.map((task) => task.Parameters!['QueryString.$'])).toEqual(
      SUMMARY_QUERIES.map((name) => `$.queries.${name}`),
    );
    expect(SUMMARY_QUERIES).toEqual([
      'sourceProfile',
      'otherFamilyProfile',
      'runProfile',
      'customerSummaries',
      'histogram',
      'spend',
      'calibrationHistogram',
      'holdout',
      'tracking',
      'cohorts',
      'backtestSummaries',
    ]);
    const parallel = branch.States.RunSummaryQueries!;
    for (const task of tasks) {
      expect(task.Resource).toBe('arn:<AWS::Partition>:states:::athena:startQueryExecution.sync');
      expect(task.Parameters!.WorkGroup).toBe('cvm-dev');
      expect(task.Parameters!.QueryExecutionContext).toEqual({ Database: 'cvm_dev' });
      expect(task.Retry![0]!.ErrorEquals).toContain('Athena.TooManyRequestsException');
    }
    expect(parallel.ResultPath).toBe('$.athena');
  });

  it('scores the UNLOAD parts with a Distributed Map reading the S3 listing, at bounded concurrency', () => {
    const map = definition.States.Recalculate!.Branches![0]!.States.ScoreParts!;
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor!.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemReader).toEqual({
      Resource: 'arn:<AWS::Partition>:states:::s3:listObjectsV2',
      Parameters: {
        Bucket: `<${logicalIdOf(synth.stack, synth.stack.storage.dataBucket)}>`,
        'Prefix.$': '$.summaryPrefix',
      },
    });
    expect(map.ItemSelector).toEqual({ 'run.$': '$', 'partKey.$': '$$.Map.Item.Value.Key' });
    expect(map.MaxConcurrency).toBe(4);
    // Part results stay in S3 (they could outgrow the 256 KB state).
    expect(map.ResultPath).toBeNull();
    const scorePart = map.ItemProcessor!.States[map.ItemProcessor!.StartAt]!;
    expect(scorePart.Resource).toBe(`<${functionId('scorePart')}.Arn>`);
    // A part that timed out or stayed throttled is retried on its own (ScorePart is repeatable).
    const partRetry = scorePart.Retry!.find((r) => r.ErrorEquals.includes('Sandbox.Timedout'));
    expect(partRetry?.ErrorEquals).toEqual([...PART_RETRY.errors]);
    expect(partRetry?.MaxAttempts).toBe(PART_RETRY.maxAttempts);
  });

  it('retries Lambda service errors with exponential backoff on every step', () => {
    const branch = definition.States.Recalculate!.Branches![0]!;
    const map = branch.States.ScoreParts!.ItemProcessor!;
    const lambdaStates = [
      definition.States.AcquireLock,
      branch.States.Prepare,
      branch.States.SelectData,
      branch.States.PlanRun,
      branch.States.FitModels,
      map.States.ScorePart,
      branch.States.Finalize,
      definition.States.ReleaseLock,
      definition.States.ReleaseLockAfterFailure,
    ];
    for (const state of lambdaStates) {
      const retry = state!.Retry![0]!;
      expect(retry.ErrorEquals).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
      expect(retry.BackoffRate).toBe(2);
      expect(retry.MaxAttempts).toBeGreaterThan(1);
    }
  });

  it('catches any error of the run, releases the lock with the error, then fails', () => {
    expect(definition.States.Recalculate!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ReleaseLockAfterFailure' },
    ]);
    const release = definition.States.ReleaseLockAfterFailure!;
    expect(release.Resource).toBe(`<${functionId('releaseLock')}.Arn>`);
    expect(release.Next).toBe('RecalculationFailed');
    expect(definition.States.RecalculationFailed!.Type).toBe('Fail');
    // Not getting the lock fails without releasing someone else's lock.
    expect(definition.States.AcquireLock!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'LockNotAcquired' },
    ]);
    expect(definition.States.LockNotAcquired!.Type).toBe('Fail');
  });

  it('records the execution as the lock holder: the acquire payload is the input plus lockHolder', () => {
    const acquire = definition.States.AcquireLock!;
    expect(acquire.Resource).toBe('arn:<AWS::Partition>:states:::lambda:invoke');
    expect(acquire.Parameters!.FunctionName).toBe(`<${functionId('acquireLock')}.Arn>`);
    expect((acquire as { OutputPath?: string }).OutputPath).toBe('$.Payload');
    expect(acquire.Parameters!['Payload.$']).toBe(
      `States.JsonMerge($, States.StringToJson(States.Format('\\{"lockHolder":"{}"\\}', $$.Execution.Id)), false)`,
    );
  });

  it('releases the lock of an execution that timed out, was stopped or failed uncaught', () => {
    const stateMachineRef = { Ref: logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine) };
    const rule = logicalIdOf(synth.stack, synth.stack.recalculation.executionEndedRule);
    const properties = resources[rule]!.Properties;
    expect(properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [stateMachineRef], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
    });
    expect(properties.Targets).toHaveLength(1);
    expect(properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [functionId('executionEnded'), 'Arn'] });
    expect(properties.Targets[0].RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 7200,
      MaximumRetryAttempts: 8,
    });
    expect(resources[functionId('executionEnded')]!.Properties.Handler).toBe('index.executionEnded');
  });

  it('logs every execution event and traces with X-Ray', () => {
    const { properties } = recalcStateMachine();
    expect(properties.LoggingConfiguration.Level).toBe('ALL');
    expect(properties.TracingConfiguration).toEqual({ Enabled: true });
  });
});

describe('recalculation: state machine built from the pipeline definition', () => {
  it('has the definition’s state names in the definition’s order', () => {
    const expected = pipelineStateNames();
    expect(path(definition)).toEqual(expected.top);
    expect(path(definition.States.Recalculate!.Branches![0]!)).toEqual(expected.body);
    expect(definition.States[RECALC_PIPELINE.onFailure.stateName]!.Next).toBe(
      RECALC_PIPELINE.onFailure.failStateName,
    );
    expect(definition.States[RECALC_PIPELINE.acquire.lockFailedStateName]!.Type).toBe('Fail');
  });

  it('makes exactly the definition’s warehouse steps Athena tasks, and its Map step a Distributed Map', () => {
    const branch = definition.States.Recalculate!.Branches![0]!;
    for (const step of RECALC_PIPELINE.body.steps) {
      const state = branch.States[step.stateName]!;
      if (step.kind === 'warehouse') {
        const inner = state.Branches!.map((b) => b.StartAt);
        expect(inner).toEqual(
          step.queries.map((query) =>
            step.optionalQueries.includes(query)
              ? `${step.queryStateName(query)}IfRendered`
              : step.queryStateName(query),
          ),
        );
        for (const [index, b] of state.Branches!.entries()) {
          const query = step.queries[index]!;
          if (step.optionalQueries.includes(query)) {
            // A query the run did not render is skipped, not failed on a missing path.
            const choice = b.States[b.StartAt] as AslState & {
              Choices: Array<{ Variable: string; IsPresent: boolean; Next: string }>;
              Default: string;
            };
            expect(choice.Choices).toEqual([
              { Variable: `$.queries.${query}`, IsPresent: true, Next: step.queryStateName(query) },
            ]);
            expect(b.States[choice.Default]!.Type).toBe('Pass');
          }
          const task = athenaTaskOf(b);
          expect(task.Resource).toMatch(/:states:::athena:startQueryExecution\.sync$/);
          expect(task.Retry![0]).toMatchObject({
            ErrorEquals: [...WAREHOUSE_RETRY.errors],
            MaxAttempts: WAREHOUSE_RETRY.maxAttempts,
            IntervalSeconds: WAREHOUSE_RETRY.intervalSeconds,
          });
        }
        expect(state.ResultPath).toBe(step.resultPath);
      } else if (step.kind === 'map') {
        expect(state.ItemProcessor!.StartAt).toBe(step.itemStateName);
        expect(state.ItemProcessor!.States[step.itemStateName]!.Resource).toBe(
          `<${functionId(step.handler)}.Arn>`,
        );
      } else {
        expect(state.Resource).toBe(`<${functionId(step.handler)}.Arn>`);
        expect(state.Retry![0]).toMatchObject({
          ErrorEquals: [...LAMBDA_RETRY.errors],
          MaxAttempts: LAMBDA_RETRY.maxAttempts,
          BackoffRate: LAMBDA_RETRY.backoffRate,
        });
        expect(state.ResultPath ?? '$').toBe(step.resultPath ?? null);
      }
    }
  });
});

describe('recalculation: schedule, events, configuration', () => {
  it('starts the state machine on Mondays 03:00 Amsterdam time with the configured model', () => {
    const { properties } = onlyResource(synth.template, 'AWS::Scheduler::Schedule');
    expect(properties.ScheduleExpression).toBe('cron(0 3 ? * MON *)');
    expect(properties.ScheduleExpressionTimezone).toBe('Europe/Amsterdam');
    expect(properties.State).toBe('ENABLED');
    const stateMachineId = logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine);
    expect(properties.Target.Arn).toEqual({ Ref: stateMachineId });
    expect(JSON.parse(properties.Target.Input)).toEqual({ model: 'auto', requestedBy: 'schedule' });
  });

  it('lets only SendChangeEvents put events on the change-event bus', () => {
    const busArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.recalculation.eventBus), 'Arn'] };
    const putEvents = Object.values(synth.template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('events:PutEvents'),
    );
    expect(putEvents).toHaveLength(1);
    expect(JSON.stringify(putEvents[0]!.Properties.Roles)).toContain(
      logicalIdOf(synth.stack, synth.stack.recalculation.steps.sendChangeEvents.role),
    );
    expect(putEvents[0]!.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Action: 'events:PutEvents', Resource: busArn }),
    );
  });

  it('gives the step functions the warehouse and bus settings', () => {
    const variables = resources[functionId('prepare')]!.Properties.Environment.Variables;
    expect(variables[ENV.athenaWorkgroup]).toBe('cvm-dev');
    expect(variables[ENV.glueDatabase]).toBe('cvm_dev');
    expect(variables[ENV.eventBusName]).toEqual({
      Ref: logicalIdOf(synth.stack, synth.stack.recalculation.eventBus),
    });
    expect(variables[ENV.bucket]).toEqual({ Ref: logicalIdOf(synth.stack, synth.stack.storage.dataBucket) });
  });

  it('tells prepare the Map concurrency it sizes the index shards for, the one the Map runs with', () => {
    const other = synthPipeline({ model: 'auto', scoreMaxConcurrency: 25 });
    try {
      const prepareId = logicalIdOf(other.stack, other.stack.recalculation.steps.prepare.function);
      const functions = other.template.toJSON().Resources as typeof resources;
      expect(functions[prepareId]!.Properties.Environment.Variables[ENV.scoreMaxConcurrency]).toBe('25');
      const machine = functions[logicalIdOf(other.stack, other.stack.recalculation.stateMachine)]!;
      const map = renderDefinition(machine.Properties).States.Recalculate!.Branches![0]!.States.ScoreParts!;
      expect(map.MaxConcurrency).toBe(25);
    } finally {
      other.cleanup();
    }
  });

  it('lets the state machine run queries only in its own workgroup and read only its Glue table', () => {
    const roleId = logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine.role as never);
    const statements = Object.values(synth.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, CfnJson>>);
    const athena = statements.find((statement) => statement.Sid === 'RunQueriesInWorkgroup')!;
    expect(JSON.stringify(athena.Resource)).toContain(':workgroup/cvm-dev');
    const glue = statements.find((statement) => statement.Sid === 'ReadTableMetadata')!;
    expect(glue.Action).toEqual(['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions']);
    expect(JSON.stringify(glue.Resource)).toContain(`:table/cvm_dev/${TRANSACTIONS_RELATION}`);
    expect(JSON.stringify(statements)).not.toMatch(/glue:(Create|Delete|Update)/);
    expect(athena.Action).toEqual(
      expect.arrayContaining([
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:StopQueryExecution',
      ]),
    );
  });

  it('gives no recalculation function Athena or Glue access, nor a read of the clean data', () => {
    // Every query runs as a state machine task: no Lambda starts one or waits for its results.
    const statementsOf = (role: unknown) => {
      const roleId = logicalIdOf(synth.stack, role as never);
      return Object.values(synth.template.findResources('AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, CfnJson>>);
    };
    const actionsOf = (statements: Array<Record<string, CfnJson>>) =>
      statements.flatMap((statement) => [statement.Action].flat() as string[]);
    const cleanReads = (statements: Array<Record<string, CfnJson>>) =>
      JSON.stringify(statements.filter((statement) => actionsOf([statement]).includes('s3:GetObject')));
    // The state machine, which starts the queries, has what they need: the check can tell.
    const machine = statementsOf(synth.stack.recalculation.stateMachine.role);
    expect(actionsOf(machine)).toContain('athena:StartQueryExecution');
    expect(cleanReads(machine)).toContain(`/${BUCKET_PREFIXES.clean}`);
    for (const [name, fn] of Object.entries(synth.stack.recalculation.steps)) {
      const statements = statementsOf(fn.role);
      expect(actionsOf(statements).length, name).toBeGreaterThan(0);
      expect(
        actionsOf(statements).filter((action) => /^(athena|glue):/.test(action)),
        name,
      ).toEqual([]);
      expect(cleanReads(statements), name).not.toContain(`/${BUCKET_PREFIXES.clean}`);
    }
  });
});
