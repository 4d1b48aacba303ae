/**
 * Additive per-key accumulators (per channel, band, segment) that travel between recalculation
 * steps as JSON and merge in any order; keys come from customer data, so they live in null-prototype
 * objects (a channel called "__proto__" or "toString" is just a channel).
 */

/** A record of numeric sums per key. */
export type KeyedSums<Fields extends string> = Record<string, Record<Fields, number>>;

export function emptyKeyedSums<Fields extends string>(): KeyedSums<Fields> {
  return Object.create(null) as KeyedSums<Fields>;
}

/** The sums of `key`, created with zeros for `fields` on first use. */
export function sumsOf<Fields extends string>(
  sums: KeyedSums<Fields>,
  key: string,
  fields: readonly Fields[],
): Record<Fields, number> {
  if (Object.hasOwn(sums, key)) return sums[key]!;
  const zero = Object.fromEntries(fields.map((field) => [field, 0])) as Record<Fields, number>;
  Object.defineProperty(sums, key, { value: zero, enumerable: true, writable: true, configurable: true });
  return zero;
}

/** a + b, key by key and field by field (a new object; the inputs are untouched). */
export function mergeKeyedSums<Fields extends string>(
  a: KeyedSums<Fields>,
  b: KeyedSums<Fields>,
  fields: readonly Fields[],
): KeyedSums<Fields> {
  const merged = emptyKeyedSums<Fields>();
  for (const source of [a, b]) {
    for (const key of Object.keys(source)) {
      const target = sumsOf(merged, key, fields);
      const from = source[key]!;
      for (const field of fields) target[field] += from[field] ?? 0;
    }
  }
  return merged;
}
