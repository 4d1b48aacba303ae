import { closeSync, openSync, writeSync } from 'node:fs';

/** Size of the one output buffer a writer owns. */
const BUFFER_BYTES = 1 << 20;
/** Characters gathered in one string before they are encoded into the buffer (one native call). */
const BATCH_CHARS = 1 << 16;

/**
 * Appends text to a local file through one fixed buffer. Text is gathered into batches of 64 Ki
 * characters that are encoded into the buffer at once, so the strings die young (a pile of pending
 * strings gets promoted and swept by the garbage collector: measured 4 s of GC per million rows with a
 * 1 MB string buffer), and a full buffer goes out with one synchronous write. Synchronous on
 * purpose: the export parser pushes rows synchronously, and writing 1 MB to local temporary storage
 * takes about a millisecond, which keeps memory flat without back-pressure bookkeeping per row.
 */
export class BufferedFileWriter {
  readonly path: string;
  #fd: number | null;
  readonly #buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  #used = 0;
  #pending = '';
  #bytesWritten = 0;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'w');
  }

  write(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= BATCH_CHARS) this.#encodePending();
  }

  #encodePending(): void {
    const text = this.#pending;
    this.#pending = '';
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.#used + text.length * 3 > BUFFER_BYTES) {
      this.flush();
      if (text.length * 3 > BUFFER_BYTES) {
        this.#writeAll(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.#used += this.#buffer.write(text, this.#used, 'utf8');
  }

  /**
   * Makes room for `bytes` more bytes in the buffer for the byte-level writers below ({@link byte},
   * {@link ascii}, {@link integer}), after any text pending from {@link write}, so output keeps its
   * order. Returns false when `bytes` exceeds the buffer: the caller then writes that piece as text.
   */
  reserve(bytes: number): boolean {
    if (this.#pending.length > 0) this.#encodePending();
    if (bytes > BUFFER_BYTES) return false;
    if (this.#used + bytes > BUFFER_BYTES) this.flush();
    return true;
  }

  /** One byte; room must have been {@link reserve}d. */
  byte(code: number): void {
    this.#buffer[this.#used++] = code;
  }

  /**
   * `text` as UTF-8: ASCII is copied code by code (no string or encoder call), the rest from the
   * first non-ASCII character on goes through the encoder. Room (3 bytes per character) must have been
   * {@link reserve}d.
   */
  ascii(text: string): void {
    const buffer = this.#buffer;
    let used = this.#used;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        used += buffer.write(i === 0 ? text : text.slice(i), used, 'utf8');
        break;
      }
      buffer[used++] = c;
    }
    this.#used = used;
  }

  /** A safe integer in decimal, without making a string; room (at most 17 bytes) must have been reserved. */
  integer(value: number): void {
    const buffer = this.#buffer;
    let n = value;
    if (n < 0) {
      buffer[this.#used++] = 45; // -
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.#used + digits;
    this.#used = at;
    do {
      const next = Math.floor(n / 10);
      buffer[--at] = 48 + (n - next * 10);
      n = next;
    } while (n > 0);
  }

  flush(): void {
    if (this.#pending.length > 0) this.#encodePending();
    if (this.#used === 0) return;
    this.#writeAll(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }

  #writeAll(bytes: Buffer): void {
    if (this.#fd === null) throw new Error(`${this.path} is already closed`);
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset);
    this.#bytesWritten += bytes.length;
  }

  /** Bytes on disk so far (after {@link close}: the file size). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  close(): void {
    if (this.#fd === null) return;
    this.flush();
    closeSync(this.#fd);
    this.#fd = null;
  }
}
