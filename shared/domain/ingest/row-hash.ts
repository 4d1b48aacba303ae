/**
 * A fast, stable 64-bit hash (two 32-bit multiply-xorshift lanes, finalised as in cyrb53). Used for
 * exact-duplicate detection and for order ids of exports that have none; it must never change, because
 * generated order ids are stored and compared across files. Cryptographic strength is not needed (the
 * input is the customer's own export), speed is: SHA-256 would cost more than the rest of parsing a row.
 */

const FIELD_SEPARATOR = 0x1f; // unit separator: ["a,b"] and ["a", "b"] hash differently
const NULL_TAG = 0x1e;
const TWO_32 = 4_294_967_296;
const M1 = 2654435761;
const M2 = 1597334677;

/**
 * The hash's parts, for a reader that hashes a row's raw values while it scans them (one pass over the
 * characters instead of two). Mixing must match {@link hashValues} exactly: per character
 * `h = Math.imul(h ^ code, M)` in both lanes, `FIELD_SEPARATOR` after each value, then
 * {@link finishRowHash}.
 */
export const ROW_HASH = {
  seed1: 0xdeadbeef,
  seed2: 0x41c6ce57,
  m1: M1,
  m2: M2,
  fieldSeparator: FIELD_SEPARATOR,
};

/** Hash of the first `count` strings (raw field values of a row). */
export function hashValues(values: readonly string[], count: number = values.length): string {
  let h1 = ROW_HASH.seed1;
  let h2 = ROW_HASH.seed2;
  for (let v = 0; v < count; v++) {
    const value = values[v] ?? '';
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, M1);
      h2 = Math.imul(h2 ^ c, M2);
    }
    h1 = Math.imul(h1 ^ FIELD_SEPARATOR, M1);
    h2 = Math.imul(h2 ^ FIELD_SEPARATOR, M2);
  }
  return finish(h1, h2);
}

/** The hash string of lanes mixed as in {@link hashValues}. */
export const finishRowHash = (h1: number, h2: number): string => finish(h1, h2);

/**
 * The hash of lanes mixed as in {@link hashValues} as its two 32-bit halves, without building the
 * string: `out[0]` is the half the hash string starts with, `out[1]` the other
 * (`rowHashText(out[0], out[1]) === finishRowHash(h1, h2)`).
 */
export function finishRowHashHalves(h1: number, h2: number, out: Int32Array): void {
  let a = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  a ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  let b = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  b ^= Math.imul(a ^ (a >>> 13), 3266489909);
  out[0] = b;
  out[1] = a;
}

/** The 16 hex digits of a hash given as halves (see {@link finishRowHashHalves}). */
export const rowHashText = (high: number, low: number): string => toHex16(high, low);

/**
 * Hash of an order's parsed values, for generated order ids. Numbers are mixed as their two 32-bit
 * halves rather than as text: turning a large number into a string costs more than the whole hash.
 */
export function hashOrderValues(
  customerId: string,
  currency: string,
  channel: string,
  tsMicros: number,
  cents: number | null,
  quantity: number | null,
): string {
  const lanes = [0xdeadbeef, 0x41c6ce57];
  mixString(lanes, customerId);
  mixString(lanes, currency);
  mixString(lanes, channel);
  mixNumber(lanes, tsMicros);
  mixNumber(lanes, cents);
  mixNumber(lanes, quantity);
  return finish(lanes[0]!, lanes[1]!);
}

/**
 * {@link hashOrderValues} with the customer id and channel given as ASCII byte ranges of `bytes` (the
 * ingest's byte fast path): ASCII bytes are the strings' character codes, so the hash is the same.
 */
export function hashOrderValuesAscii(
  bytes: Uint8Array,
  customerStart: number,
  customerEnd: number,
  currency: string,
  channelStart: number,
  channelEnd: number,
  tsMicros: number,
  cents: number | null,
  quantity: number | null,
): string {
  const lanes = [0xdeadbeef, 0x41c6ce57];
  mixBytes(lanes, bytes, customerStart, customerEnd);
  mixString(lanes, currency);
  mixBytes(lanes, bytes, channelStart, channelEnd);
  mixNumber(lanes, tsMicros);
  mixNumber(lanes, cents);
  mixNumber(lanes, quantity);
  return finish(lanes[0]!, lanes[1]!);
}

function mixBytes(lanes: number[], bytes: Uint8Array, start: number, end: number): void {
  let h1 = lanes[0]!;
  let h2 = lanes[1]!;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    h1 = Math.imul(h1 ^ c, M1);
    h2 = Math.imul(h2 ^ c, M2);
  }
  lanes[0] = Math.imul(h1 ^ FIELD_SEPARATOR, M1);
  lanes[1] = Math.imul(h2 ^ FIELD_SEPARATOR, M2);
}

function mixString(lanes: number[], value: string): void {
  let h1 = lanes[0]!;
  let h2 = lanes[1]!;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, M1);
    h2 = Math.imul(h2 ^ c, M2);
  }
  lanes[0] = Math.imul(h1 ^ FIELD_SEPARATOR, M1);
  lanes[1] = Math.imul(h2 ^ FIELD_SEPARATOR, M2);
}

function mixNumber(lanes: number[], n: number | null): void {
  let h1 = lanes[0]!;
  let h2 = lanes[1]!;
  if (n === null) {
    h1 = Math.imul(h1 ^ NULL_TAG, M1);
    h2 = Math.imul(h2 ^ NULL_TAG, M2);
  } else {
    const high = Math.floor(n / TWO_32);
    const low = n - high * TWO_32;
    h1 = Math.imul(Math.imul(h1 ^ high, M1) ^ low, M1);
    h2 = Math.imul(Math.imul(h2 ^ high, M2) ^ low, M2);
  }
  lanes[0] = Math.imul(h1 ^ FIELD_SEPARATOR, M1);
  lanes[1] = Math.imul(h2 ^ FIELD_SEPARATOR, M2);
}

function finish(a: number, b: number): string {
  let h1 = Math.imul(a ^ (a >>> 16), 2246822507);
  h1 ^= Math.imul(b ^ (b >>> 13), 3266489909);
  let h2 = Math.imul(b ^ (b >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return toHex16(h2, h1);
}

/** Character codes of the lower-case hex digits. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * `high` then `low` as 16 lower-case hex digits. One `String.fromCharCode` call builds the string
 * at once: measured about 5× faster than `toString(16)` + `padStart`, and than a table of 65,536
 * 4-digit strings (whose random lookups miss the CPU cache and whose concatenations allocate).
 */
function toHex16(high: number, low: number): string {
  const d = HEX_DIGITS;
  return String.fromCharCode(
    d[high >>> 28]!,
    d[(high >>> 24) & 15]!,
    d[(high >>> 20) & 15]!,
    d[(high >>> 16) & 15]!,
    d[(high >>> 12) & 15]!,
    d[(high >>> 8) & 15]!,
    d[(high >>> 4) & 15]!,
    d[high & 15]!,
    d[low >>> 28]!,
    d[(low >>> 24) & 15]!,
    d[(low >>> 20) & 15]!,
    d[(low >>> 16) & 15]!,
    d[(low >>> 12) & 15]!,
    d[(low >>> 8) & 15]!,
    d[(low >>> 4) & 15]!,
    d[low & 15]!,
  );
}
