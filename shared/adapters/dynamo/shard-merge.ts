/**
 * One page of a listing whose index key is split into shards: each shard is read descending by its
 * sort key, and the shards are merged (k-way) into the order one unsharded index would give. The
 * sort keys of a listing are unique (they end with the customer id), so "after sort key X" is a
 * position in every shard at once: a page cursor needs nothing but the last sort key returned.
 */

/** A shard's reader: up to `limit` items descending, continuing from `next` (undefined = the start). */
export type ShardRead<T, N> = (limit: number, next: N | undefined) => Promise<{ items: T[]; next?: N }>;

export interface MergedPage<T> {
  items: T[];
  /** True when at least one item follows the last one returned. */
  more: boolean;
}

/**
 * Order of DynamoDB string sort keys: by UTF-8 bytes, which is Unicode code point order. JavaScript
 * compares UTF-16 code units, which differs only between a surrogate (U+D800–DFFF, half of a code
 * point above U+FFFF) and U+E000–U+FFFF; those are moved into code point order here.
 */
export function compareSortKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * How many items to ask each shard for first. One shard needs `wanted`; with more, each holds about
 * `wanted / shards` of the page's items (the hash spreads customers evenly), so it is asked for half
 * as many again plus a few, which covers the usual spread; a shard that runs dry before the page is
 * complete is read again (one more round trip), so the first guess affects cost, never the result.
 */
export function firstReadSize(wanted: number, shards: number): number {
  if (shards <= 1) return wanted;
  return Math.min(wanted, Math.ceil((1.5 * wanted) / shards) + 4);
}

/**
 * Up to `limit` items of the merged listing, descending by `sortKey`. Reads `limit + 1` items in all
 * (so the last page is known to be last): first every shard in parallel, then again only the shards
 * whose buffered items ran out while the page still needs items, each asked for at most what the
 * page still lacks.
 */
export async function mergeShardsDescending<T, N>(
  shards: readonly ShardRead<T, N>[],
  limit: number,
  sortKey: (item: T) => string,
): Promise<MergedPage<T>> {
  const wanted = limit + 1;
  const states = shards.map((read) => ({
    read,
    items: [] as T[],
    at: 0,
    next: undefined as N | undefined,
    done: false,
  }));
  const fill = async (state: (typeof states)[number], size: number) => {
    const page = await state.read(size, state.next);
    state.items = page.items;
    state.at = 0;
    state.next = page.next;
    state.done = page.next === undefined;
  };
  await Promise.all(states.map((state) => fill(state, firstReadSize(wanted, shards.length))));

  const merged: T[] = [];
  while (merged.length < wanted) {
    // A shard with nothing buffered but more to read must be read before its head can be compared.
    const dry = states.filter((state) => state.at >= state.items.length && !state.done);
    if (dry.length > 0) {
      await Promise.all(dry.map((state) => fill(state, wanted - merged.length)));
      continue;
    }
    let best: (typeof states)[number] | undefined;
    let bestKey = '';
    for (const state of states) {
      if (state.at >= state.items.length) continue;
      const key = sortKey(state.items[state.at] as T);
      if (best === undefined || compareSortKeys(key, bestKey) > 0) {
        best = state;
        bestKey = key;
      }
    }
    if (best === undefined) break;
    merged.push(best.items[best.at] as T);
    best.at++;
  }
  return { items: merged.slice(0, limit), more: merged.length > limit };
}
