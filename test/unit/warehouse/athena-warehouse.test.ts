/**
 * The Athena warehouse: UNLOAD submission, polling with jittered backoff, failure reasons, throttling
 * retries, timeouts, and the queries rendered for Step Functions.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  athenaRecalcQueries,
  athenaUnloadSql,
  createAthenaWarehouse,
  parseAthenaUnload,
} from '#adapters/warehouse/athena-warehouse.ts';
import { histogramStatement, recalcStatements } from '#adapters/warehouse/queries.ts';
import { createRecalcQueries } from '#adapters/warehouse/recalc-queries.ts';

const athena = new AthenaClient({ region: 'eu-west-1' });
const s3 = new S3Client({ region: 'eu-west-1' });
const athenaMock = mockClient(athena);
const s3Mock = mockClient(s3);

const PARAMS = {
  asOf: '1998-06-30',
  calibrationEnd: '1997-09-30',
  timeUnit: 'weeks',
  currency: 'USD',
} as const;

const execution = (state: QueryExecutionState, extra: Record<string, unknown> = {}) => ({
  QueryExecution: { QueryExecutionId: 'q-1', Status: { State: state, ...extra } },
});

function throttled(name = 'TooManyRequestsException') {
  return name === 'TooManyRequestsException'
    ? new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} })
    : Object.assign(new Error('Rate exceeded'), { name });
}

describe('Athena warehouse', () => {
  let sleeps: number[];
  const warehouse = () =>
    createAthenaWarehouse({
      athena,
      s3,
      bucket: 'cvm-bucket',
      workgroup: 'cvm-wg',
      database: 'cvm_db',
      polling: { initialDelayMs: 100, maxDelayMs: 1000, timeoutMs: 5000, maxThrottleRetries: 3 },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
    });

  beforeEach(() => {
    sleeps = [];
    athenaMock.reset();
    s3Mock.reset();
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  });
  afterEach(() => {
    athenaMock.reset();
    s3Mock.reset();
  });

  it('submits the statement text inside UNLOAD, with the workgroup and the database', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    const statement = histogramStatement(PARAMS);
    const parts = await warehouse().unload(statement, {
      bucket: 'cvm-bucket',
      prefix: 'runs/r-1/histogram/',
    });

    const [call] = athenaMock.commandCalls(StartQueryExecutionCommand);
    const input = call!.args[0].input;
    expect(input.WorkGroup).toBe('cvm-wg');
    expect(input.QueryExecutionContext).toEqual({ Database: 'cvm_db' });
    expect(input.QueryString).toBe(
      `UNLOAD (${statement.sql}) TO 's3://cvm-bucket/runs/r-1/histogram/' WITH (format = 'PARQUET', compression = 'SNAPPY')`,
    );
    expect(parts).toEqual({ bucket: 'cvm-bucket', prefix: 'runs/r-1/histogram/', keys: [] });
  });

  it('polls QUEUED and RUNNING with exponential backoff capped at the maximum delay', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED'));
    await warehouse().execute('SELECT 1', 'probe');
    // random() = 1 → the full exponential delay: 100, 200, 400, 800, then capped at 1000.
    expect(sleeps).toEqual([100, 200, 400, 800, 1000]);
    expect(athenaMock.commandCalls(GetQueryExecutionCommand)).toHaveLength(6);
  });

  it('jitters each delay between half and all of the exponential delay', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED'));
    const jittered = createAthenaWarehouse({
      athena,
      s3,
      bucket: 'b',
      workgroup: 'w',
      database: 'd',
      polling: { initialDelayMs: 100 },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0,
    });
    await jittered.execute('SELECT 1', 'probe');
    expect(sleeps).toEqual([50]);
  });

  it("fails with Athena's reason when the query FAILED", async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        StateChangeReason: 'line 3:5: Column x cannot be resolved',
        AthenaError: {
          ErrorCategory: 2,
          ErrorType: 1006,
          ErrorMessage: 'line 3:5: Column x cannot be resolved',
        },
      }),
    );
    await expect(warehouse().query(histogramStatement(PARAMS))).rejects.toThrow(
      "Athena query 'calibration-histogram' (q-1) FAILED: line 3:5: Column x cannot be resolved [1006]",
    );
  });

  it('fails with the state change reason when the query was CANCELLED', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolves(execution('CANCELLED', { StateChangeReason: 'Query cancelled by user' }));
    await expect(warehouse().execute('SELECT 1', 'probe')).rejects.toThrow(
      "Athena query 'probe' (q-1) CANCELLED: Query cancelled by user",
    );
  });

  it('retries throttled StartQueryExecution and GetQueryExecution calls', async () => {
    athenaMock
      .on(StartQueryExecutionCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled('ThrottlingException'))
      .resolves({ QueryExecutionId: 'q-1' });
    athenaMock.on(GetQueryExecutionCommand).rejectsOnce(throttled()).resolves(execution('SUCCEEDED'));
    await warehouse().execute('SELECT 1', 'probe');
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(3);
    expect(athenaMock.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
    expect(sleeps).toEqual([100, 200, 100]);
  });

  it('gives up with a clear message when throttling does not stop', async () => {
    athenaMock.on(StartQueryExecutionCommand).rejects(throttled());
    await expect(warehouse().execute('SELECT 1', 'probe')).rejects.toThrow(
      "Athena StartQueryExecution of 'probe' failed (still throttled after 4 attempts): Rate exceeded",
    );
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(4);
  });

  it('does not retry errors other than throttling', async () => {
    athenaMock
      .on(StartQueryExecutionCommand)
      .rejects(Object.assign(new Error('WorkGroup cvm-wg is disabled'), { name: 'InvalidRequestException' }));
    await expect(warehouse().execute('SELECT 1', 'probe')).rejects.toThrow(
      "Athena StartQueryExecution of 'probe' failed: WorkGroup cvm-wg is disabled",
    );
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('stops a query that outlives the timeout', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athenaMock.on(StopQueryExecutionCommand).resolves({});
    await expect(warehouse().execute('SELECT 1', 'probe')).rejects.toThrow(
      /'probe' \(q-1\) did not finish within 5 s \(last state RUNNING\); it was stopped/,
    );
    expect(athenaMock.commandCalls(StopQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryExecutionId: 'q-1',
    });
  });

  it('empties the unload prefix first, because UNLOAD refuses a non-empty location', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'runs/r-1/histogram/old-part', Size: 10 }] })
      .resolves({ Contents: [] });
    s3Mock.on(DeleteObjectsCommand).resolves({});
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    await warehouse().unload(histogramStatement(PARAMS), {
      bucket: 'cvm-bucket',
      prefix: 'runs/r-1/histogram/',
    });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)[0]!.args[0].input).toEqual({
      Bucket: 'cvm-bucket',
      Delete: { Objects: [{ Key: 'runs/r-1/histogram/old-part' }], Quiet: true },
    });
    const deleted = s3Mock.commandCalls(DeleteObjectsCommand)[0]!;
    const started = athenaMock.commandCalls(StartQueryExecutionCommand)[0]!;
    expect(deleted.calledBefore(started as never)).toBe(true);
  });
});

describe('rendered Athena queries for Step Functions', () => {
  it('wraps each recalculation statement unchanged, each into its own run prefix', () => {
    const queries = athenaRecalcQueries(PARAMS, { bucket: 'cvm-bucket', runId: '2026-11-23T06-00-00Z-ab12' });
    const statements = recalcStatements(PARAMS);
    expect(Object.keys(queries).sort()).toEqual(Object.keys(statements).sort());
    for (const [key, query] of Object.entries(queries)) {
      const statement = statements[key as keyof typeof statements]!;
      expect(query.outputPrefix).toBe(`runs/2026-11-23T06-00-00Z-ab12/${statement.name}/`);
      expect(query.queryString).toBe(
        athenaUnloadSql(statement.sql, `s3://cvm-bucket/runs/2026-11-23T06-00-00Z-ab12/${statement.name}/`),
      );
    }
    expect(new Set(Object.values(queries).map((q) => q.outputPrefix)).size).toBe(Object.keys(queries).length);
  });

  it('refuses locations that are not an s3 folder or could break out of the literal', () => {
    expect(() => athenaUnloadSql('SELECT 1', 's3://bucket/no-slash')).toThrow(
      /must be an s3:\/\/bucket\/prefix\//,
    );
    expect(() => athenaUnloadSql('SELECT 1', "s3://bucket/it's/")).toThrow(/without quotes/);
    expect(() => athenaRecalcQueries(PARAMS, { bucket: 'b', runId: '../x' })).toThrow(/Invalid run id/);
  });

  it('takes an UNLOAD text apart again for the local runner: the same SELECT, to the same prefix', () => {
    const queries = createRecalcQueries('cvm-bucket');
    for (const statement of Object.values(recalcStatements(PARAMS))) {
      const task = queries.unloadTask(statement, 'run-1');
      expect(task.outputPrefix).toBe(`runs/run-1/${statement.name}/`);
      expect(queries.parseUnload(task.queryString)).toEqual({
        sql: statement.sql,
        outputPrefix: task.outputPrefix,
      });
    }
    expect(() => queries.parseUnload('SELECT 1')).toThrow(/Not an UNLOAD text of this pipeline/);
    const elsewhere = athenaUnloadSql('SELECT 1', 's3://other-bucket/runs/run-1/x/');
    expect(parseAthenaUnload(elsewhere)).toEqual({
      sql: 'SELECT 1',
      bucket: 'other-bucket',
      prefix: 'runs/run-1/x/',
    });
    expect(() => queries.parseUnload(elsewhere)).toThrow(/not the pipeline bucket cvm-bucket/);
  });
});
