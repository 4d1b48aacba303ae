/**
 * Streaming bytes → text. The encoding is, in order: a byte-order mark, the configured encoding, UTF-16
 * recognised by its zero bytes, or else decided at the first non-ASCII byte: valid UTF-8 there means
 * UTF-8, anything else Windows-1252 (the superset of Latin-1 that Excel writes). Until that byte every
 * encoding reads the same, so nothing has to be decoded twice and the decision costs no look-ahead.
 * Multi-byte sequences split across chunks are held back by `TextDecoder`'s stream mode.
 */
import { IngestFileError } from './ingest-file-error.ts';

/** Bytes after the first non-ASCII byte that are checked before committing to an encoding. */
const DECISION_SAMPLE_BYTES = 4096;

export function detectByteOrderMark(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return null;
}

/** UTF-16 without a BOM: most characters are ASCII, so every other byte is zero. */
export function detectUtf16(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const n = Math.min(bytes.length, 2048) & ~1;
  if (n < 16) return null; // too few bytes to tell
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) zeroEven++;
    if (bytes[i + 1] === 0) zeroOdd++;
  }
  const pairs = n / 2;
  if (zeroOdd > pairs * 0.4 && zeroEven < pairs * 0.05) return 'utf-16le';
  if (zeroEven > pairs * 0.4 && zeroOdd < pairs * 0.05) return 'utf-16be';
  return null;
}

function firstNonAscii(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return i;
  return -1;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * The encoding decided from bytes that start at the first non-ASCII byte: UTF-8 when they are valid
 * UTF-8, else Windows-1252 (the superset of Latin-1 that Excel writes). Unless `final`, a sequence cut
 * at the sample's end is not held against UTF-8, and null means the sample is only such a cut
 * sequence (decide with more bytes).
 */
function decideEncoding(sample: Uint8Array, final: boolean): 'utf-8' | 'windows-1252' | null {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !final });
    return text.length === 0 && !final ? null : 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** A file that is valid UTF-8 up to `where` and not after. */
function mixedEncodingError(where: string): IngestFileError {
  return new IngestFileError(
    'encoding_invalid',
    `the file is not valid UTF-8 ${where} although it is UTF-8 before: ` +
      'it mixes encodings. Re-export it in one encoding or set "encoding" in the source config',
  );
}

/**
 * Encodings in which every byte below 0x80 is that ASCII character and never part of a longer
 * sequence: a reader may split lines and fields on the bytes before decoding (UTF-8 and the
 * single-byte code pages; not UTF-16 or the East Asian multi-byte encodings).
 */
export function isAsciiCompatible(encoding: string): boolean {
  return encoding === 'utf-8' || /^(windows-125\d|iso-8859-\d+)$/.test(encoding);
}

/**
 * Decodes complete rows cut from the byte stream (the byte reader's rows that need text). The
 * encoding is given, or — as in {@link StreamingTextDecoder} — decided at the first non-ASCII byte:
 * valid UTF-8 there means UTF-8, anything else Windows-1252.
 */
export class RowDecoder {
  #decoder: InstanceType<typeof TextDecoder> | null = null;
  #encoding: string;

  /** `encoding` null = decide at the first row with a non-ASCII byte. */
  constructor(encoding: string | null) {
    this.#encoding = encoding ?? 'utf-8';
    if (encoding !== null) this.#decoder = this.#open(encoding);
  }

  /** The encoding in use; `utf-8` while every row so far was plain ASCII. */
  get encoding(): string {
    return this.#encoding;
  }

