import { join } from 'node:path';
import type { ExportSink, ParsedRow, RejectedRow } from '../../domain/ingest/export-parser.ts';
import { BufferedFileWriter } from './buffered-file-writer.ts';

/**
 * Columns of the staged accepted-rows file, in file order, with the DuckDB types it is read back with.
 * The file is tab-separated, RFC 4180 quoted only where a value needs it; an empty field is NULL.
 * `currency` (validated ISO 4217 code) and `row_hash` (hex) never need quoting.
 */
export const STAGED_COLUMNS = {
  line: 'BIGINT',
  customer_id: 'VARCHAR',
  order_id: 'VARCHAR',
  order_ts_us: 'BIGINT',
  amount_cents: 'BIGINT',
  currency: 'VARCHAR',
  channel: 'VARCHAR',
  quantity: 'BIGINT',
  row_hash: 'VARCHAR',
} as const;

/** A text value as a TSV field: quoted (RFC 4180) only when it holds a tab, newline or quote. */
function field(value: string): string {
  // A plain loop beats a regular expression on the short ids this sees per row.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13 || c === 34) return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}

export interface StagingCounts {
  accepted: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Accepted rows whose amount was empty: only these need the line-item rule in DuckDB. */
  emptyAmountRows: number;
}

/**
 * The parser's sink during an ingest: accepted rows go to a staged TSV file for DuckDB, rejected rows
 * to a JSON Lines file (the rejects file users read), so no row is kept in memory.
 */
export class StagingSink implements ExportSink {
  readonly acceptedPath: string;
  readonly rejectedPath: string;
  readonly counts: StagingCounts = { accepted: 0, rejected: 0, rejectReasons: {}, emptyAmountRows: 0 };
  readonly #accepted: BufferedFileWriter;
  readonly #rejected: BufferedFileWriter;

  constructor(workDir: string) {
    this.acceptedPath = join(workDir, 'accepted.tsv');
    this.rejectedPath = join(workDir, 'rejected.jsonl');
    this.#accepted = new BufferedFileWriter(this.acceptedPath);
    this.#rejected = new BufferedFileWriter(this.rejectedPath);
  }

  accept(row: ParsedRow): void {
    this.counts.accepted++;
    if (row.amountCents === null) this.counts.emptyAmountRows++;
    this.#accepted.write(
      `${row.line}\t${field(row.customerId)}\t${field(row.orderId)}\t${row.orderTsMicros}\t${
        row.amountCents ?? ''
      }\t${row.currency}\t${row.channel === null ? '' : field(row.channel)}\t${
        row.quantity ?? ''
      }\t${row.rowHash}\n`,
    );
  }

  reject(row: RejectedRow): void {
    this.counts.rejected++;
    this.counts.rejectReasons[row.reason] = (this.counts.rejectReasons[row.reason] ?? 0) + 1;
    this.#rejected.write(
      `${JSON.stringify({ line: row.line, reason: row.reason, message: row.message, raw: row.raw })}\n`,
    );
  }

  /** Bytes in the rejects file (0 when no row was rejected). Valid after {@link close}. */
  get rejectedBytes(): number {
    return this.#rejected.bytesWritten;
  }

  close(): void {
    this.#accepted.close();
    this.#rejected.close();
  }
}
