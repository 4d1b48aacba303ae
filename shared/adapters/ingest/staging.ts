/**
 * The local files the first stage of an ingest writes and DuckDB reads back: staged rows as TSV, their
 * row hashes, duplicate candidates and the rejects file.
 */
import { join } from 'node:path';
import { storedOrderEconomics } from '#domain/economics/stored-order-economics.ts';
import { DuplicateFilter } from '#domain/ingest/duplicate-filter.ts';
import type { AsciiParsedRow, ExportSink, ParsedRow, RejectedRow } from '#domain/ingest/export-parser.ts';
import { BufferedFileWriter } from './buffered-file-writer.ts';

/**
 * Columns of the staged accepted-rows file, in file order, with the DuckDB types it is read back with.
 * The file is tab-separated, RFC 4180 quoted only where a value needs it; an empty field is NULL.
 * `currency` (a validated ISO 4217 code) never needs quoting.
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
} as const;

/**
 * Further columns of the rows of an export with order-economics columns (docs/economics.md), after
 * {@link STAGED_COLUMNS}, in their stored form (`storedOrderEconomics`); an empty field is NULL. The
 * mapping is per file, so either every staged row of a file has them or none: rows of ordinary
 * exports are staged exactly as before.
 */
export const STAGED_ECONOMICS_COLUMNS = {
  cost_cents: 'BIGINT',
  margin_amount_cents: 'BIGINT',
  discount_cents: 'BIGINT',
  shipping_cost_cents: 'BIGINT',
  returned_amount_cents: 'BIGINT',
  returned: 'BOOLEAN',
} as const;

/**
 * The file beside a staged file with each staged row's `line` and `row_hash` (16 hex digits, the hash
 * of its raw values), tab-separated. Kept apart from the staged rows because only the duplicate check
 * reads it: the pass that writes the Parquet file then parses 25 % fewer bytes.
 */
export const rowHashesPath = (stagedPath: string) => `${stagedPath}.hashes`;

/**
 * The file beside a staged file that lists the `row_hash` of every duplicate candidate, one per line:
 * rows whose hash the staging's duplicate filter may have seen before. Every exact duplicate is among
 * them (the filter has no false "not seen"), so when the file is empty the staged rows hold no
 * duplicates at all. A staged file without this file beside it has unknown candidates.
 */
export const duplicateCandidatesPath = (stagedPath: string) => `${stagedPath}.candidates`;

