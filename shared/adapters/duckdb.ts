/**
 * Embedded DuckDB opened the same way for every caller (UTC, bounded memory, nothing downloaded at run
 * time), and quoting of the SQL literals that cannot be bound.
 */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface DuckDbOptions {
  /** Database file, or ':memory:'. @default ':memory:' */
  path?: string;
  /** Upper bound on DuckDB's own memory; it spills to `tempDirectory` beyond it. @default '256MB' */
  memoryLimit?: string;
  /** @default 2 */
  threads?: number;
  /** Where DuckDB spills. @default the OS temp directory */
  tempDirectory?: string;
}

/**
 * Opens an embedded DuckDB with the settings every caller needs: UTC session time zone (DuckDB takes
 * the process TZ otherwise, so `::DATE` would differ by machine and from Athena), bounded memory and
 * no network extensions (nothing may download at run time).
 */
export async function openDuckDb(options: DuckDbOptions = {}): Promise<{
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  close(): void;
}> {
  const instance = await DuckDBInstance.create(options.path ?? ':memory:', {
    memory_limit: options.memoryLimit ?? '256MB',
    threads: String(options.threads ?? 2),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    ...(options.tempDirectory ? { temp_directory: options.tempDirectory } : {}),
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Quotes a string as a SQL literal (paths and ids in COPY/read_* calls cannot be bound parameters). */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
