/**
 * Erasure of one customer's rows from text files (raw CSV and JSON Lines exports, rejected-row files,
 * change files, audience CSVs): which records hold the customer, and the text without them. Every other
 * record is kept byte for byte (its line ending, quoting and spacing), so a rewritten export reads
 * exactly as before minus the customer.
 */
import { HEADER_ALIASES, normalizeHeader } from '../ingest/column-mapping.ts';
import { sniffDelimiter } from '../ingest/delimiter-sniffing.ts';

/**
 * Which customer(s) to erase: one id (`cvm forget`), or every id on the suppression list (known only
 * by hash, when an upload is scrubbed). Built outside the domain, where hashing is available.
 */
export interface CustomerMatcher {
  /** Whether a value (trimmed field, JSON string) is one of the customers. */
  is(value: string): boolean;
  /** Whether free text (a malformed raw line, a message) holds one of the customers as a token. */
  inText(text: string): boolean;
  /**
   * False when `text` cannot hold any of the customers (a plain id that does not occur in it), so a
   * file without them is not parsed at all. @default always true
   */
  mayOccurIn?(text: string): boolean;
}

/** The matcher of one plain id. */
export function matchCustomerId(customerId: string): CustomerMatcher {
  return {
    is: (value) => value === customerId,
    inText: (text) => containsIdToken(text, customerId),
    mayOccurIn: (text) => text.includes(customerId),
  };
}

/** Candidate ids in free text: the pieces between token boundaries (see {@link containsIdToken}). */
export function idTokens(text: string): string[] {
  return text.split(TOKEN_BOUNDARY_GLOBAL).filter((token) => token !== '');
}

export interface RowsErased {
  text: string;
  /** Records (data rows or lines) removed. */
  removed: number;
}

/** Header names (normalized) that name the customer id: the ingest's aliases and our own columns. */
const CUSTOMER_HEADERS = new Set([...HEADER_ALIASES.customer_id.map(normalizeHeader), 'customerid']);

/** Whether a column (CSV header, JSON key, Parquet column) names the customer id. */
export const isCustomerIdColumn = (header: string) => CUSTOMER_HEADERS.has(normalizeHeader(header));

/**
 * Characters that end an id inside free text (a malformed raw line, an error message). An occurrence
 * of the id between two of these (or the text's ends) counts as the id; `c-17` inside `c-170` does not.
 */
const TOKEN_BOUNDARY = /[\s,;|"'`:=()[\]{}<>]/;
const TOKEN_BOUNDARY_GLOBAL = /[\s,;|"'`:=()[\]{}<>]+/;

/** Whether `text` holds `id` as a whole token (not as part of a longer id). */
export function containsIdToken(text: string, id: string): boolean {
  if (id === '') return false;
  for (let at = text.indexOf(id); at >= 0; at = text.indexOf(id, at + 1)) {
    const before = at === 0 ? '' : text.charAt(at - 1);
    const after = text.charAt(at + id.length);
    if ((before === '' || TOKEN_BOUNDARY.test(before)) && (after === '' || TOKEN_BOUNDARY.test(after))) {
      return true;
    }
  }
  return false;
}

interface CsvRecord {
  /** The record's text with its line ending. */
  raw: string;
  fields: string[];
}

/** Splits one quoted record starting at `start` (quotes respected); returns its fields and end. */
function quotedRecord(text: string, start: number, delimiter: string): { fields: string[]; end: number } {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
      return { fields, end: i + 1 };
    } else field += c;
  }
  fields.push(field);
  return { fields, end: text.length };
}

/**
 * Splits CSV text into records (quotes respected: a quoted field may hold delimiters and line feeds).
 * A line without quotes (nearly all of them) is split directly; only quoted records are scanned
 * character by character.
 */
function csvRecords(text: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let start = 0;
  while (start < text.length) {
    const lf = text.indexOf('\n', start);
    const end = lf < 0 ? text.length : lf + 1;
    const line = text.slice(start, end);
    if (!line.includes('"')) {
      const content = line.endsWith('\r\n')
        ? line.slice(0, -2)
        : line.endsWith('\n')
          ? line.slice(0, -1)
          : line;
      records.push({ raw: line, fields: content.split(delimiter) });
      start = end;
      continue;
    }
    const quoted = quotedRecord(text, start, delimiter);
    records.push({ raw: text.slice(start, quoted.end), fields: quoted.fields });
    start = quoted.end;
  }
  return records;
}

