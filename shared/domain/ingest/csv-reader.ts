/**
 * The streaming text readers of export files: the CSV tokenizer (RFC 4180 plus what spreadsheets write)
 * and the JSON Lines line splitter, with bounded memory and per-row rejects.
 */
import { MAX_RAW_CHARS_IN_REJECT } from './limits.ts';
import { finishRowHash, ROW_HASH } from './row-hash.ts';

/** Receives what the readers find; line numbers are 1-based physical lines of a row's first line. */
export interface RowHandler<Row> {
  /**
   * `rowHash`: `hashValues` of the row's first `hashFieldCount` values, when the reader was asked for
   * it and could compute it while splitting (rows without quotes that have that many fields).
   */
  row(row: Row, line: number, rowHash?: string): void;
  malformed(line: number, raw: string, reason: 'row_malformed' | 'row_too_large', message: string): void;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const INCOMPLETE = null;

type QuotedRowResult =
  | { fields: string[]; next: number }
  | { error: string; errorAt: number }
  | typeof INCOMPLETE;

/** The reject message of a CSV row longer than the limit. */
export const rowTooLargeMessage = (line: number, maxRowChars: number) =>
  `the row starting at line ${line} is longer than ${Math.round(maxRowChars / 1024)} KiB ` +
  '(an unterminated quote makes the rest of the file one field)';

export const clip = (text: string) =>
  text.length > MAX_RAW_CHARS_IN_REJECT ? `${text.slice(0, MAX_RAW_CHARS_IN_REJECT)}…` : text;

const countLineFeeds = (text: string, from: number, to: number) => {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * The unread rest of `buf` (from `pos`) followed by the new pieces, as one flat string. `+` would make
 * a rope (cons string) whose every `charCodeAt` first goes through the rope's parts: measured ~1.5×
 * slower per character on the hot scanning loops; `join` copies into one sequential string instead.
 */
function joinRest(buf: string, pos: number, pieces: string[]): string {
  if (pos >= buf.length) return pieces.length === 1 ? pieces[0]! : pieces.join('');
  return [buf.slice(pos), ...pieces].join('');
}

/**
 * Text a reader has received but not yet read: chunks are queued and joined (with the unread rest)
 * into one flat string only when the reader scans again, so a long row under many small chunks is
 * not re-joined on every chunk.
 */
class PendingText {
  /** The joined text; the reader reads it from {@link pos}. */
  buf = '';
  pos = 0;
  /** Characters not yet read: from {@link pos} to the end of the queued pieces. */
  chars = 0;
  #pieces: string[] = [];

  add(text: string): void {
    this.#pieces.push(text);
    this.chars += text.length;
  }

  /** Joins the queued pieces to the unread rest; returns the new {@link buf}, read from 0. */
  join(): string {
    this.buf = joinRest(this.buf, this.pos, this.#pieces);
    this.#pieces = [];
    this.pos = 0;
    return this.buf;
  }

  /** The reader has read up to `pos` of {@link buf}. */
  readTo(pos: number): void {
    this.pos = pos;
    this.chars = this.buf.length - pos;
  }

  clear(): void {
    this.buf = '';
    this.pos = 0;
    this.chars = 0;
  }
}

/**
 * Streaming CSV tokenizer (RFC 4180 plus what spreadsheets write): fields may be quoted, a quoted field
 * may contain the delimiter, `""` and line breaks; rows end in LF or CRLF. A quote only starts a quoted
 * field at the start of a field (`5" screen` is literal text). Lines without a quote take a fast path
 * (one pass over the character codes that splits the fields and, when asked, hashes the values on
 * the way: measured ~0.5 s per million rows less than `split` plus a separate hashing pass); rows
 * containing a quote are read by a slower, general scanner.
 *
 * Memory stays bounded: at most one row plus the latest chunk is held. A row longer than `maxRowChars`
 * is rejected as `row_too_large` and reading resumes at the next physical line; an unterminated quote at
 * the end of the file rejects the row's first line and reading resumes after it, so one stray quote
 * costs one row, not the rest of the file.
 */
export class CsvReader {
  readonly #delimiterCode: number;
  readonly #handler: RowHandler<string[]>;
  readonly #maxRowChars: number;
  readonly #hashFieldCount: number;
  readonly #text = new PendingText();
  #line = 1;
  /** Position of the next quote at or after the read position; -1 unknown; Infinity none in the buffer. */
  #quoteAt = -1;
  /** Discarding the rest of an oversized physical line. */
  #skipping = false;
  /**
   * What an incomplete row waits for before it is scanned again: a line feed (a row cannot end
   * without one), or — inside quotes, where a line feed may be part of a field — twice the text it had
   * at the last attempt. Without this, small chunks under a long row would rescan it on every chunk.
   */
  #waitFor: 'nothing' | 'line-feed' | 'growth' = 'nothing';
  #retryAtChars = 0;

  /**
   * @param hashFieldCount - hash the first this many values of each unquoted row for the handler
   *   (the row hash of exact-duplicate detection); 0 = no hashing.
   */
  constructor(delimiter: string, handler: RowHandler<string[]>, maxRowChars: number, hashFieldCount = 0) {
    this.#delimiterCode = delimiter.charCodeAt(0);
    this.#handler = handler;
    this.#maxRowChars = maxRowChars;
    this.#hashFieldCount = hashFieldCount;
  }

  /** Next physical line number to be read. */
  get line(): number {
    return this.#line;
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.#text.add(text);
    if (this.#text.chars <= this.#maxRowChars) {
      if (this.#waitFor === 'line-feed' && !text.includes('\n')) return;
      if (this.#waitFor === 'growth' && this.#text.chars < this.#retryAtChars) return;
    }
    this.#drain(false);
  }

  finish(): void {
    this.#drain(true);
    this.#text.clear();
  }

  /**
   * Reads `text` as whole rows that start at physical line `firstLine`: it ends where a row ends (or
   * where the file ends), so nothing is held back for later text. The byte reader hands this reader
   * the rows it does not read itself (see `ByteCsvReader`); rows and rejects reach the same handler.
   */
  readComplete(text: string, firstLine: number): void {
    this.#line = firstLine;
    this.#skipping = false;
    this.#text.clear();
    this.#text.add(text);
    this.#drain(true);
    this.#text.clear();
  }

  #drain(final: boolean): void {
    const buf = this.#text.join();
    this.#quoteAt = -1;
    const len = buf.length;
    let pos = 0;
    this.#waitFor = 'nothing';
    while (pos < len) {
      if (this.#skipping) {
        const lf = buf.indexOf('\n', pos);
        if (lf < 0) {
          pos = len;
          break;
        }
        this.#skipping = false;
        this.#line++;
        pos = lf + 1;
        continue;
      }
      const lf = buf.indexOf('\n', pos);
      if (this.#quoteAt < pos) {
        this.#quoteAt = buf.indexOf('"', pos);
        if (this.#quoteAt < 0) this.#quoteAt = Number.POSITIVE_INFINITY;
      }
      const hasQuote = lf >= 0 ? this.#quoteAt < lf : this.#quoteAt !== Number.POSITIVE_INFINITY;
      if (!hasQuote) {
        if (lf < 0 && !final) {
          if (len - pos > this.#maxRowChars) {
            this.#tooLarge(buf.slice(pos, pos + MAX_RAW_CHARS_IN_REJECT));
            this.#skipping = true;
            pos = len;
          } else this.#waitFor = 'line-feed';
          break;
        }
        const lineEnd = lf < 0 ? len : lf;
        const end = lineEnd > pos && buf.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
        if (end - pos > this.#maxRowChars) this.#tooLarge(buf.slice(pos, pos + MAX_RAW_CHARS_IN_REJECT));
        else this.#readPlainLine(buf, pos, end);
        this.#line++;
        pos = lineEnd + 1;
        continue;
      }
      let result = this.#readQuotedRow(buf, pos, final);
      // A bad row is rejected up to its line's end, so that end must be in the buffer first.
      if (result !== INCOMPLETE && 'error' in result && !final && buf.indexOf('\n', result.errorAt) < 0) {
        result = INCOMPLETE;
      }
      if (result === INCOMPLETE) {
        if (len - pos <= this.#maxRowChars) {
          this.#waitFor = 'growth';
          this.#retryAtChars = 2 * (len - pos);
          break;
        }
        this.#tooLarge(buf.slice(pos, pos + MAX_RAW_CHARS_IN_REJECT));
        pos = this.#resyncAfterFirstLine(buf, pos);
        continue;
      }
      if ('error' in result) {
        // Reject up to the end of the physical line where the problem is, then carry on.
        const lfAfter = buf.indexOf('\n', result.errorAt);
        const next = lfAfter < 0 ? len : lfAfter + 1;
        this.#handler.malformed(
          this.#line,
          clip(buf.slice(pos, next).replace(/\r?\n$/, '')),
          'row_malformed',
          result.error,
        );
        this.#line += countLineFeeds(buf, pos, next);
        pos = next;
        continue;
      }
      if (result.next - pos > this.#maxRowChars)
        this.#tooLarge(buf.slice(pos, pos + MAX_RAW_CHARS_IN_REJECT));
      else this.#handler.row(result.fields, this.#line);
      this.#line += countLineFeeds(buf, pos, result.next);
      pos = result.next;
    }
    this.#text.readTo(pos);
  }

  #tooLarge(raw: string): void {
    this.#handler.malformed(
      this.#line,
      clip(raw),
      'row_too_large',
      rowTooLargeMessage(this.#line, this.#maxRowChars),
    );
  }

  /**
   * Splits a line without quotes (`buf[start, end)`, line break excluded) at the delimiter, hashing
   * the first `#hashFieldCount` values in the same pass, and hands it to the handler. Same fields as
   * `split(delimiter)`, same hash as `hashValues(fields, #hashFieldCount)`.
   */
  #readPlainLine(buf: string, start: number, end: number): void {
    const delimiter = this.#delimiterCode;
    const hashFields = this.#hashFieldCount;
    const { m1, m2, fieldSeparator } = ROW_HASH;
    let h1 = ROW_HASH.seed1;
    let h2 = ROW_HASH.seed2;
    const fields: string[] = [];
    let from = start;
    for (let i = start; i < end; i++) {
      const c = buf.charCodeAt(i);
      if (c === delimiter) {
        if (fields.length < hashFields) {
          h1 = Math.imul(h1 ^ fieldSeparator, m1);
          h2 = Math.imul(h2 ^ fieldSeparator, m2);
        }
        fields.push(buf.slice(from, i));
        from = i + 1;
      } else if (fields.length < hashFields) {
        h1 = Math.imul(h1 ^ c, m1);
        h2 = Math.imul(h2 ^ c, m2);
      }
    }
    if (fields.length < hashFields) {
      h1 = Math.imul(h1 ^ fieldSeparator, m1);
      h2 = Math.imul(h2 ^ fieldSeparator, m2);
    }
    fields.push(buf.slice(from, end));
    const rowHash = hashFields > 0 && fields.length >= hashFields ? finishRowHash(h1, h2) : undefined;
    this.#handler.row(fields, this.#line, rowHash);
  }

  /** After an unreadable row: continue at the line after the row's first line. */
  #resyncAfterFirstLine(buf: string, pos: number): number {
    const lf = buf.indexOf('\n', pos);
    if (lf < 0) {
      this.#skipping = true;
      return buf.length;
    }
    this.#line++;
    return lf + 1;
  }

  /** Reads one row that contains a quote, starting at `pos`. */
  #readQuotedRow(buf: string, pos: number, final: boolean): QuotedRowResult {
    const len = buf.length;
    const fields: string[] = [];
    let i = pos;
    for (;;) {
      if (i < len && buf.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const q = buf.indexOf('"', from);
          if (q < 0) {
            if (!final) return INCOMPLETE;
            return this.#unterminated(buf, pos, i);
          }
          if (q + 1 >= len && !final) return INCOMPLETE; // cannot tell `"` from `""` yet
          if (buf.charCodeAt(q + 1) === QUOTE) {
            value += buf.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          value += buf.slice(from, q);
          i = q + 1;
          break;
        }
        fields.push(value);
      } else {
        let j = i;
        const delimiter = this.#delimiterCode;
        while (j < len) {
          const c = buf.charCodeAt(j);
          if (c === delimiter || c === LF) break;
          j++;
        }
        if (j >= len && !final) return INCOMPLETE;
        const end = j < len && buf.charCodeAt(j) === LF && j > i && buf.charCodeAt(j - 1) === CR ? j - 1 : j;
        fields.push(buf.slice(i, end));
        i = j;
      }
      if (i >= len) return final ? { fields, next: len } : INCOMPLETE;
      const c = buf.charCodeAt(i);
      if (c === this.#delimiterCode) {
        i++;
        if (i >= len && final) {
          fields.push('');
          return { fields, next: len };
        }
        continue;
      }
      if (c === LF) return { fields, next: i + 1 };
      if (c === CR) {
        if (i + 1 >= len) return final ? { fields, next: len } : INCOMPLETE;
        if (buf.charCodeAt(i + 1) === LF) return { fields, next: i + 2 };
      }
      return {
        error: `unexpected text after the closing quote of field ${fields.length} (a quote inside a quoted field must be doubled: "")`,
        errorAt: i,
      };
    }
  }

  #unterminated(buf: string, rowStart: number, quoteAt: number): QuotedRowResult {
    const quoteLine = this.#line + countLineFeeds(buf, rowStart, quoteAt);
    return {
      error: `unterminated quoted field starting at line ${quoteLine}: the file ends inside quotes`,
      errorAt: quoteAt,
    };
  }
}

/**
 * Splits text into lines (LF or CRLF) for JSON Lines, with the same size limit and line numbering as
 * `CsvReader`.
 */
export class LineReader {
  readonly #handler: RowHandler<string>;
  readonly #maxRowChars: number;
  readonly #text = new PendingText();
  #line = 1;
  #skipping = false;
  /** As in CsvReader: an incomplete line is not rescanned until a chunk brings a line feed. */
  #waitingForLineFeed = false;

