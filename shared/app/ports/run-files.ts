/**
 * The run files port: a run's working files in the data bucket (settings, suppression snapshot,
 * summary Parquet parts, part results, change lists, report), keyed with `bucket-layout.ts`.
 */

export interface RunFiles {
  /** Where a key lives, for messages (`s3://bucket/key`). */
  location(key: string): string;
  /** A JSON file, or `undefined` when it does not exist. */
  getJson(key: string): Promise<unknown>;
  getText(key: string): Promise<string>;
  putJson(key: string, value: unknown): Promise<void>;
  putText(key: string, text: string, contentType: string): Promise<void>;
  /** Every key under a prefix, sorted. */
  listKeys(prefix: string): Promise<string[]>;
  /** Deletes everything under a prefix; returns how many files. */
  deletePrefix(prefix: string): Promise<number>;
  /** The Parquet data parts under a prefix, sorted (markers and empty files skipped). */
  listParts(prefix: string): Promise<string[]>;
  /** Rows of every Parquet part under a prefix (or of the one part a full key names), batch by batch. */
  readParts<Row>(prefix: string, decode: (raw: Record<string, unknown>) => Row): AsyncGenerator<Row[]>;
  /** Keys of every clean transaction Parquet object. */
  listCleanObjects(): Promise<string[]>;
}
