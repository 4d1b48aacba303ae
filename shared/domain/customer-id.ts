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

/**
 * What is wrong with `id` as a customer id, phrased to follow the name of the field ("must not be
 * empty"), or null when it is a valid id. Control characters, lone surrogates (not encodable as
 * UTF-8), slashes and dot-segments are refused so no id can smuggle path structure into a URL or an
 * object key or break key encoding; leading or trailing whitespace is refused so that ` 42` and `42`
 * are not two customers (ingest trims values before it asks). Any other text, in any script, is a
 * legitimate id. One pass over the characters, no allocation for a valid id (ingest asks per row).
 */
export function customerIdProblem(id: string): string | null {
  const n = id.length;
  if (n === 0) return 'must not be empty';
  let bytes = 0;
  let slash = false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 || c === 0x7f) return 'must not contain control characters';
      if (c === 47 || c === 92) slash = true;
      bytes += 1;
    } else if (c < 0x800) {
      if (c <= 0x9f) return 'must not contain control characters'; // C1
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A surrogate pair is one 4-byte character; a lone surrogate cannot be encoded.
      const next = id.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return 'must not contain control characters';
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  if (slash) return "must not contain '/' or '\\'";
  if (id === '.' || id === '..') return "must not be '.' or '..'";
  if ((mayBeSpace(id.charCodeAt(0)) || mayBeSpace(id.charCodeAt(n - 1))) && id.trim() !== id)
    return 'must not start or end with whitespace';
  if (bytes > MAX_CUSTOMER_ID_BYTES)
    return `must be at most ${MAX_CUSTOMER_ID_BYTES} UTF-8 bytes (it has ${bytes})`;
  return null;
}

/** Every character `trim` removes is a space (32) or above U+0084; anything else is surely not one. */
const mayBeSpace = (c: number) => c === 32 || c > 0x84;

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
