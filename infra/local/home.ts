/**
 * Where the local stack keeps its state (bucket files, tables, DuckDB mirror, events): `$CVM_HOME`,
 * else `.cvm` in the working directory. The one place that default is written.
 */
import { resolve } from 'node:path';

export const CVM_HOME_DEFAULT = '.cvm';

/** Absolute path of the local stack's home directory. */
export function cvmHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CVM_HOME || CVM_HOME_DEFAULT);
}
