/**
 * Writes per-customer predictions as CSV or JSON Lines, chunk by chunk: numbers are formatted
 * straight into a byte buffer (no per-value strings), so a million rows stream out in well under a second.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { type IdBytes, InputFileError } from './csv-file.ts';

export type PredictionFormat = 'csv' | 'jsonl';

/** The output format from the file name: `.jsonl`/`.ndjson` → JSON Lines, `.csv` → CSV; null path → CSV. */
export function predictionFormatOf(path: string | null): PredictionFormat {
  if (path === null || /\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  throw new InputFileError(`${path}: the output file must end in .csv or .jsonl (JSON Lines)`);
}

const BUFFER_BYTES = 1 << 22;
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const DIGITS = new Uint8Array(20);
/** "00", "01", …, "99" as ASCII byte pairs. */
const DIGIT_PAIRS = Uint8Array.from(
  { length: 200 },
  (_, i) => 48 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10),
);

/**
 * Writes 1e-6 ≤ magnitude < 1e12 in fixed point (9 decimals below 1, 6 below 1000, else 3; trailing
 * zeros dropped) at `at`; returns the position after it. Integer arithmetic on 32-bit values where
 * they fit: this runs ten times per customer.
 */
function writeDecimal(buffer: Uint8Array, at: number, magnitude: number): number {
  const decimals = magnitude < 1 ? 9 : magnitude < 1000 ? 6 : 3;
  const scale = POWERS_OF_TEN[decimals]!;
  const scaled = Math.round(magnitude * scale);
  let whole = Math.floor(scaled / scale);
  let fraction = scaled - whole * scale;
  let position = at;
  if (whole < 10) buffer[position++] = 48 + whole;
  else {
    let count = 0;
    while (whole > 0) {
      const rest = whole < 2147483648 ? (whole / 10) | 0 : Math.floor(whole / 10);
      DIGITS[count++] = 48 + (whole - rest * 10);
      whole = rest;
    }
    while (count > 0) buffer[position++] = DIGITS[--count]!;
  }
  if (fraction === 0) return position;
  // fraction < 1e9 < 2^31: plain 32-bit integer steps from here.
  let digits = decimals;
  let rest = (fraction / 10) | 0;
  while (fraction === rest * 10) {
    fraction = rest;
    rest = (fraction / 10) | 0;
    digits--;
  }
  buffer[position] = 46;
  // Two digits per division, from the last one back.
  let k = position + digits;
  while (k > position + 1) {
    const quotient = (fraction / 100) | 0;
    const pair = 2 * (fraction - quotient * 100);
    buffer[k] = DIGIT_PAIRS[pair + 1]!;
    buffer[k - 1] = DIGIT_PAIRS[pair]!;
    fraction = quotient;
    k -= 2;
  }
  if (k === position + 1) buffer[k] = 48 + fraction;
  return position + digits + 1;
}

/**
 * One column of numbers per field. Values are written with 9 decimals below 1, 6 below 1000 and 3
 * up to 1e12 (trailing zeros dropped); tiny or huge values in their shortest round-trip form; NaN
 * as an empty CSV field or JSON null.
 */
export class PredictionWriter {
  private readonly buffer = Buffer.alloc(BUFFER_BYTES);
  private position = 0;
  private readonly fd: number | null;
  private readonly names: Buffer[];
  private rowsWritten = 0;

  constructor(
    path: string | null,
    private readonly format: PredictionFormat,
    private readonly idColumn: string,
    columns: readonly string[],
  ) {
    this.fd = path === null ? null : openSync(path, 'w');
    this.names = columns.map((c) => Buffer.from(format === 'jsonl' ? `,"${c}":` : `,${c}`));
    if (format === 'csv') {
      this.writeText(idColumn);
      for (const name of this.names) this.writeBytes(name);
      this.writeByte(10);
    }
  }