/**
 * A CSV file (a raw export, an audience, an Athena result) without the customer's rows. When the
 * header names a customer id column (the ingest's aliases such as `customer_id`, `Klantnummer`), only
 * that column is compared; otherwise any field equal to the id marks the row, since a file without a
 * recognizable header must not keep the customer because of a name we do not know. Values are
 * compared trimmed, as the ingest trims them.
 */
export function eraseFromCsv(text: string, customer: CustomerMatcher): RowsErased {
  if (customer.mayOccurIn?.(text) === false) return { text, removed: 0 };
  const delimiter = sniffDelimiter(text);
  const records = csvRecords(text, delimiter);
  const header = records[0];
  if (!header) return { text, removed: 0 };
  const headerFields = header.fields.map((f) => f.replace(/^\uFEFF/, ''));
  const columns = headerFields.flatMap((name, index) => (isCustomerIdColumn(name) ? [index] : []));
  const headerIsData = columns.length === 0 && headerFields.some((f) => customer.is(f.trim()));
  const matches = (record: CsvRecord) =>
    columns.length > 0
      ? columns.some((index) => customer.is(record.fields[index]?.trim() ?? ''))
      : record.fields.some((f) => customer.is(f.trim()));
  let removed = 0;
  let out = '';
  records.forEach((record, index) => {
    if ((index > 0 || headerIsData) && matches(record)) removed++;
    else out += record.raw;
  });
  return removed === 0 ? { text, removed: 0 } : { text: out, removed };
}

/** Whether a parsed JSON value holds the id: a key naming the customer with that value, or any string equal to it. */
function jsonHoldsId(value: unknown, customer: CustomerMatcher): boolean {
  if (typeof value === 'string') return customer.is(value.trim()) || customer.inText(value);
  if (typeof value === 'number') return customer.is(String(value));
  if (Array.isArray(value)) return value.some((item) => jsonHoldsId(item, customer));
  if (value !== null && typeof value === 'object') {
    return Object.values(value).some((item) => jsonHoldsId(item, customer));
  }
  return false;
}

/**
 * A JSON Lines file (a raw export, rejected rows, change events) without the lines that hold the
 * customer: a line whose JSON holds the id in any value (a rejected row keeps the raw line, whose text
 * may hold the id among other fields), or — for a line that is not JSON — holds it as a token.
 */
export function eraseFromJsonLines(text: string, customer: CustomerMatcher): RowsErased {
  if (customer.mayOccurIn?.(text) === false) return { text, removed: 0 };
  let removed = 0;
  let out = '';
  let start = 0;
  while (start < text.length) {
    const lf = text.indexOf('\n', start);
    const end = lf < 0 ? text.length : lf + 1;
    const raw = text.slice(start, end);
    start = end;
    const line = raw.trim();
    let holds: boolean;
    if (line === '') holds = false;
    else {
      try {
        holds = jsonHoldsId(JSON.parse(line), customer);
      } catch {
        holds = customer.inText(line);
      }
    }
    if (holds) removed++;
    else out += raw;
  }
  return removed === 0 ? { text, removed: 0 } : { text: out, removed };
}

/** Whether a JSON document (a run's small result files) mentions the customer anywhere. */
export function jsonDocumentHoldsId(text: string, customer: CustomerMatcher): boolean {
  try {
    return jsonHoldsId(JSON.parse(text), customer);
  } catch {
    return customer.inText(text);
  }
}

/**
 * A raw export without the customer's rows: JSON Lines when its first non-blank character opens an
 * object (as the ingest detects it), CSV otherwise.
 */
export function eraseFromExport(text: string, customer: CustomerMatcher, fileName: string): RowsErased {
  const first = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .charAt(0);
  const jsonLines = /\.(jsonl|ndjson|json)(\.gz)?$/i.test(fileName) || first === '{';
  return jsonLines ? eraseFromJsonLines(text, customer) : eraseFromCsv(text, customer);
}