  /** Text of `bytes`, which start at byte `fileOffset` of the file (for the error message). */
  decode(bytes: Uint8Array, fileOffset: number): string {
    if (!this.#decoder) {
      const first = firstNonAscii(bytes);
      if (first < 0) return asciiDecoder.decode(bytes);
      // Only a lead byte cut by the end of the file gives no answer: UTF-8, and decoding reports it.
      const sample = bytes.subarray(first, first + DECISION_SAMPLE_BYTES);
      this.#decoder = this.#open(decideEncoding(sample, false) ?? 'utf-8');
    }
    try {
      return decodeWhole(this.#decoder!, bytes);
    } catch {
      throw mixedEncodingError(`in the row at byte ${fileOffset}`);
    }
  }

  /** Text of bytes that may be cut anywhere (a reject's raw head): bad sequences become U+FFFD. */
  decodeLoosely(bytes: Uint8Array): string {
    return decodeWhole(new TextDecoder(this.#encoding, { ignoreBOM: true }), bytes);
  }

  #open(encoding: string): InstanceType<typeof TextDecoder> {
    // ignoreBOM: a row is not the start of the file (its byte-order mark was skipped before the rows).
    const decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8', ignoreBOM: true });
    this.#encoding = decoder.encoding;
    return decoder;
  }
}

/**
 * `decoder.decode(bytes)` for bytes that end where a character ends. Single-byte code pages are
 * decoded in streaming mode, which holds nothing back for them: Node 20's one-shot decode of
 * `windows-1252` reads the bytes as Latin-1 (0x80 becomes U+0080 instead of €); its streaming decode
 * maps them correctly.
 */
function decodeWhole(decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array): string {
  return decoder.encoding === 'utf-8' ? decoder.decode(bytes) : decoder.decode(bytes, { stream: true });
}

export class StreamingTextDecoder {
  #decoder: InstanceType<typeof TextDecoder> | null = null;
  #encoding: string;
  /** Bytes from the first non-ASCII byte on, held while too few follow to decide the encoding. */
  #held: Uint8Array | null = null;
  #bytesDecoded = 0;

  /** `encoding` null = detect UTF-8 vs Windows-1252 at the first non-ASCII byte. */
  constructor(encoding: string | null) {
    this.#encoding = encoding ?? 'utf-8';
    if (encoding !== null) this.#decoder = this.#open(encoding);
  }

  /** The encoding in use; `utf-8` while the text so far is plain ASCII. */
  get encoding(): string {
    return this.#encoding;
  }

  /** Whether the encoding is known (given, or decided at a non-ASCII byte). */
  get decided(): boolean {
    return this.#decoder !== null;
  }

  decode(chunk: Uint8Array): string {
    if (this.#decoder) return this.#run(chunk, true);
    const bytes = this.#held ? concatBytes(this.#held, chunk) : chunk;
    this.#held = null;
    // Native decode + regex is much faster than a byte loop: any byte ≥ 0x80 shows up as non-ASCII.
    const ascii = asciiDecoder.decode(bytes);
    if (!NON_ASCII.test(ascii)) {
      this.#bytesDecoded += bytes.length;
      return ascii;
    }
    const first = firstNonAscii(bytes);
    if (first < 0) {
      this.#bytesDecoded += bytes.length;
      return latin1Ascii(bytes);
    }
    const decided = this.#decide(bytes.subarray(first, first + DECISION_SAMPLE_BYTES), false);
    if (!decided) {
      this.#held = bytes.slice(first);
      this.#bytesDecoded += first;
      return latin1Ascii(bytes.subarray(0, first));
    }
    return this.#run(bytes, true);
  }

  end(): string {
    if (!this.#decoder) {
      if (!this.#held) return '';
      const held = this.#held;
      this.#held = null;
      this.#decide(held, true);
      return this.#run(held, false);
    }
    return this.#run(new Uint8Array(0), false);
  }

  #open(encoding: string): InstanceType<typeof TextDecoder> {
    const decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8' });
    this.#encoding = decoder.encoding;
    return decoder;
  }

  /** Commits to UTF-8 or Windows-1252 from bytes starting at a non-ASCII byte; false = need more. */
  #decide(sample: Uint8Array, final: boolean): boolean {
    const encoding = decideEncoding(sample, final);
    if (encoding === null) return false; // an incomplete sequence: wait for the next chunk
    this.#decoder = this.#open(encoding);
    return true;
  }

  #run(bytes: Uint8Array, stream: boolean): string {
    try {
      const text = this.#decoder!.decode(bytes, { stream });
      this.#bytesDecoded += bytes.length;
      return text;
    } catch {
      throw mixedEncodingError(`after byte ${this.#bytesDecoded}`);
    }
  }
}

const asciiDecoder = new TextDecoder('utf-8');
const NON_ASCII = /[\u0080-\uffff]/;
/** Decodes bytes known to be ASCII (any ASCII-compatible decoder gives the same text). */
function latin1Ascii(bytes: Uint8Array): string {
  return asciiDecoder.decode(bytes);
}
