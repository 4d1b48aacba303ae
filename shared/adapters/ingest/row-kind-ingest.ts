/**
 * The two ingest stages shared by the exports of one row per customer fact (customer attributes,
 * subscriptions): the stored bytes through the kind's parser into a staged JSON Lines file, then
 * DuckDB drops erased customers and writes the typed clean Parquet file. Rows are not merged here:
 * each kind's "latest row wins" rule is applied when it is read, so files can arrive in any order.
 */
import { join } from 'node:path';
import type { FinishedUpload } from '#app/ports/ingest-pipeline.ts';
import type { RejectedRow } from '#domain/ingest/export-parser.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import { openDuckDb, sqlLiteral } from '../duckdb.ts';
import { BufferedFileWriter } from './buffered-file-writer.ts';
import { decompressedFileName, openExportByteStream } from './export-stream.ts';
import { type FinishStagedInput, withoutSuppressedCustomers } from './finish-with-duckdb.ts';
import { isZlibError, type StagedExport, type StageExportInput } from './stage-export.ts';

/** The parser of a kind as the first stage drives it (`createCsvKindParser`'s result). */
interface RowKindParser {
  write(chunk: Uint8Array): void;
  end(): StagedExport['summary'];
}

/** What distinguishes one row kind's stages from another's. */
export interface RowKind<Row> {
  /** Short name of the kind in work file names (`accepted-<name>.jsonl`, `clean-<name>.parquet`). */
  name: string;
  createParser(
    input: StageExportInput,
    sink: { accept(row: Row): void; reject(row: RejectedRow): void },
  ): RowKindParser;
  /** The staged object of an accepted row; its fields are `stagedFields`. */
  staged(row: Row): Record<string, unknown>;
  /** Staged fields with the types DuckDB reads them as (`line` first). */
  stagedFields: Readonly<Record<string, string>>;
  /** The clean Parquet's select list over the staged fields, without the ingest columns. */
  cleanSelect: string;
}

/** First stage: same inputs and result shape as `stageExport`. */
export async function stageRowKind<Row>(kind: RowKind<Row>, input: StageExportInput): Promise<StagedExport> {
  const started = performance.now();
  const acceptedPath = join(input.workDir, `accepted-${kind.name}.jsonl`);
  const rejectedPath = join(input.workDir, 'rejected.jsonl');
  const accepted = new BufferedFileWriter(acceptedPath);
  const rejected = new BufferedFileWriter(rejectedPath);
  const counts = {
    accepted: 0,
    rejected: 0,
    rejectReasons: {} as Record<string, number>,
    emptyAmountRows: 0,
    duplicateCandidates: 0,
  };
  const sink = {
    accept(row: Row) {
      counts.accepted++;
      accepted.write(`${JSON.stringify(kind.staged(row))}\n`);
    },
    reject(row: RejectedRow) {
      counts.rejected++;
      counts.rejectReasons[row.reason] = (counts.rejectReasons[row.reason] ?? 0) + 1;
      rejected.write(
        `${JSON.stringify({ line: row.line, reason: row.reason, message: row.message, raw: row.raw })}\n`,
      );
    },
  };
  try {
    const bytes = await openExportByteStream(input.stored, input.fileName);
    const parser = kind.createParser({ ...input, fileName: decompressedFileName(input.fileName) }, sink);
    for await (const chunk of bytes.chunks) parser.write(chunk);
    const summary = parser.end();
    accepted.close();
    rejected.close();
    return {
      sha256: bytes.sha256(),
      storedBytes: bytes.storedBytes(),
      gzipped: bytes.gzipped,
      summary,
      rowsRead: counts.accepted + counts.rejected,
      counts,
      acceptedPath,
      rejectedPath,
      rejectedBytes: rejected.bytesWritten,
      parseMs: performance.now() - started,
    };
  } catch (error) {
    accepted.close();
    rejected.close();
    if (error instanceof IngestFileError && !error.message.includes(input.fileName)) {
      error.message = `${input.fileName}: ${error.message}`;
    }
    if (isZlibError(error)) {
      throw new IngestFileError('gzip_corrupt', `${input.fileName}: not a readable gzip file`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** A staged whole-cents column as the clean DECIMAL(18,2). */
export const centsSql = (column: string) =>
  `(${column}::DECIMAL(18, 0) * 0.01::DECIMAL(3, 2))::DECIMAL(18, 2)`;

/**
 * Second stage: the staged rows, without erased customers, to clean Parquet. Every accepted row is
 * kept (an exact re-drop of a file is caught earlier by its content hash; a changed re-export adds
 * rows the kind's latest-row rule resolves when read).
 */
export async function finishRowKindWithDuckDb<Row>(
  kind: RowKind<Row>,
  input: FinishStagedInput,
): Promise<FinishedUpload> {
  const started = performance.now();
  const none = {
    accepted: 0,
    duplicates: 0,
    lateRejected: 0,
    suppressed: 0,
    amountTotals: {},
    parquetPath: null,
    lateRejectsPath: null,
  };
  if (input.stagedRows === 0) return { ...none, finishMs: performance.now() - started };
  // Within the memory limit only with somewhere to spill.
  const db = await openDuckDb({
    memoryLimit: input.memoryLimit ?? '96MB',
    threads: input.threads ?? 1,
    tempDirectory: join(input.workDir, 'duckdb-spill'),
  });
  const sql = (text: string) => db.connection.run(text);
  const count = async (relation: string) =>
    Number((await db.connection.runAndReadAll(`SELECT count(*) FROM ${relation}`)).getRowsJson()[0]?.[0]);
  try {
    const fields = Object.entries(kind.stagedFields)
      .map(([name, type]) => `${sqlLiteral(name)}: ${sqlLiteral(type)}`)
      .join(', ');
    await sql(
      `CREATE VIEW staged AS SELECT * FROM read_json(${sqlLiteral(input.acceptedPath)},
         format = 'newline_delimited', columns = {${fields}})`,
    );
    const { relation: kept, suppressed } = await withoutSuppressedCustomers(db.connection, input, 'staged');
    const accepted = await count(kept);
    if (accepted === 0) return { ...none, suppressed, finishMs: performance.now() - started };
    const parquetPath = join(input.workDir, `clean-${kind.name}.parquet`);
    // No ORDER BY: the staged rows are in line order already and DuckDB keeps insertion order; sorting
    // a million rows would not fit the memory limit.
    await sql(
      `COPY (SELECT ${kind.cleanSelect},
                    ${sqlLiteral(input.ingestId)} AS ingest_id,
                    ${sqlLiteral(input.ingestedAt.toISOString())}::TIMESTAMPTZ AS ingested_at,
                    line AS line_number
             FROM ${kept})
       TO ${sqlLiteral(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return {
      accepted,
      duplicates: 0,
      lateRejected: 0,
      suppressed,
      amountTotals: {},
      parquetPath,
      lateRejectsPath: null,
      finishMs: performance.now() - started,
    };
  } finally {
    db.close();
  }
}
