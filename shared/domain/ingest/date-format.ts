/**
 * Date and time parsing into epoch microseconds (UTC) with plain integer arithmetic: no `Date` parsing
 * (whose rules differ by runtime), no `Temporal`. Values are parsed into local calendar fields first;
 * fields without an explicit offset are then converted from the source's time zone by `zone.ts`.
 */

/** Calendar fields of one parsed value. `offsetMinutes` is null when the value carried no offset. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  micros: number;
  offsetMinutes: number | null;
}

/** Outcome codes of a parse: the value's shape matched but the date does not exist, or it did not match. */
export const DATE_OK = 0;
export const DATE_SHAPE_MISMATCH = 1;
export const DATE_NOT_A_DATE = 2;
export type DateParseStatus = typeof DATE_OK | typeof DATE_SHAPE_MISMATCH | typeof DATE_NOT_A_DATE;

export const MIN_YEAR = 1900;
export const MAX_YEAR = 2199;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True when the fields name a real calendar date and time. */
export function isValidDateTime(f: LocalDateTime): boolean {
  return (
    f.month >= 1 &&
    f.month <= 12 &&
    f.day >= 1 &&
    f.day <= daysInMonth(f.year, f.month) &&
    f.hour <= 23 &&
    f.minute <= 59 &&
    f.second <= 59 &&
    (f.offsetMinutes === null || Math.abs(f.offsetMinutes) <= 18 * 60)
  );
}

/** Milliseconds since the epoch of the fields read as if they were UTC (sub-millisecond part excluded). */
export function localFieldsAsUtcMillis(f: LocalDateTime): number {
  return (
    daysFromCivil(f.year, f.month, f.day) * 86_400_000 +
    f.hour * 3_600_000 +
    f.minute * 60_000 +
    f.second * 1000
  );
}