  /** Rows `0..length−1` of the columns; `ids` null numbers the rows from 1. */
  writeRows(ids: readonly string[] | IdBytes | null, columns: readonly Float64Array[], length: number): void {
    const jsonl = this.format === 'jsonl';
    const idPrefix = jsonl ? Buffer.from(`{"${this.idColumn}":`) : null;
    for (let i = 0; i < length; i++) {
      if (this.position > BUFFER_BYTES - 4096) this.flush();
      if (idPrefix) this.writeBytes(idPrefix);
      if (ids === null) this.writeNumber(this.rowsWritten + i + 1, jsonl);
      else if (Array.isArray(ids)) this.writeId(ids[i]!, jsonl);
      else this.writeIdBytes(ids as IdBytes, i, jsonl);
      if (jsonl) {
        for (let c = 0; c < columns.length; c++) {
          this.writeBytes(this.names[c]!);
          this.writeNumber(columns[c]![i]!, true);
        }
      } else {
        // The common case inline: a comma and a fixed-point number per column.
        const buffer = this.buffer;
        for (let c = 0; c < columns.length; c++) {
          const value = columns[c]![i]!;
          const magnitude = value < 0 ? -value : value;
          if (magnitude >= 1e-6 && magnitude < 1e12) {
            let at = this.position;
            buffer[at++] = 44;
            if (value < 0) buffer[at++] = 45;
            this.position = writeDecimal(buffer, at, magnitude);
          } else {
            this.writeByte(44);
            this.writeNumber(value, false);
          }
        }
      }
      if (jsonl) this.writeByte(125);
      this.writeByte(10);
    }
    this.rowsWritten += length;
  }

  private writeId(id: string, jsonl: boolean): void {
    if (jsonl) this.writeText(JSON.stringify(id));
    else this.writeText(/[",\n\r]/.test(id) ? `"${id.replaceAll('"', '""')}"` : id);
  }

  /** Copies an id's bytes when they need no quoting or escaping, else writes it as text. */
  private writeIdBytes(ids: IdBytes, i: number, jsonl: boolean): void {
    const from = i === 0 ? 0 : ids.ends[i - 1]!;
    const to = ids.ends[i]!;
    const bytes = ids.bytes;
    let plain = true;
    for (let k = from; k < to && plain; k++) {
      const b = bytes[k]!;
      // CSV: comma, quote, CR, LF need quoting; JSON: quote, backslash and control characters escaping.
      plain = jsonl ? b !== 34 && b !== 92 && b >= 32 : b !== 44 && b !== 34 && b !== 10 && b !== 13;
    }
    if (!plain || to - from > 1024) {
      this.writeId(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8'), jsonl);
      return;
    }
    const buffer = this.buffer;
    let at = this.position;
    if (jsonl) buffer[at++] = 34;
    for (let k = from; k < to; k++) buffer[at++] = bytes[k]!;
    if (jsonl) buffer[at++] = 34;
    this.position = at;
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
  }

  private flush(): void {
    if (this.position === 0) return;
    if (this.fd === null) process.stdout.write(Buffer.from(this.buffer.subarray(0, this.position)));
    else {
      let written = 0;
      while (written < this.position)
        written += writeSync(this.fd, this.buffer, written, this.position - written);
    }
    this.position = 0;
  }

  private writeByte(byte: number): void {
    this.buffer[this.position++] = byte;
  }

  private writeBytes(bytes: Buffer): void {
    bytes.copy(this.buffer, this.position);
    this.position += bytes.length;
  }

  private writeText(text: string): void {
    if (this.position + 3 * text.length > BUFFER_BYTES) this.flush();
    this.position += this.buffer.write(text, this.position, 'utf8');
  }

  private writeNumber(value: number, jsonl: boolean): void {
    if (Number.isNaN(value)) {
      if (jsonl) this.writeText('null');
      return;
    }
    const magnitude = Math.abs(value);
    if (magnitude === 0) {
      this.writeByte(48);
      return;
    }
    if (!(magnitude >= 1e-6 && magnitude < 1e12)) {
      this.writeText(Number.isFinite(value) ? String(value) : jsonl ? 'null' : String(value));
      return;
    }
    if (value < 0) this.writeByte(45);
    this.position = writeDecimal(this.buffer, this.position, magnitude);
  }
}
