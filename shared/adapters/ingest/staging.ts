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

const TAB = 9;
const LF = 10;

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
    const out = this.#accepted;
    const channel = row.channel ?? '';
    // Written byte by byte into the writer's buffer: no row string, no number-to-string conversion
    // (measured ~0.4 s CPU per million rows less than one template string per row). Bound: 3 bytes per
    // character; a quoted text doubles its quotes (2 bytes for a 1-byte character) and adds two.
    const textChars = row.customerId.length + row.orderId.length + row.currency.length + channel.length;
    const bound = 3 * (textChars + row.rowHash.length) + 6 + 4 * 21 + 9;
    if (!out.reserve(bound)) {
      out.write(this.#rowAsText(row));
      return;
    }
    out.integer(row.line);
    out.byte(TAB);
    this.#text(row.customerId);
    out.byte(TAB);
    this.#text(row.orderId);
    out.byte(TAB);
    // Epoch microseconds (years 1900–2199) and cents (at most MAX_SAFE_INTEGER) are safe integers.
    out.integer(Number(row.orderTsMicros));
    out.byte(TAB);
    if (row.amountCents !== null) out.integer(Number(row.amountCents));
    out.byte(TAB);
    out.ascii(row.currency);
    out.byte(TAB);
    this.#text(channel);
    out.byte(TAB);
    if (row.quantity !== null) out.integer(row.quantity);
    out.byte(TAB);
    out.ascii(row.rowHash);
    out.byte(LF);
  }

  /** A text field into reserved room, quoted only when needed (see {@link field}). */
  #text(value: string): void {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 9 || c === 10 || c === 13 || c === 34) {
        this.#accepted.ascii(field(value));
        return;
      }
    }
    this.#accepted.ascii(value);
  }

  /** The same staged line as one string, for a row too large for the byte-level path. */
  #rowAsText(row: ParsedRow): string {
    return `${row.line}\t${field(row.customerId)}\t${field(row.orderId)}\t${row.orderTsMicros}\t${
      row.amountCents ?? ''
    }\t${row.currency}\t${row.channel === null ? '' : field(row.channel)}\t${
      row.quantity ?? ''
    }\t${row.rowHash}\n`;
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