  constructor(handler: RowHandler<string>, maxRowChars: number) {
    this.#handler = handler;
    this.#maxRowChars = maxRowChars;
  }

  get line(): number {
    return this.#line;
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.#text.add(text);
    if (this.#waitingForLineFeed && this.#text.chars <= this.#maxRowChars && !text.includes('\n')) return;
    this.#drain(false);
  }

  finish(): void {
    this.#drain(true);
    this.#text.clear();
  }

  #drain(final: boolean): void {
    const buf = this.#text.join();
    const len = buf.length;
    let pos = 0;
    this.#waitingForLineFeed = false;
    while (pos < len) {
      const lf = buf.indexOf('\n', pos);
      if (lf < 0 && !final) {
        if (!this.#skipping && len - pos > this.#maxRowChars) {
          this.#tooLarge(buf.slice(pos, pos + MAX_RAW_CHARS_IN_REJECT));
          this.#skipping = true;
        }
        if (this.#skipping) pos = len;
        else this.#waitingForLineFeed = true;
        break;
      }
      const lineEnd = lf < 0 ? len : lf;
      if (this.#skipping) {
        this.#skipping = false;
      } else {
        const end = lineEnd > pos && buf.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
        if (end - pos > this.#maxRowChars) this.#tooLarge(buf.slice(pos, pos + MAX_RAW_CHARS_IN_REJECT));
        else this.#handler.row(buf.slice(pos, end), this.#line);
      }
      this.#line++;
      pos = lineEnd + 1;
    }
    this.#text.readTo(pos);
  }

  #tooLarge(raw: string): void {
    this.#handler.malformed(
      this.#line,
      clip(raw),
      'row_too_large',
      `line ${this.#line} is longer than ${Math.round(this.#maxRowChars / 1024)} KiB`,
    );
  }
}
