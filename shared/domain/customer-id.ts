/**
 * The one rule for customer ids, shared by ingest, the API's path and body validation and erasure.
 */

/**
 * Longest id, in UTF-8 bytes. DynamoDB limits a partition key to 2,048 bytes and a sort key to 1,024;
 * ids end up inside keys such as `CUST#<id>` and `SCORE#<runId>#<id>`, so 256 bytes leaves room for
 * every prefix and run id while being far beyond any real shop's or CRM's ids.
 */
export const MAX_CUSTOMER_ID_BYTES = 256;

/** The rule in one sentence, for messages. */
export const CUSTOMER_ID_RULE =
  `an id is 1–${MAX_CUSTOMER_ID_BYTES} UTF-8 bytes, without control characters, '/' or '\\', ` +
  "and not '.' or '..'";

const CONTROL_OR_LONE_SURROGATE = /[\p{Cc}\p{Cs}]/u;

/**
 * What is wrong with `id` as a customer id, phrased to follow the name of the field ("must not be
 * empty"), or null when it is a valid id. Control characters, lone surrogates (not encodable as
 * UTF-8), slashes and dot-segments are refused so no id can smuggle path structure into a URL or an
 * object key or break key encoding; leading or trailing whitespace is refused so that ` 42` and `42`
 * are not two customers (ingest trims values before it asks). Any other text, in any script, is a
 * legitimate id.
 */
export function customerIdProblem(id: string): string | null {
  if (id.length === 0) return 'must not be empty';
  if (CONTROL_OR_LONE_SURROGATE.test(id)) return 'must not contain control characters';
  if (id.includes('/') || id.includes('\\')) return "must not contain '/' or '\\'";
  if (id === '.' || id === '..') return "must not be '.' or '..'";
  if (id.trim() !== id) return 'must not start or end with whitespace';
  const bytes = utf8Length(id);
  if (bytes > MAX_CUSTOMER_ID_BYTES)
    return `must be at most ${MAX_CUSTOMER_ID_BYTES} UTF-8 bytes (it has ${bytes})`;
  return null;
}

/** UTF-8 length of text without lone surrogates, without encoding it. */
function utf8Length(text: string): number {
  if (text.length * 3 <= MAX_CUSTOMER_ID_BYTES) return text.length; // cannot exceed the limit
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The same rule on ASCII bytes `b[start, end)` of printable characters (the byte reader's values):
 * true when they form a valid id. Cheaper than making the string, and agrees with
 * {@link customerIdProblem} on such values.
 */
export function isValidAsciiCustomerId(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n === 0 || n > MAX_CUSTOMER_ID_BYTES) return false;
  if (b[start] === 46 && (n === 1 || (n === 2 && b[start + 1] === 46))) return false;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 47 || c === 92) return false;
  }
  return true;
}
