/**
 * The ingest pipeline's stages for a customer attributes export (docs/economics.md): the stored bytes
 * through the attributes parser into a staged JSON Lines file, then DuckDB drops erased customers and
 * writes the typed clean Parquet file. Rows are not merged here: "latest value wins" is applied when
 * the attributes are read (`customerAttributesStatement`), so files can arrive in any order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FinishedUpload } from '#app/ports/ingest-pipeline.ts';
import { createAttributesParser } from '#domain/economics/attributes-export-parser.ts';
import type { CustomerAttributesRow } from '#domain/economics/customer-attributes.ts';
import type { RejectedRow } from '#domain/ingest/export-parser.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import { openDuckDb, sqlLiteral } from '../duckdb.ts';
import { BufferedFileWriter } from './buffered-file-writer.ts';
import { decompressedFileName, openExportByteStream } from './export-stream.ts';
import type { FinishStagedInput } from './finish-with-duckdb.ts';
import type { StagedExport, StageExportInput } from './stage-export.ts';

/**
 * Columns of the clean attributes Parquet (`clean/customer_attributes/`), in file order, with their
 * DuckDB types; the Glue table `customer_attributes` declares the same (Hive names).
 */
export const CLEAN_ATTRIBUTE_COLUMNS = {
  customer_id: 'VARCHAR',
  updated_at: 'TIMESTAMPTZ',
  acquired_at: 'TIMESTAMPTZ',
  acquisition_channel: 'VARCHAR',
  acquisition_cost: 'DECIMAL(18,2)',
  service_contacts: 'BIGINT',
  service_cost: 'DECIMAL(18,2)',
  satisfaction_scale: 'VARCHAR',
  satisfaction_score: 'BIGINT',
  marketing_consent: 'BOOLEAN',
  ingest_id: 'VARCHAR',
  ingested_at: 'TIMESTAMPTZ',
  line_number: 'BIGINT',
} as const;

/** Staged fields (JSON Lines, one object per accepted row) with the types DuckDB reads them as. */
const STAGED_ATTRIBUTE_FIELDS = {
  line: 'BIGINT',
  customer_id: 'VARCHAR',
  updated_at_us: 'BIGINT',
  acquired_at_us: 'BIGINT',
  acquisition_channel: 'VARCHAR',
  acquisition_cost_cents: 'BIGINT',
  service_contacts: 'BIGINT',
  service_cost_cents: 'BIGINT',
  satisfaction_scale: 'VARCHAR',
  satisfaction_score: 'BIGINT',
  marketing_consent: 'BOOLEAN',
} as const;

/** First stage for an attributes export: same inputs and result shape as `stageExport`. */
export async function stageAttributes(input: StageExportInput): Promise<StagedExport> {
  const started = performance.now();
  const acceptedPath = join(input.workDir, 'accepted-attributes.jsonl');
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
    accept(row: CustomerAttributesRow) {
      counts.accepted++;
      accepted.write(
        `${JSON.stringify({
          line: row.line,
          customer_id: row.customerId,
          updated_at_us: row.updatedAtMicros,
          acquired_at_us: row.acquiredAtMicros,
          acquisition_channel: row.acquisitionChannel,
          acquisition_cost_cents: row.acquisitionCostCents,
          service_contacts: row.serviceContacts,
          service_cost_cents: row.serviceCostCents,
          satisfaction_scale: row.satisfaction?.scale ?? null,
          satisfaction_score: row.satisfaction?.score ?? null,
          marketing_consent: row.marketingConsent,
        })}\n`,
      );
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
    const parser = createAttributesParser({
      fileName: decompressedFileName(input.fileName),
      config: input.config,
      sink,
    });
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
    if (
      typeof (error as { code?: unknown })?.code === 'string' &&
      (error as { code: string }).code.startsWith('Z_')
    ) {
      throw new IngestFileError('gzip_corrupt', `${input.fileName}: not a readable gzip file`, {
        cause: error,
      });
    }
    throw error;
  }
}

const cents = (column: string) => `(${column}::DECIMAL(18, 0) * 0.01::DECIMAL(3, 2))::DECIMAL(18, 2)`;

/**
 * Second stage for an attributes export: the staged rows, without erased customers, to clean Parquet
 * with the types of {@link CLEAN_ATTRIBUTE_COLUMNS}. Every accepted row is kept (an exact re-drop of a
 * file is caught earlier by its content hash; a changed re-export adds rows the latest-value merge
 * resolves).
 */
export async function finishAttributesWithDuckDb(input: FinishStagedInput): Promise<FinishedUpload> {
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
  // Within the memory limit only with somewhere to spill: ordering a million staged rows needs more.
  const db = await openDuckDb({
    memoryLimit: input.memoryLimit ?? '96MB',
    threads: input.threads ?? 1,
    tempDirectory: join(input.workDir, 'duckdb-spill'),
  });
  const sql = (text: string) => db.connection.run(text);
  const count = async (relation: string) =>
    Number((await db.connection.runAndReadAll(`SELECT count(*) FROM ${relation}`)).getRowsJson()[0]?.[0]);
  try {
    const fields = Object.entries(STAGED_ATTRIBUTE_FIELDS)
      .map(([name, type]) => `${sqlLiteral(name)}: ${sqlLiteral(type)}`)
      .join(', ');
    await sql(
      `CREATE VIEW staged AS SELECT * FROM read_json(${sqlLiteral(input.acceptedPath)},
         format = 'newline_delimited', columns = {${fields}})`,
    );
    let kept = 'staged';
    let suppressed = 0;
    if ((input.suppressedHashes?.length ?? 0) > 0) {
      const hashesPath = join(input.workDir, 'suppressed-hashes.csv');
      writeFileSync(hashesPath, `${input.suppressedHashes!.join('\n')}\n`);
      await sql(
        `CREATE VIEW unsuppressed AS SELECT * FROM staged WHERE sha256(customer_id) NOT IN (
           SELECT hash FROM read_csv(${sqlLiteral(hashesPath)}, header = false, auto_detect = false,
             new_line = '\\n', columns = {'hash': 'VARCHAR'}))`,
      );
      suppressed = (await count('staged')) - (await count('unsuppressed'));
      if (suppressed > 0) kept = 'unsuppressed';
    }
    const accepted = await count(kept);
    if (accepted === 0) return { ...none, suppressed, finishMs: performance.now() - started };
    const parquetPath = join(input.workDir, 'clean-attributes.parquet');
    await sql(
      `COPY (SELECT customer_id,
                    make_timestamptz(updated_at_us) AS updated_at,
                    make_timestamptz(acquired_at_us) AS acquired_at,
                    acquisition_channel,
                    ${cents('acquisition_cost_cents')} AS acquisition_cost,
                    service_contacts,
                    ${cents('service_cost_cents')} AS service_cost,
                    satisfaction_scale, satisfaction_score, marketing_consent,
                    ${sqlLiteral(input.ingestId)} AS ingest_id,
                    ${sqlLiteral(input.ingestedAt.toISOString())}::TIMESTAMPTZ AS ingested_at,
                    line AS line_number
             FROM ${kept} ORDER BY line)
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
