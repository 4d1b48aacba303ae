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
  for (const macro of TRINO_MACROS) await connection.run(macro);
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * The Trino functions of the customer bucket (`customerBucketSql` in warehouse/queries.ts) that
 * DuckDB lacks or spells differently, so the warehouse SQL text is the same in both engines:
 * - `to_utf8(s)`: Trino turns text into its UTF-8 bytes for `sha256`; DuckDB's `sha256` hashes a
 *   VARCHAR's UTF-8 bytes directly, so the text itself.
 * - `to_hex(h)`: Trino's `to_hex(sha256(...))` is the digest as upper-case hex; DuckDB's `sha256`
 *   already returns lower-case hex text, so upper-casing it gives the same string. (This replaces
 *   DuckDB's own `to_hex` on this connection; no other statement uses it.)
 * - `from_base(s, 16)`: Trino parses hex text into a BIGINT; DuckDB casts a '0x' literal.
 */
const TRINO_MACROS = [
  'CREATE OR REPLACE TEMP MACRO to_utf8(s) AS s',
  'CREATE OR REPLACE TEMP MACRO to_hex(s) AS upper(s)',
  "CREATE OR REPLACE TEMP MACRO from_base(s, radix) AS CASE WHEN radix = 16 THEN CAST('0x' || s AS BIGINT) ELSE error('from_base: only radix 16 is defined here') END",
];

/** Quotes a string as a SQL literal (paths and ids in COPY/read_* calls cannot be bound parameters). */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
