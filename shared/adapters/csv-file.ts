/**
 * File I/O for the analyst CLI: reads transaction logs (CSV `customer_id,date,amount` or the CDNOW
 * whitespace format) as a stream of records, reads RFM summary CSVs in the column names of the
 * lifetimes or BTYD libraries, and writes summaries. Every input error names file, line and field.
 */

import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { CvmError } from '../domain/errors.ts';
import type { RfmSummary, TransactionRecord } from '../domain/rfm-summary.ts';

export type TransactionFormat = 'csv' | 'cdnow';

/** A user-caused input error; the message starts with `file:line`. */
export class InputFileError extends CvmError {
  override readonly name = 'InputFileError';
  readonly code = 'input_invalid';
}

/** Lines of a file, read in chunks so large logs are not held in memory twice. Handles CRLF. */
export function* readLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    const decoder = new TextDecoder('utf-8');
    let rest = '';
    for (;;) {
      const bytes = readSync(fd, buffer, 0, buffer.length, null);
      if (bytes === 0) break;
      const text = rest + decoder.decode(buffer.subarray(0, bytes), { stream: true });
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    rest += decoder.decode();
    if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  } finally {
    closeSync(fd);
  }
}

/** Splits one CSV line; supports double-quoted fields with "" escapes. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** The first non-empty line decides: 5 whitespace-separated numeric tokens is CDNOW, else CSV. */
export function sniffTransactionFormat(path: string): TransactionFormat {
  for (const line of readLines(path)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const tokens = trimmed.split(/\s+/);
    if (!trimmed.includes(',') && tokens.length === 5 && tokens.every((t) => /^-?\d+(\.\d+)?$/.test(t))) {
      return 'cdnow';
    }
    return 'csv';
  }
  return 'csv';
}

const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const ISO_DATE_PREFIX = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date field as `YYYY-MM-DD`: accepts `YYYY-MM-DD`, `YYYYMMDD`, or an ISO timestamp with a zone
 * (converted to its UTC calendar date, the day rule of the summary).
 */
export function normalizeDateField(value: string): string | null {
  const v = value.trim();
  if (ISO_DATE_PREFIX.test(v)) return v;
  const compact = COMPACT_DATE.exec(v);
  if (compact) return `${compact[1]}-${compact[2]}-${compact[3]}`;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    const ms = Date.parse(v.replace(' ', 'T'));
    if (Number.isFinite(ms)) return new Date(ms).toISOString().slice(0, 10);
  }
  return null;
}

function parseAmount(value: string): number | null {
  const v = value.trim();
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(v)) return null;
  return Number(v);
}

/** Streams the transactions of a file; throws InputFileError at the first malformed line. */
export function* readTransactions(
  path: string,
  format: TransactionFormat | 'auto' = 'auto',
): Generator<TransactionRecord> {
  const resolved = format === 'auto' ? sniffTransactionFormat(path) : format;
  let lineNumber = 0;
  let columns: { id: number; date: number; amount: number } | null = null;
  for (const line of readLines(path)) {
    lineNumber++;
    if (line.trim() === '') continue;
    const where = `${path}:${lineNumber}`;
    let customerId: string;
    let rawDate: string;
    let rawAmount: string;
    if (resolved === 'cdnow') {
      const tokens = line.trim().split(/\s+/);
      if (tokens.length !== 5) {
        throw new InputFileError(
          `${where}: expected 5 whitespace-separated columns (master_id customer_id yyyymmdd quantity amount), got ${tokens.length}`,
        );
      }
      [, customerId, rawDate, , rawAmount] = tokens as [string, string, string, string, string];
    } else {
      const fields = splitCsvLine(line);
      if (columns === null) {
        const names = fields.map((f) => f.trim().toLowerCase());
        const find = (...candidates: string[]) => names.findIndex((n) => candidates.includes(n));
        columns = {
          id: find('customer_id', 'customerid', 'id'),
          date: find('date', 'order_date'),
          amount: find('amount'),
        };
        const missing = Object.entries(columns)
          .filter(([, i]) => i < 0)
          .map(([name]) => (name === 'id' ? 'customer_id' : name));
        if (missing.length > 0) {
          throw new InputFileError(
            `${where}: the header must name the columns customer_id, date, amount; missing ${missing.join(', ')} (header: ${line})`,
          );
        }
        continue;
      }
      const get = (index: number, name: string): string => {
        const value = fields[index];
        if (value === undefined)
          throw new InputFileError(`${where}: field '${name}' is missing (line has ${fields.length} fields)`);
        return value;
      };
      customerId = get(columns.id, 'customer_id').trim();
      rawDate = get(columns.date, 'date');
      rawAmount = get(columns.amount, 'amount');
    }
    if (customerId === '') throw new InputFileError(`${where}: field 'customer_id' is empty`);
    const date = normalizeDateField(rawDate);
    if (date === null) {
      throw new InputFileError(
        `${where}: field 'date': expected YYYY-MM-DD, YYYYMMDD or an ISO timestamp, got '${rawDate}'`,
      );
    }
    const amount = parseAmount(rawAmount);
    if (amount === null)
      throw new InputFileError(`${where}: field 'amount': expected a number, got '${rawAmount}'`);
    yield { customerId, date, amount };
  }
}

