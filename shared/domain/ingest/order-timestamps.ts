/**
 * Reading order timestamps in an export: the parser of ISO and configured formats in a time zone, and
 * sniffing of a file's day-first or month-first date format.
 */
import {
  type CompiledDateFormat,
  compileDateFormat,
  DATE_NOT_A_DATE,
  DATE_OK,
  type LocalDateTime,
  localFieldsAsUtcMillis,
  MAX_YEAR,
  MIN_YEAR,
  newLocalDateTime,
  parseIsoDate,
  parsePlainIsoMillis,
  parsePlainIsoMillisAscii,
} from './date-format.ts';
import { createLocalToUtc } from './zone.ts';

/** Why a timestamp was not accepted; the message is built by the row cleaner. */
export type TimestampProblem = 'not_a_date' | 'unrecognised' | 'out_of_range';

export interface OrderTimestampParser {
  /** Epoch microseconds (UTC) as a safe integer, or the reason the value is not a timestamp. */
  parse(value: string): number | TimestampProblem;
  /**
   * The common ISO forms (`2025-03-14`, `2025-03-14T10:30:00`, `…Z`) read from ASCII bytes
   * `bytes[start, end)`: epoch microseconds, or NaN for any other text (then call {@link parse} with
   * the text; it decides). Where it returns a number, {@link parse} returns the same.
   */
  parseAscii(bytes: Uint8Array, start: number, end: number): number;
  /** Formats accepted, for messages: "ISO 8601, yyyyMMdd or dd-MM-yyyy". */
  describe(): string;
  /** The non-ISO format in use, if any. */
  readonly format: CompiledDateFormat | null;
}

/**
 * Parses order timestamps: the built-in ISO/yyyyMMdd forms first, then `format` (configured or
 * sniffed). Values without an offset are wall-clock times in `timeZone`.
 */
export function createOrderTimestampParser(
  format: CompiledDateFormat | null,
  timeZone: string,
): OrderTimestampParser {
  const toUtc = createLocalToUtc(timeZone);
  const fields: LocalDateTime = newLocalDateTime();
  // Exports are usually sorted by date and many rows share one value: remember the last one.
  let lastText = '';
  let lastResult: number | TimestampProblem = 'unrecognised';
  return {
    format,
    describe: () =>
      `ISO 8601 (2025-03-14, 2025-03-14T10:30:00Z), yyyyMMdd${format ? ` or ${format.pattern}` : ''}`,
    parseAscii(bytes, start, end) {
      const plain = parsePlainIsoMillisAscii(bytes, start, end);
      if (Number.isNaN(plain)) return plain;
      return (end - start === 20 ? plain : toUtc(plain)) * 1000;
    },
    parse(value) {
      if (value === lastText) return lastResult;
      lastText = value;
      lastResult = parseUncached(value);
      return lastResult;
    },
  };

  function parseUncached(value: string): number | TimestampProblem {
    const plain = parsePlainIsoMillis(value);
    if (!Number.isNaN(plain)) return (value.length === 20 ? plain : toUtc(plain)) * 1000;
    let status = parseIsoDate(value, fields);
    if (status !== DATE_OK && format) {
      const isoStatus = status;
      status = format.parse(value, fields);
      // A value shaped like ISO but impossible (2025-02-30) should say "not a valid date".
      if (status !== DATE_OK && isoStatus === DATE_NOT_A_DATE) status = DATE_NOT_A_DATE;
    }
    if (status !== DATE_OK) return status === DATE_NOT_A_DATE ? 'not_a_date' : 'unrecognised';
    if (fields.year < MIN_YEAR || fields.year > MAX_YEAR) return 'out_of_range';
    const local = localFieldsAsUtcMillis(fields);
    const utc = fields.offsetMinutes === null ? toUtc(local) : local - fields.offsetMinutes * 60_000;
    return utc * 1000 + fields.micros;
  }
}

const DAY_FIRST_OR_MONTH_FIRST = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?=$|[ T])/;

/**
 * Share of the sample values that may be junk (fit neither the chosen format nor ISO) and still leave
 * the choice clear: one in fifty, and always at least one. Those rows are rejected one by one as
 * `order_ts_invalid`; a file with more of them is ambiguous, not junk.
 */
const JUNK_SHARE = 0.02;

/**
 * Picks the format of non-ISO dates from sample values, for files without a configured `dateFormat`.
 * `13-03-2025` proves day-first and `03/13/2025` month-first; `.` between parts means day-first
 * (nobody writes MM.dd.yyyy). Returns null format when every sample is ISO, and `ambiguous` when
 * samples like `03/04/2025` fit both and nothing decides.
 *
 * A few junk values do not decide for the whole file: when a clear majority of the samples fits one
 * reading and only a few (see {@link JUNK_SHARE}) fit none or contradict it — `31/31/2031` among ISO
 * dates, one `12/31/2025` among day-first dates — that reading is chosen and the parser rejects the few
 * rows one by one with their line number. Values that fit both readings are never junk among each
 * other: a file of only `03/04/2025`-like dates stays ambiguous.
 */
export function sniffDateFormat(
  samples: readonly string[],
): { format: CompiledDateFormat | null } | { ambiguous: string } {
  const scratch = newLocalDateTime();
  let iso = 0;
  /** Day-first or month-first shaped values with the first separator seen, by what they prove. */
  let dayFirst = 0;
  let monthFirst = 0;
  let either = 0;
  let separator: string | null = null;
  let example = '';
  let eitherExample = '';
  let dayFirstExample = '';
  for (const sample of samples) {
    if (parseIsoDate(sample, scratch) === DATE_OK) {
      iso++;
      continue;
    }
    const match = DAY_FIRST_OR_MONTH_FIRST.exec(sample);
    if (!match) continue;
    const first = Number(match[1]);
    const second = Number(match[3]);
    separator ??= match[2]!;
    if (match[2] !== separator) continue;
    example ||= sample;
    if (first > 12 && second <= 12) {
      dayFirst++;
      dayFirstExample ||= sample;
    } else if (second > 12 && first <= 12) monthFirst++;
    else if (first <= 12 && second <= 12) {
      either++;
      eitherExample ||= sample;
    }
    // Both parts above 12 (31/31/2031): no reading fits; junk whatever the format.
  }
  if (separator === null) return { format: null };
  const few = Math.max(1, Math.floor(samples.length * JUNK_SHARE));
  const dayFirstFormat = `dd${separator}MM${separator}yyyy`;
  const monthFirstFormat = `MM${separator}dd${separator}yyyy`;
  if (dayFirst > 0 || monthFirst > 0) {
    if (monthFirst === 0 || (monthFirst <= few && monthFirst < dayFirst))
      return { format: compileDateFormat(dayFirstFormat) };
    if (dayFirst === 0 || (dayFirst <= few && dayFirst < monthFirst))
      return { format: compileDateFormat(monthFirstFormat) };
    return { ambiguous: dayFirstExample || example };
  }
  if (separator === '.') return { format: compileDateFormat(dayFirstFormat) };
  // Nothing proves either order: only junk (both parts above 12), or values that fit both.
  if (either === 0 || (either <= few && either < iso)) return { format: null };
  return { ambiguous: eitherExample || example };
}