/** A text value as a TSV field: quoted (RFC 4180) only when it holds a tab, newline or quote. */
function field(value: string): string {
  // A plain loop beats a regular expression on the short ids this sees per row.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13 || c === 34) return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}

/** A 32-bit half of a row hash as the 8 lower-case hex digits it has in `row_hash`. */
const hex8 = (half: number) => (half >>> 0).toString(16).padStart(8, '0');

const TAB = 9;
const LF = 10;
const MINUS = 45;
const DIGIT_0 = 48;

/** ASCII digits of 00–99: the pair of `n` is at `2n`, `2n + 1`. */
const DIGIT_PAIRS = Uint8Array.from(
  { length: 200 },
  (_, i) => DIGIT_0 + (i % 2 === 0 ? Math.floor(i / 20) : Math.floor(i / 2) % 10),
);

/**
 * Writes the digits of a non-negative safe integer below 10^16 at `at`; returns the position after.
 * Int32 halves below 10^8, two digits per division: turning numbers into strings, or digit loops on
 * doubles (whose `%` is a floating-point remainder), cost two to three times as much (measured).
 */
function writeDigits(out: Uint8Array, at: number, n: number): number {
  if (n < 100_000_000) return writeInt32(out, at, n | 0);
  const high = Math.floor(n / 100_000_000);
  const end = writeInt32(out, at, high | 0) + 8;
  writeEightDigits(out, end, (n - high * 100_000_000) | 0);
  return end;
}

/** Exactly 8 digits (leading zeros kept) of `n` < 10^8, ending before `end`. */
function writeEightDigits(out: Uint8Array, end: number, n: number): void {
  let rest = n;
  for (let i = end - 2; i >= end - 8; i -= 2) {
    const quotient = (rest / 100) | 0;
    const pair = 2 * (rest - quotient * 100);
    out[i] = DIGIT_PAIRS[pair]!;
    out[i + 1] = DIGIT_PAIRS[pair + 1]!;
    rest = quotient;
  }
}

/** Digits of a non-negative int32 below 10^8. */
function writeInt32(out: Uint8Array, at: number, n: number): number {
  const digits =
    n < 10_000
      ? n < 100
        ? n < 10
          ? 1
          : 2
        : n < 1000
          ? 3
          : 4
      : n < 1_000_000
        ? n < 100_000
          ? 5
          : 6
        : n < 10_000_000
          ? 7
          : 8;
  let rest = n;
  let i = at + digits - 2;
  for (; i >= at; i -= 2) {
    const quotient = (rest / 100) | 0;
    const pair = 2 * (rest - quotient * 100);
    out[i] = DIGIT_PAIRS[pair]!;
    out[i + 1] = DIGIT_PAIRS[pair + 1]!;
    rest = quotient;
  }
  if (i === at - 1) out[at] = DIGIT_0 + rest;
  return at + digits;
}

/** A safe integer (|n| < 2^53) as decimal digits; returns the position after. */
function writeInteger(out: Uint8Array, at: number, n: number): number {
  if (n < 0) {
    out[at] = MINUS;
    return writeInteger(out, at + 1, -n);
  }
  if (n >= 1e16) {
    const text = String(n);
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
    return at + text.length;
  }
  return writeDigits(out, at, n);
}

/** Character codes of the lower-case hex digits. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** The 8 lower-case hex digits of a 32-bit half of a row hash at `at`; returns the position after. */
function writeHex8(out: Uint8Array, at: number, half: number): number {
  for (let shift = 28; shift >= 0; shift -= 4) out[at++] = HEX_DIGITS[(half >>> shift) & 15]!;
  return at;
}

/** Bytes one row can take: 3 per UTF-16 unit of its strings (UTF-8, or `""` quoting) plus numbers. */
function rowBytesBound(row: ParsedRow): number {
  return (
    3 * (row.customerId.length + row.orderId.length + (row.channel?.length ?? 0) + row.currency.length) +
    6 /* quotes */ +
    9 * 22 /* numbers */ +
    5 /* a flag */ +
    14 /* separators */
  );
}

export interface StagingCounts {
  accepted: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Accepted rows whose amount was empty: only these need the line-item rule in DuckDB. */
  emptyAmountRows: number;
  /** Accepted rows the duplicate filter flagged (see {@link duplicateCandidatesPath}); complete after close. */
  duplicateCandidates: number;
}

export interface StagingOptions {
  /**
   * Size of the duplicate filter as a power of two, in bits. @default 27 (16 MiB): no false candidate
   * expected in a million distinct rows. Tests make it tiny to force false candidates.
   */
  duplicateFilterLog2Bits?: number;
}

/**
 * The parser's sink during an ingest: accepted rows go to a staged TSV file for DuckDB (their row
 * hashes to the file beside it), rejected rows to a JSON Lines file (the rejects file users read), so
 * no row is kept in memory. Accepted rows pass a fixed-size duplicate filter on the way; the hashes it
 * flags go to the candidates file.
 */
export class StagingSink implements ExportSink {
  readonly acceptedPath: string;
  readonly rejectedPath: string;
  readonly counts: StagingCounts = {
    accepted: 0,
    rejected: 0,
    rejectReasons: {},
    emptyAmountRows: 0,
    duplicateCandidates: 0,
  };
  readonly #accepted: BufferedFileWriter;
  readonly #rejected: BufferedFileWriter;
  readonly #hashes: BufferedFileWriter;
  readonly #candidates: BufferedFileWriter;
  #filter: DuplicateFilter | null;

  constructor(workDir: string, options: StagingOptions = {}) {
    this.acceptedPath = join(workDir, 'accepted.tsv');
    this.rejectedPath = join(workDir, 'rejected.jsonl');
    this.#accepted = new BufferedFileWriter(this.acceptedPath);
    this.#rejected = new BufferedFileWriter(this.rejectedPath);
    this.#hashes = new BufferedFileWriter(rowHashesPath(this.acceptedPath));
    this.#candidates = new BufferedFileWriter(duplicateCandidatesPath(this.acceptedPath));
    this.#filter = new DuplicateFilter(options.duplicateFilterLog2Bits, (high, low) => {
      this.counts.duplicateCandidates++;
      this.#candidates.write(`${hex8(high)}${hex8(low)}\n`);
    });
  }

  accept(row: ParsedRow): void {
    this.counts.accepted++;
    if (row.amountCents === null) this.counts.emptyAmountRows++;
    const writer = this.#accepted;
    writer.reserve(rowBytesBound(row));
    const out = writer.buffer;
    const lineStart = writer.used;
    let at = writeInteger(out, lineStart, row.line);
    const lineEnd = at;
    out[at++] = TAB;
    at = this.#writeText(at, row.customerId);
    out[at++] = TAB;
    at = this.#writeText(at, row.orderId);
    out[at++] = TAB;
    at = this.#writeTimeAmountCurrency(at, row.orderTsMicros, row.amountCents, row.currency);
    if (row.channel !== null) at = this.#writeText(at, row.channel);
    out[at++] = TAB;
    if (row.quantity !== null) at = writeInteger(out, at, row.quantity);
    at = this.#writeEconomics(at, row);
    out[at++] = LF;
    writer.used = at;

    // The 16 hex digits of the hash are the filter's two 32-bit halves.
    const hash = row.rowHash;
    let high = 0;
    let low = 0;
    for (let i = 0; i < 16; i++) {
      const c = hash.charCodeAt(i);
      const nibble = c <= 57 ? c - 48 : (c | 0x20) - 87;
      if (i < 8) high = (high << 4) | nibble;
      else low = (low << 4) | nibble;
    }
    this.#addHash(lineStart, lineEnd, high, low);
  }

  /**
   * {@link accept} for a row from the byte fast path: its ids are copied as bytes (printable ASCII
   * without quotes or tabs, so they never need quoting) and its hash is written from its halves.
   */
  acceptAscii(row: AsciiParsedRow): void {
    this.counts.accepted++;
    if (row.amountCents === null) this.counts.emptyAmountRows++;
    const writer = this.#accepted;
    const bytes = row.bytes;
    writer.reserve(
      row.customerEnd -
        row.customerStart +
        (row.generatedOrderId?.length ?? row.orderEnd - row.orderStart) +
        (row.channelEnd - row.channelStart) +
        row.currency.length * 3 +
        4 * 22 +
        8,
    );
    const out = writer.buffer;
    const lineStart = writer.used;
    let at = writeInteger(out, lineStart, row.line);
    const lineEnd = at;
    out[at++] = TAB;
    for (let i = row.customerStart; i < row.customerEnd; i++) out[at++] = bytes[i]!;
    out[at++] = TAB;
    if (row.generatedOrderId !== null) at = this.#writeText(at, row.generatedOrderId);
    else for (let i = row.orderStart; i < row.orderEnd; i++) out[at++] = bytes[i]!;
    out[at++] = TAB;
    at = this.#writeTimeAmountCurrency(at, row.orderTsMicros, row.amountCents, row.currency);
    for (let i = row.channelStart; i < row.channelEnd; i++) out[at++] = bytes[i]!;
    out[at++] = TAB;
    if (row.quantity !== null) at = writeInteger(out, at, row.quantity);
    // (The byte fast path only reads files without economics columns.)
    out[at++] = LF;
    writer.used = at;

    this.#addHash(lineStart, lineEnd, row.rowHashHigh, row.rowHashLow);
  }

  /**
   * Writes a row's line and hash to the hashes file (the line's digits are copied from the staged
   * row at `out[lineStart, lineEnd)`) and passes the hash through the duplicate filter.
   */
  #addHash(lineStart: number, lineEnd: number, high: number, low: number): void {
    const out = this.#accepted.buffer;
    const hashes = this.#hashes;
    hashes.reserve(lineEnd - lineStart + 18);
    const hashOut = hashes.buffer;
    let at = hashes.used;
    for (let i = lineStart; i < lineEnd; i++) hashOut[at++] = out[i]!;
    hashOut[at++] = TAB;
    at = writeHex8(hashOut, at, high);
    at = writeHex8(hashOut, at, low);
    hashOut[at++] = LF;
    hashes.used = at;
    this.#filter?.add(high, low);
  }

  /** The {@link STAGED_ECONOMICS_COLUMNS} at `at`, each after its tab; nothing for a row without. */
  #writeEconomics(at: number, row: ParsedRow): number {
    if (row.economics === undefined) return at;
    const out = this.#accepted.buffer;
    const e = storedOrderEconomics(row.economics, row.amountCents);
    for (const cents of [
      e.costCents,
      e.marginAmountCents,
      e.discountCents,
      e.shippingCostCents,
      e.returnedCents,
    ]) {
      out[at++] = TAB;
      if (cents !== null) at = writeInteger(out, at, cents);
    }
    out[at++] = TAB;
    if (e.returned !== null) at = this.#writeText(at, e.returned ? 'true' : 'false');
    return at;
  }

  /** The `order_ts_us`, `amount_cents` and `currency` fields at `at`, each with its tab after it. */
  #writeTimeAmountCurrency(at: number, tsMicros: number, cents: number | null, currency: string): number {
    const out = this.#accepted.buffer;
    let end = writeInteger(out, at, tsMicros);
    out[end++] = TAB;
    if (cents !== null) end = writeInteger(out, end, cents);
    out[end++] = TAB;
    end = this.#writeText(end, currency);
    out[end++] = TAB;
    return end;
  }

  /** A text field at `at`: ASCII without tab, newline or quote byte by byte, anything else encoded. */
  #writeText(at: number, value: string): number {
    const out = this.#accepted.buffer;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80 || c === TAB || c === LF || c === 13 || c === 34) {
        return at + out.write(field(value), at, 'utf8');
      }
      out[at + i] = c;
    }
    return at + value.length;
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
    // The last batch's candidates must be counted; the filter's memory is not needed after that.
    this.#filter?.flush();
    this.#filter = null;
    this.#accepted.close();
    this.#rejected.close();
    this.#hashes.close();
    this.#candidates.close();
  }
}
