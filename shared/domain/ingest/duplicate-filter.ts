/**
 * A fixed-size Bloom filter over row hashes: it says "certainly not seen before" or "maybe seen
 * before", never wrongly "not seen". The ingest marks the rows it answers "maybe" as duplicate
 * candidates, so the exact (and costly) duplicate check in DuckDB only runs when there is at least one
 * candidate, and only for the candidates' hashes — an export without repeated lines skips it.
 *
 * Memory is the filter's size whatever the file: a larger file only raises the share of false
 * candidates (measured below), which the exact check then clears. Blocked layout: the bits of one
 * value all fall in one 64-byte block, so a lookup touches one cache line.
 *
 * False candidates expected with the default 2^27 bits (16 MiB) and 6 bits per value: about none in a
 * million distinct rows, a few thousand in ten million.
 */
/** Values looked up together by {@link DuplicateFilter.add}. */
const QUEUE_LENGTH = 256;

export class DuplicateFilter {
  readonly #words: Int32Array;
  readonly #blockMask: number;
  /** Hashes given to {@link add} and not yet looked up: halves at `2i` (high) and `2i + 1` (low). */
  readonly #queue = new Int32Array(2 * QUEUE_LENGTH);
  #queued = 0;
  readonly #onMaybeSeen: (high: number, low: number) => void;

  /**
   * @param log2Bits - filter size as a power of two, in bits (at least one 512-bit block).
   * @param onMaybeSeen - called by {@link add}/{@link flush} for each value that may have been added
   *   before.
   */
  constructor(log2Bits = 27, onMaybeSeen: (high: number, low: number) => void = () => {}) {
    if (!Number.isInteger(log2Bits) || log2Bits < 9 || log2Bits > 31) {
      throw new Error(`duplicate filter size 2^${log2Bits} bits is outside 2^9–2^31`);
    }
    this.#words = new Int32Array(2 ** (log2Bits - 5));
    this.#blockMask = 2 ** (log2Bits - 9) - 1;
    this.#onMaybeSeen = onMaybeSeen;
  }

  /**
   * Queues a value; queued values are looked up a batch at a time, in order, reporting the ones that
   * may have been seen to `onMaybeSeen`. A lookup in a filter far larger than the CPU caches waits
   * for memory; touching a whole batch's blocks first lets those waits overlap (measured ~1.3× faster
   * per value than {@link addAndCheck} one at a time).
   */
  add(high: number, low: number): void {
    const at = 2 * this.#queued;
    this.#queue[at] = high;
    this.#queue[at + 1] = low;
    if (++this.#queued === QUEUE_LENGTH) this.flush();
  }

  /** Looks up every queued value (call before relying on the reports being complete). */
  flush(): void {
    const queue = this.#queue;
    const words = this.#words;
    const count = this.#queued;
    this.#queued = 0;
    let touched = 0;
    for (let i = 0; i < count; i++) touched |= words[(queue[2 * i + 1]! & this.#blockMask) << 4]!;
    this.touchedWords = touched;
    for (let i = 0; i < count; i++) {
      const high = queue[2 * i]!;
      const low = queue[2 * i + 1]!;
      if (this.addAndCheck(high, low)) this.#onMaybeSeen(high, low);
    }
  }

  /**
   * OR of the words the last {@link flush} loaded ahead of its lookups. Nothing needs the value; storing
   * it keeps the compiler from dropping those loads as unused.
   */
  touchedWords = 0;

  /**
   * Adds a 64-bit hash given as its two 32-bit halves; returns true when every bit was already set,
   * i.e. the value may have been added before (always true for a value added before).
   */
  addAndCheck(high: number, low: number): boolean {
    const words = this.#words;
    const base = (low & this.#blockMask) << 4;
    let x = high;
    let seen = true;
    for (let k = 0; k < 6; k++) {
      // Mix a fresh 9-bit position (0–511) within the block out of the high half.
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + k) | 0;
      const bit = x >>> 23;
      const word = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      if ((words[word]! & mask) === 0) {
        seen = false;
        words[word] = words[word]! | mask;
      }
    }
    return seen;
  }
}
