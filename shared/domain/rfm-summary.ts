/**
 * Transaction log → per-customer RFM summary (frequency, recency, T, monetary value), with an
 * optional calibration/holdout split, and compression of (x, t_x, T) rows into weighted rows.
 *
 * The rules (also in docs/engine.md; the warehouse SQL must apply the same ones):
 * - A day is the UTC calendar date. All of a customer's rows on one day are summed into the day's
 *   net value (refunds are negative rows).
 * - The first purchase is the customer's first day with net value ≥ 0: an order, even one of zero
 *   value (a free item), starts the relationship, while a day of refunds only (net < 0) refers to
 *   purchases before the log and does not. A customer without such a day up to the calibration end
 *   is left out and counted in `excluded`.
 * - Repeat purchases are the later days with net value > 0 (a zero or negative day is not a purchase).
 * - frequency = repeat purchase days up to the calibration end (inclusive).
 * - recency = last purchase day − first purchase day; T = calibration end − first purchase day.
 * - monetary_value = mean net value of the repeat purchase days (first purchase excluded); 0 if none.
 * - Times are in days, or in weeks = days / 7. Rows after the observation end are ignored.
 * - Holdout (when a calibration end is given): purchase days in (calibration end, observation end],
 *   their mean net value, and the holdout duration.
 */
import type { CompressedRfm } from './models/types.ts';

export type TimeUnit = 'days' | 'weeks';

export interface TransactionRecord {
  customerId: string;
  /** `YYYY-MM-DD` (UTC calendar date) or a UTC epoch day number (days since 1970-01-01). */
  date: string | number;
  /** Net amount; negative for refunds. */
  amount: number;
}

export interface SummaryOptions {
  /** Last day observed (inclusive), `YYYY-MM-DD` or epoch day. */
  observationEnd: string | number;
  /** Default 'days'. */
  unit?: TimeUnit;
  /** End of the calibration period (inclusive); enables the holdout columns. */
  calibrationEnd?: string | number;
}