/** Summary columns read from a CSV, in the data's own unit. */
export interface SummaryFile {
  ids: string[] | null;
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** Mean repeat purchase value, when the file has `monetary_value` or `zbar`. */
  monetaryValue: Float64Array | null;
  /** Which naming the file used. */
  naming: 'lifetimes' | 'btyd';
}

/**
 * Reads an RFM summary: lifetimes names (`frequency, recency, T[, monetary_value]`) or BTYD names
 * (`x, t_x, T[, zbar]`); the id column (`ID`, `customer_id`, or a first column that is none of the
 * above) is optional. Checks x is a whole number ≥ 0 and 0 ≤ recency ≤ T.
 */
export function readSummaryFile(path: string): SummaryFile {
  const ids: string[] = [];
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  const monetary: number[] = [];
  let header: {
    id: number;
    x: number;
    tx: number;
    T: number;
    m: number;
    naming: SummaryFile['naming'];
  } | null = null;
  let lineNumber = 0;
  for (const line of readLines(path)) {
    lineNumber++;
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line).map((f) => f.trim());
    const where = `${path}:${lineNumber}`;
    if (header === null) {
      const find = (...names: string[]) => fields.findIndex((f) => names.includes(f));
      const lifetimes = find('frequency') >= 0;
      const xi = lifetimes ? find('frequency') : find('x');
      const txi = lifetimes ? find('recency') : find('t_x');
      const Ti = find('T');
      if (xi < 0 || txi < 0 || Ti < 0) {
        throw new InputFileError(
          `${where}: the header must have columns frequency, recency, T (lifetimes) or x, t_x, T (BTYD); got: ${line}`,
        );
      }
      const m = lifetimes ? find('monetary_value') : find('zbar');
      let id = find('ID', 'id', 'customer_id');
      if (id < 0 && ![xi, txi, Ti, m].includes(0)) id = 0;
      header = { id, x: xi, tx: txi, T: Ti, m, naming: lifetimes ? 'lifetimes' : 'btyd' };
      continue;
    }
    const h = header;
    const names =
      h.naming === 'lifetimes'
        ? { x: 'frequency', tx: 'recency', m: 'monetary_value' }
        : { x: 'x', tx: 't_x', m: 'zbar' };
    const number = (index: number, name: string): number => {
      const raw = fields[index];
      if (raw === undefined || raw === '') throw new InputFileError(`${where}: field '${name}' is missing`);
      const value = Number(raw);
      if (!Number.isFinite(value))
        throw new InputFileError(`${where}: field '${name}': expected a number, got '${raw}'`);
      return value;
    };
    const xv = number(h.x, names.x);
    if (!Number.isInteger(xv) || xv < 0) {
      throw new InputFileError(
        `${where}: field '${names.x}': expected a whole number ≥ 0 (repeat purchases), got ${xv}`,
      );
    }
    const txv = number(h.tx, names.tx);
    const Tv = number(h.T, 'T');
    if (Tv < 0) throw new InputFileError(`${where}: field 'T': must be ≥ 0, got ${Tv}`);
    if (txv < 0 || txv > Tv) {
      throw new InputFileError(
        `${where}: field '${names.tx}': must be between 0 and T (${Tv}), got ${txv}; are recency and T in the same unit?`,
      );
    }
    if (xv === 0 && txv !== 0) {
      throw new InputFileError(`${where}: field '${names.tx}': must be 0 when ${names.x} is 0, got ${txv}`);
    }
    x.push(xv);
    tx.push(txv);
    T.push(Tv);
    if (h.m >= 0) monetary.push(number(h.m, names.m));
    if (h.id >= 0) ids.push(fields[h.id] ?? '');
  }
  if (header === null) throw new InputFileError(`${path}: the file is empty (expected a header line)`);
  return {
    ids: header.id >= 0 ? ids : null,
    x: Float64Array.from(x),
    tx: Float64Array.from(tx),
    T: Float64Array.from(T),
    monetaryValue: header.m >= 0 ? Float64Array.from(monetary) : null,
    naming: header.naming,
  };
}

/** Shortest decimal that round-trips at 6 decimals (no trailing zeros). */
function formatNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV text of a summary, in lifetimes column names (plus holdout columns after a split). */
export function summaryToCsv(summary: RfmSummary): string {
  const header = ['customer_id', 'frequency', 'recency', 'T', 'monetary_value'];
  if (summary.holdout) header.push('frequency_holdout', 'monetary_value_holdout', 'duration_holdout');
  const lines = [header.join(',')];
  for (let i = 0; i < summary.customerIds.length; i++) {
    const row = [
      csvField(summary.customerIds[i]!),
      formatNumber(summary.frequency[i]!),
      formatNumber(summary.recency[i]!),
      formatNumber(summary.T[i]!),
      formatNumber(summary.monetaryValue[i]!),
    ];
    if (summary.holdout) {
      row.push(
        formatNumber(summary.holdout.frequency[i]!),
        formatNumber(summary.holdout.monetaryValue[i]!),
        formatNumber(summary.holdout.duration),
      );
    }
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function writeTextFile(path: string, text: string): void {
  writeFileSync(path, text);
}