export function newLocalDateTime(): LocalDateTime {
  return { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, micros: 0, offsetMinutes: null };
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Reads `count` digits at `pos`; -1 when any is not a digit or the text is too short. */
function fixedDigits(s: string, pos: number, count: number): number {
  if (pos + count > s.length) return -1;
  let n = 0;
  for (let i = pos; i < pos + count; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}

/** Number of consecutive digits at `pos`, at most `max`. */
function digitRun(s: string, pos: number, max: number): number {
  let i = pos;
  while (i < s.length && i - pos < max && isDigit(s.charCodeAt(i))) i++;
  return i - pos;
}

/**
 * Parses an optional time and offset after a date: `[T| ]H:mm[:ss[.f]][ ][AM|PM][ ][Z|UTC|GMT|±HH[:]mm]`.
 * Returns false when there is text that does not fit.
 */
export function parseTimeTail(s: string, pos: number, out: LocalDateTime): boolean {
  out.hour = 0;
  out.minute = 0;
  out.second = 0;
  out.micros = 0;
  out.offsetMinutes = null;
  let i = pos;
  if (i === s.length) return true;
  const sep = s.charCodeAt(i);
  if (sep === 84 /* T */ || sep === 116 /* t */ || sep === 32 /* space */) {
    i++;
    while (s.charCodeAt(i) === 32) i++;
    const hourDigits = digitRun(s, i, 2);
    if (hourDigits === 0) return false;
    out.hour = fixedDigits(s, i, hourDigits);
    i += hourDigits;
    if (s.charCodeAt(i) !== 58 /* : */) return false;
    const minute = fixedDigits(s, i + 1, 2);
    if (minute < 0) return false;
    out.minute = minute;
    i += 3;
    if (s.charCodeAt(i) === 58) {
      const second = fixedDigits(s, i + 1, 2);
      if (second < 0) return false;
      out.second = second;
      i += 3;
      const dot = s.charCodeAt(i);
      if (dot === 46 || dot === 44) {
        const fractionDigits = digitRun(s, i + 1, 9);
        if (fractionDigits === 0) return false;
        let micros = 0;
        for (let k = 0; k < 6; k++)
          micros = micros * 10 + (k < fractionDigits ? s.charCodeAt(i + 1 + k) - 48 : 0);
        out.micros = micros;
        i += 1 + fractionDigits;
      }
    }
    while (s.charCodeAt(i) === 32) i++;
    const a = s.charCodeAt(i) | 0x20;
    if ((a === 97 /* a */ || a === 112) /* p */ && (s.charCodeAt(i + 1) | 0x20) === 109 /* m */) {
      if (out.hour < 1 || out.hour > 12)
        out.hour = 99; // "13:00 PM" is no time: fails validation
      else out.hour = (out.hour % 12) + (a === 112 ? 12 : 0);
      i += 2;
      while (s.charCodeAt(i) === 32) i++;
    }
  }
  if (i === s.length) return true;
  return parseOffset(s, i, out);
}

function parseOffset(s: string, pos: number, out: LocalDateTime): boolean {
  const c = s.charCodeAt(pos);
  if ((c === 90 || c === 122) && pos + 1 === s.length) {
    out.offsetMinutes = 0;
    return true;
  }
  const rest = s.slice(pos).toUpperCase();
  if (rest === 'UTC' || rest === 'GMT') {
    out.offsetMinutes = 0;
    return true;
  }
  if (c !== 43 && c !== 45 && c !== 0x2212) return false;
  const sign = c === 43 ? 1 : -1;
  const hours = fixedDigits(s, pos + 1, 2);
  if (hours < 0) return false;
  let i = pos + 3;
  let minutes = 0;
  if (i < s.length) {
    if (s.charCodeAt(i) === 58) i++;
    minutes = fixedDigits(s, i, 2);
    if (minutes < 0 || minutes > 59) return false;
    i += 2;
  }
  if (i !== s.length) return false;
  out.offsetMinutes = sign * (hours * 60 + minutes);
  return true;
}

/**
 * Built-in formats, always accepted: ISO 8601 dates with optional time and offset (`2025-03-14`,
 * `2025-03-14T10:30:00Z`, `2025-03-14 10:30:00+01:00`), the same with `/` or `.` between year-first
 * parts, and compact `yyyyMMdd`.
 */
export function parseIsoDate(s: string, out: LocalDateTime): DateParseStatus {
  const year = fixedDigits(s, 0, 4);
  if (year < 0) return DATE_SHAPE_MISMATCH;
  out.year = year;
  const sep = s.charCodeAt(4);
  if (sep === 45 || sep === 47 || sep === 46) {
    const monthDigits = digitRun(s, 5, 2);
    if (monthDigits === 0 || s.charCodeAt(5 + monthDigits) !== sep) return DATE_SHAPE_MISMATCH;
    const dayStart = 6 + monthDigits;
    const dayDigits = digitRun(s, dayStart, 2);
    if (dayDigits === 0) return DATE_SHAPE_MISMATCH;
    out.month = fixedDigits(s, 5, monthDigits);
    out.day = fixedDigits(s, dayStart, dayDigits);
    if (!parseTimeTail(s, dayStart + dayDigits, out)) return DATE_SHAPE_MISMATCH;
  } else {
    // yyyyMMdd, optionally followed by a time (yyyyMMdd HH:mm:ss)
    if (digitRun(s, 4, 5) !== 4) return DATE_SHAPE_MISMATCH;
    out.month = fixedDigits(s, 4, 2);
    out.day = fixedDigits(s, 6, 2);
    if (!parseTimeTail(s, 8, out)) return DATE_SHAPE_MISMATCH;
  }
  return isValidDateTime(out) ? DATE_OK : DATE_NOT_A_DATE;
}

/** Two digits at `pos` as a number; 999 (out of range for every date and time part) when not digits. */
function twoDigits(s: string, pos: number): number {
  const a = s.charCodeAt(pos) - 48;
  const b = s.charCodeAt(pos + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : 999;
}

const SUPPORTED_MONTHS = (MAX_YEAR - MIN_YEAR + 1) * 12;

/**
 * Days since 1970-01-01 at the start of each month of the supported years (index
 * `(year - MIN_YEAR) * 12 + month - 1`), plus the month after the last: a table lookup gives a date's
 * day number and its month's length without the divisions of {@link daysFromCivil}.
 */
const MONTH_START_DAYS = (() => {
  const table = new Int32Array(SUPPORTED_MONTHS + 1);
  for (let i = 0; i <= SUPPORTED_MONTHS; i++) {
    table[i] = daysFromCivil(MIN_YEAR + Math.floor(i / 12), (i % 12) + 1, 1);
  }
  return table;
})();

/**
 * Fast path for the shapes most exports use: `yyyy-MM-dd`, `yyyy-MM-ddTHH:mm:ss` and the same with
 * `Z` (`T` may be `t` or a space, `Z` may be `z`). Returns the fields as UTC milliseconds when `s` has
 * exactly one of these shapes and is a valid date in the supported years, else NaN — then
 * {@link parseIsoDate} decides (and says what is wrong). Whatever this accepts, `parseIsoDate` reads
 * the same way; this only skips its general scanning and the fields object (measured ~0.3 s per
 * million rows). A value of length 20 carried the `Z` offset (UTC); shorter ones carry no offset.
 */
export function parsePlainIsoMillis(s: string): number {
  const n = s.length;
  if ((n !== 10 && n !== 19 && n !== 20) || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) {
    return Number.NaN;
  }
  const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  let hour = 0;
  let minute = 0;
  let second = 0;
  if (n > 10) {
    const t = s.charCodeAt(10);
    if ((t !== 84 && t !== 116 && t !== 32) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
      return Number.NaN;
    }
    if (n === 20) {
      const z = s.charCodeAt(19);
      if (z !== 90 && z !== 122) return Number.NaN;
    }
    hour = twoDigits(s, 11);
    minute = twoDigits(s, 14);
    second = twoDigits(s, 17);
  }
  return plainFieldsMillis(year, month, day, hour, minute, second);
}

/**
 * The fields a plain ISO reader found as UTC milliseconds, or NaN when they are not a valid date and
 * time in the supported years (a part that was not two digits arrives as 999, out of every range).
 */
function plainFieldsMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return Number.NaN;
  const monthIndex = (year - MIN_YEAR) * 12 + month - 1;
  const monthStart = MONTH_START_DAYS[monthIndex]!;
  if (day > MONTH_START_DAYS[monthIndex + 1]! - monthStart || hour > 23 || minute > 59 || second > 59) {
    return Number.NaN;
  }
  return (monthStart + day - 1) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000;
}

/** {@link twoDigits} of bytes. */
function twoDigitBytes(b: Uint8Array, pos: number): number {
  const x = b[pos]! - 48;
  const y = b[pos + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : 999;
}

/**
 * {@link parsePlainIsoMillis} of the ASCII bytes `b[start, end)` (the ingest's byte fast path reads
 * dates without making strings of them). Same forms, same results.
 */
export function parsePlainIsoMillisAscii(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if ((n !== 10 && n !== 19 && n !== 20) || b[start + 4] !== 45 || b[start + 7] !== 45) {
    return Number.NaN;
  }
  const year = twoDigitBytes(b, start) * 100 + twoDigitBytes(b, start + 2);
  const month = twoDigitBytes(b, start + 5);
  const day = twoDigitBytes(b, start + 8);
  let hour = 0;
  let minute = 0;
  let second = 0;
  if (n > 10) {
    const t = b[start + 10];
    if ((t !== 84 && t !== 116 && t !== 32) || b[start + 13] !== 58 || b[start + 16] !== 58) {
      return Number.NaN;
    }
    if (n === 20) {
      const z = b[start + 19];
      if (z !== 90 && z !== 122) return Number.NaN;
    }
    hour = twoDigitBytes(b, start + 11);
    minute = twoDigitBytes(b, start + 14);
    second = twoDigitBytes(b, start + 17);
  }
  return plainFieldsMillis(year, month, day, hour, minute, second);
}

type FormatToken =
  | { kind: 'year'; width: 4 }
  | { kind: 'month' | 'day' | 'hour' | 'minute' | 'second'; width: number }
  | { kind: 'fraction'; width: number }
  | { kind: 'literal'; text: string };

/** A user-given date format such as `dd-MM-yyyy`, compiled once per file. */
export interface CompiledDateFormat {
  pattern: string;
  hasTime: boolean;
  parse(s: string, out: LocalDateTime): DateParseStatus;
}

const FIELD_BY_LETTER: Record<string, 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction'> =
  {
    y: 'year',
    M: 'month',
    d: 'day',
    H: 'hour',
    m: 'minute',
    s: 'second',
    S: 'fraction',
  };

/**
 * Compiles a format in Unicode/Java pattern letters: `yyyy` year, `MM`/`M` month, `dd`/`d` day,
 * `HH`/`H` hour (0–23), `mm` minute, `ss` second, `SSS` fraction; other characters are literal, and
 * text in single quotes is literal (`yyyy-MM-dd'T'HH:mm`). Numeric fields followed by a literal accept
 * one or two digits (`d-M-yyyy` reads `4-3-2025`); a format without time also accepts an optional
 * time after the date. Throws an Error whose message says what is wrong with the pattern.
 */
export function compileDateFormat(pattern: string): CompiledDateFormat {
  const tokens: FormatToken[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "'") {
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unterminated quote in date format '${pattern}'`);
      tokens.push({ kind: 'literal', text: pattern.slice(i + 1, close) });
      i = close + 1;
      continue;
    }
    if (/[a-zA-Z]/.test(ch)) {
      let j = i;
      while (pattern[j] === ch) j++;
      const width = j - i;
      const kind = FIELD_BY_LETTER[ch];
      if (!kind) {
        const hint = /[YD]/.test(ch) ? ' (use lower-case yyyy for the year and dd for the day)' : '';
        throw new Error(
          `unknown letter '${ch}' in date format '${pattern}'${hint}; use yyyy, MM, dd, HH, mm, ss, SSS`,
        );
      }
      if (kind === 'year') {
        if (width !== 4) throw new Error(`date format '${pattern}': the year must be written yyyy`);
        tokens.push({ kind, width: 4 });
      } else if (kind === 'fraction') {
        tokens.push({ kind, width });
      } else {
        if (width > 2) throw new Error(`date format '${pattern}': '${ch.repeat(width)}' is not supported`);
        tokens.push({ kind, width });
      }
      i = j;
      continue;
    }
    tokens.push({ kind: 'literal', text: ch });
    i++;
  }
  const kinds = new Set(tokens.map((token) => token.kind));
  if (!kinds.has('month') && kinds.has('minute')) {
    const suggestion = pattern.replace(/mm/, 'MM');
    throw new Error(
      `date format '${pattern}' uses mm (minutes) but no MM (month); did you mean '${suggestion}'?`,
    );
  }
  for (const [kind, letters] of [
    ['year', 'yyyy'],
    ['month', 'MM'],
    ['day', 'dd'],
  ] as const) {
    if (!kinds.has(kind)) throw new Error(`date format '${pattern}' has no ${kind} (${letters})`);
  }
  const hasTime = kinds.has('hour');

  const parse = (s: string, out: LocalDateTime): DateParseStatus => {
    out.hour = 0;
    out.minute = 0;
    out.second = 0;
    out.micros = 0;
    out.offsetMinutes = null;
    let pos = 0;
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t]!;
      if (token.kind === 'literal') {
        if (!s.startsWith(token.text, pos)) return DATE_SHAPE_MISMATCH;
        pos += token.text.length;
        continue;
      }
      const next = tokens[t + 1];
      // A field followed by another numeric field has a fixed width (yyyyMMdd); otherwise 1–2 digits.
      const fixed = token.kind === 'year' || token.kind === 'fraction' || (next && next.kind !== 'literal');
      const count = fixed ? token.width : digitRun(s, pos, 2);
      if (count === 0) return DATE_SHAPE_MISMATCH;
      const value = fixedDigits(s, pos, count);
      if (value < 0) return DATE_SHAPE_MISMATCH;
      pos += count;
      switch (token.kind) {
        case 'year':
          out.year = value;
          break;
        case 'month':
          out.month = value;
          break;
        case 'day':
          out.day = value;
          break;
        case 'hour':
          out.hour = value;
          break;
        case 'minute':
          out.minute = value;
          break;
        case 'second':
          out.second = value;
          break;
        case 'fraction':
          out.micros = Math.round(value * 10 ** (6 - count));
          break;
      }
    }
    if (pos < s.length) {
      if (hasTime) {
        if (!parseOffset(s, pos, out)) return DATE_SHAPE_MISMATCH;
      } else if (!parseTimeTail(s, pos, out)) {
        return DATE_SHAPE_MISMATCH;
      }
    }
    return isValidDateTime(out) ? DATE_OK : DATE_NOT_A_DATE;
  };
  return { pattern, hasTime, parse };
}
