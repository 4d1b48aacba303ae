/**
 * The Athena warehouse adapter with a mocked Athena client that runs each UNLOAD on DuckDB: the same-SQL
 * tests give one statement text to both adapters and compare what comes back through the real read path.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { createAthenaWarehouse } from '#adapters/warehouse/athena-warehouse.ts';
import type { DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import type { LocalStack } from '#infra/local/stack.ts';

const UNLOAD =
  /^UNLOAD \(([\s\S]*)\) TO '(s3:\/\/([^/']+)\/([^']*))' WITH \(format = 'PARQUET', compression = 'SNAPPY'(?:, partitioned_by = ARRAY\['([a-z_]+)'\])?\)$/;

export interface AthenaOverDuckDb {
  warehouse: ReturnType<typeof createAthenaWarehouse>;
  /** The SQL texts Athena was asked to run inside UNLOAD, in order. */
  submitted: string[];
  restore(): void;
}

export function athenaOverDuckDb(stack: LocalStack, duck: DuckDbWarehouse): AthenaOverDuckDb {
  const athena = new AthenaClient({ region: 'eu-west-1' });
  const athenaMock = mockClient(athena);
  const submitted: string[] = [];
  let executions = 0;
  athenaMock.on(StartQueryExecutionCommand).callsFake(async (input: StartQueryExecutionCommandInput) => {
    const match = UNLOAD.exec(input.QueryString ?? '');
    if (!match) throw new Error(`Not an UNLOAD statement: ${input.QueryString?.slice(0, 80)}`);
    const [, sql, , bucket, prefix, partitionedBy] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string | undefined,
    ];
    submitted.push(sql);
    await duck.unload(
      { name: 'athena-stand-in', sql, decode: (row) => row, ...(partitionedBy ? { partitionedBy } : {}) },
      { bucket, prefix },
    );
    return { QueryExecutionId: `q-${++executions}` };
  });
  athenaMock.on(GetQueryExecutionCommand).callsFake(async (input: { QueryExecutionId: string }) => ({
    QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: 'SUCCEEDED' } },
  }));
  const warehouse = createAthenaWarehouse({
    athena,
    s3: stack.clients.s3,
    bucket: stack.config.bucket,
    workgroup: 'cvm',
    database: 'cvm',
    resultsPrefix: 'runs/test-run/results/',
    sleep: async () => undefined,
  });
  return { warehouse, submitted, restore: () => athenaMock.restore() };
}