export interface RfmSummary {
  unit: TimeUnit;
  /** Epoch days. */
  observationEnd: number;
  calibrationEnd: number;
  customerIds: string[];
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetaryValue: Float64Array;
  /** Present when a calibration end was given. */
  holdout: { frequency: Float64Array; monetaryValue: Float64Array; duration: number } | null;
  /** Customers left out, by reason. */
  excluded: { noPurchaseDay: number };
  /** Input rows after the observation end (ignored). */
  rowsAfterObservationEnd: number;
}

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` → UTC epoch day; throws on anything that is not a real calendar date. */
export function parseEpochDay(value: string | number, what = 'date'): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`${what}: epoch day must be an integer, got ${value}`);
    return value;
  }
  const m = ISO_DATE.exec(value);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const check = new Date(ms);
    if (check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d) {
      return ms / DAY_MS;
    }
  }
  throw new RangeError(`${what}: expected a calendar date YYYY-MM-DD, got '${value}'`);
}

export function formatEpochDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Amounts are summed in millionths as integers so that refunds cancel exactly (0.1 + 0.2 − 0.3 = 0). */
const MICROS = 1_000_000;

/** Builds the RFM summary; `transactions` may be any iterable (a generator streaming a file). */
export function summarizeTransactions(
  transactions: Iterable<TransactionRecord>,
  options: SummaryOptions,
): RfmSummary {
  const unit = options.unit ?? 'days';
  const observationEnd = parseEpochDay(options.observationEnd, 'observation end');
  const calibrationEnd =
    options.calibrationEnd === undefined
      ? observationEnd
      : parseEpochDay(options.calibrationEnd, 'calibration end');
  if (calibrationEnd > observationEnd) {
    throw new RangeError(
      `calibration end ${formatEpochDay(calibrationEnd)} is after the observation end ${formatEpochDay(observationEnd)}`,
    );
  }
  const perUnit = unit === 'weeks' ? 1 / 7 : 1;

  // customer → (epoch day → net micros)
  const days = new Map<string, Map<number, number>>();
  let rowsAfterObservationEnd = 0;
  let index = 0;
  for (const t of transactions) {
    index++;
    const day = parseEpochDay(t.date, `transaction ${index} (customer ${t.customerId})`);
    if (!Number.isFinite(t.amount)) {
      throw new RangeError(`transaction ${index} (customer ${t.customerId}): amount must be a finite number`);
    }
    if (day > observationEnd) {
      rowsAfterObservationEnd++;
      continue;
    }
    let perDay = days.get(t.customerId);
    if (!perDay) {
      perDay = new Map();
      days.set(t.customerId, perDay);
    }
    perDay.set(day, (perDay.get(day) ?? 0) + Math.round(t.amount * MICROS));
  }

  const n = days.size;
  const customerIds: string[] = [];
  const frequency = new Float64Array(n);
  const recency = new Float64Array(n);
  const T = new Float64Array(n);
  const monetaryValue = new Float64Array(n);
  const split = options.calibrationEnd !== undefined;
  const holdoutFrequency = new Float64Array(n);
  const holdoutMonetary = new Float64Array(n);
  let excluded = 0;
  let row = 0;
  for (const [customerId, perDay] of days) {
    const sortedDays = [...perDay.entries()].sort((a, b) => a[0] - b[0]);
    const firstIndex = sortedDays.findIndex(([, net]) => net >= 0);
    const first = sortedDays[firstIndex];
    if (!first || first[0] > calibrationEnd) {
      excluded++;
      continue;
    }
    let x = 0;
    let last = first[0];
    let repeatValue = 0;
    let hx = 0;
    let holdoutValue = 0;
    for (let i = firstIndex + 1; i < sortedDays.length; i++) {
      const [day, net] = sortedDays[i]!;
      if (net <= 0) continue;
      if (day <= calibrationEnd) {
        x++;
        last = day;
        repeatValue += net;
      } else {
        hx++;
        holdoutValue += net;
      }
    }
    customerIds.push(customerId);
    frequency[row] = x;
    recency[row] = (last - first[0]) * perUnit;
    T[row] = (calibrationEnd - first[0]) * perUnit;
    monetaryValue[row] = x > 0 ? repeatValue / MICROS / x : 0;
    holdoutFrequency[row] = hx;
    holdoutMonetary[row] = hx > 0 ? holdoutValue / MICROS / hx : 0;
    row++;
  }
  return {
    unit,
    observationEnd,
    calibrationEnd,
    customerIds,
    frequency: frequency.slice(0, row),
    recency: recency.slice(0, row),
    T: T.slice(0, row),
    monetaryValue: monetaryValue.slice(0, row),
    holdout: split
      ? {
          frequency: holdoutFrequency.slice(0, row),
          monetaryValue: holdoutMonetary.slice(0, row),
          duration: (observationEnd - calibrationEnd) * perUnit,
        }
      : null,
    excluded: { noPurchaseDay: excluded },
    rowsAfterObservationEnd,
  };
}

/** Columns (x, t_x, T) with every weight 1, without collapsing rows. */
export function rfmColumns(x: ArrayLike<number>, tx: ArrayLike<number>, T: ArrayLike<number>): CompressedRfm {
  const length = x.length;
  if (tx.length !== length || T.length !== length) {
    throw new RangeError(
      `x, t_x and T must have the same length (got ${x.length}, ${tx.length}, ${T.length})`,
    );
  }
  return {
    x: Float64Array.from(x),
    tx: Float64Array.from(tx),
    T: Float64Array.from(T),
    weight: new Float64Array(length).fill(1),
    length,
  };
}

/** Distinct rows of some columns: the first index of each, in first-appearance order, and their summed weights. */
export interface DistinctRows {
  /** Index (into the input) of the first row of each distinct row. */
  first: Int32Array;
  weight: Float64Array;
  length: number;
}

const hashScratch = new Float64Array(1);
const hashWords = new Uint32Array(hashScratch.buffer);

/** Same value for the collapse: −0 equals 0 and NaN equals NaN (as the string keys it replaced did). */
function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Groups identical rows of numeric columns with an open-addressing hash table over the values'
 * bits: no per-row strings or objects. The table grows with the number of distinct rows (not the
 * number of rows) and keeps the distinct rows' values and hashes beside it, so a million rows with
 * a few hundred thousand distinct ones mostly hit memory that is already in the cache.
 */
export function distinctRows(
  columns: readonly ArrayLike<number>[],
  length: number,
  weights?: ArrayLike<number>,
): DistinctRows {
  const width = columns.length;
  let size = 1024;
  let mask = size - 1;
  let table = new Int32Array(size).fill(-1);
  const first = new Int32Array(length);
  const weight = new Float64Array(length);
  const hashes = new Int32Array(length);
  const keys = new Float64Array(length * width);
  let count = 0;
  for (let i = 0; i < length; i++) {
    let h = 0x811c9dc5;
    for (let c = 0; c < width; c++) {
      // + 0 turns −0 into 0 so both hash alike.
      hashScratch[0] = columns[c]![i]! + 0;
      h = Math.imul(h ^ hashWords[0]!, 0x9e3779b1);
      h = Math.imul(h ^ hashWords[1]!, 0x85ebca6b);
    }
    h ^= h >>> 15;
    let slot = h & mask;
    const w = weights ? weights[i]! : 1;
    for (;;) {
      const at = table[slot]!;
      if (at < 0) {
        table[slot] = count;
        first[count] = i;
        weight[count] = w;
        hashes[count] = h;
        for (let c = 0; c < width; c++) keys[count * width + c] = columns[c]![i]!;
        count++;
        if (2 * count > size) {
          // Keep the load at most one half: double the table and re-insert the distinct rows.
          size *= 2;
          mask = size - 1;
          table = new Int32Array(size).fill(-1);
          for (let k = 0; k < count; k++) {
            let s = hashes[k]! & mask;
            while (table[s]! >= 0) s = (s + 1) & mask;
            table[s] = k;
          }
        }
        break;
      }
      let same = hashes[at] === h;
      for (let c = 0; c < width && same; c++) same = sameValue(columns[c]![i]!, keys[at * width + c]!);
      if (same) {
        weight[at] = weight[at]! + w;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { first: first.subarray(0, count), weight: weight.subarray(0, count), length: count };
}

/**
 * Collapses identical (x, t_x, T) rows into one weighted row (first-appearance order). Optional
 * input weights are summed. The likelihood of the result equals that of the input exactly.
 */
export function compressRfm(
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  T: ArrayLike<number>,
  weights?: ArrayLike<number>,
): CompressedRfm {
  const n = x.length;
  if (tx.length !== n || T.length !== n || (weights && weights.length !== n)) {
    throw new RangeError('x, t_x, T (and weights) must have the same length');
  }
  const distinct = distinctRows([x, tx, T], n, weights);
  const length = distinct.length;
  const cx = new Float64Array(length);
  const ctx = new Float64Array(length);
  const cT = new Float64Array(length);
  for (let k = 0; k < length; k++) {
    const i = distinct.first[k]!;
    cx[k] = x[i]!;
    ctx[k] = tx[i]!;
    cT[k] = T[i]!;
  }
  return { x: cx, tx: ctx, T: cT, weight: distinct.weight.slice(), length };
}

/** Compressed calibration data of a summary. */
export function compressSummary(summary: RfmSummary): CompressedRfm {
  return compressRfm(summary.frequency, summary.recency, summary.T);
}

/** Sum of the weights (number of customers). */
export function totalWeight(data: { weight: Float64Array }): number {
  let s = 0;
  for (let i = 0; i < data.weight.length; i++) s += data.weight[i]!;
  return s;
}
