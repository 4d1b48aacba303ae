/**
 * Picks the warehouse adapter from the runtime configuration: Athena when a workgroup and a Glue
 * database are configured (AWS), else DuckDB over a mirror under `CVM_HOME/warehouse` (local).
 */
import { join } from 'node:path';
import type { Warehouse } from '#app/ports/warehouse.ts';
import type { AwsClients } from '../aws-clients.ts';
import type { RuntimeConfig } from '../config.ts';
import { createAthenaWarehouse } from './athena-warehouse.ts';
import { createDuckDbWarehouse, type DuckDbWarehouseOptions } from './duckdb-warehouse.ts';

export async function createWarehouse(
  config: RuntimeConfig,
  clients: Pick<AwsClients, 's3' | 'athena'>,
  local: Partial<
    Pick<DuckDbWarehouseOptions, 'cacheDirectory' | 'workDirectory' | 'duckDb' | 'onStatement'>
  > = {},
): Promise<Warehouse> {
  if (config.athenaWorkgroup && config.glueDatabase) {
    return createAthenaWarehouse({
      athena: clients.athena,
      s3: clients.s3,
      bucket: config.bucket,
      workgroup: config.athenaWorkgroup,
      database: config.glueDatabase,
    });
  }
  const cacheDirectory = local.cacheDirectory ?? (config.home ? join(config.home, 'warehouse') : undefined);
  if (!cacheDirectory) {
    throw new Error(
      'No warehouse configured: set CVM_ATHENA_WORKGROUP and CVM_GLUE_DATABASE (AWS), or CVM_HOME (local DuckDB)',
    );
  }
  return createDuckDbWarehouse({ ...local, s3: clients.s3, bucket: config.bucket, cacheDirectory });
}

export type { ParquetParts, Statement, UnloadTarget, Warehouse } from '#app/ports/warehouse.ts';
