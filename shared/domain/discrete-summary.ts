/**
 * Per-customer summary for discrete-opportunity models (BG/BB): a transaction log cut into periods
 * (calendar years, or campaigns starting on given dates) becomes (frequency, recency, periods).
 */
import { parseEpochDay, type TransactionRecord } from './rfm-summary.ts';

/** How dates map to opportunities: calendar years (UTC) or campaigns, each running until the next starts. */
export type PeriodDefinition = { kind: 'year' } | { kind: 'campaigns'; starts: readonly string[] };

export interface DiscreteSummaryOptions {
  period: PeriodDefinition;
  /** The last opportunity observed: a date inside it (YYYY-MM-DD). */
  observationEnd: string;
}

export interface DiscreteSummary {
  customerIds: string[];
  /** Opportunities after the first with a transaction (x). */
  frequency: Float64Array;
  /** Opportunity number (1 = the one after the first) of the last transaction, 0 when none (t_x). */
  recency: Float64Array;
  /** Opportunities observed after the first (n). */
  periods: Float64Array;
  /** Customers whose first transaction is after the observation end, left out. */
  rowsAfterObservationEnd: number;
}

/** A function from epoch day to period index (increasing); −1 before the first campaign. */
export function periodIndexer(period: PeriodDefinition): (epochDay: number) => number {
  if (period.kind === 'year') {
    return (day) => new Date(day * 86_400_000).getUTCFullYear();
  }
  const starts = period.starts.map((s, i) => parseEpochDay(s, `campaign start ${i + 1}`));
  for (let i = 1; i < starts.length; i++) {
    if (!(starts[i]! > starts[i - 1]!)) {
      throw new RangeError(
        `campaign starts must be increasing dates: start ${i + 1} (${period.starts[i]}) is not after start ${i}`,
      );
    }
  }
  return (day) => {
    let lo = 0;
    let hi = starts.length - 1;
    if (starts.length === 0 || day < starts[0]!) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= day) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

/**
 * Summarises a transaction log for BG/BB. A customer's first period is the cohort period (not an
 * opportunity); every later period up to the one containing `observationEnd` is an opportunity, and
 * a period counts as a transaction when its net amount is > 0. Rows dated before the first campaign
 * or after the observation end are ignored (the latter counted).
 */
export function summarizeDiscrete(
  transactions: Iterable<TransactionRecord>,
  options: DiscreteSummaryOptions,
): DiscreteSummary {
  const indexOf = periodIndexer(options.period);
  const endDay = parseEpochDay(options.observationEnd, 'observationEnd');
  const lastPeriod = indexOf(endDay);
  const byCustomer = new Map<string, Map<number, number>>();
  let after = 0;
  for (const t of transactions) {
    const day = typeof t.date === 'number' ? t.date : parseEpochDay(t.date);
    if (day > endDay) {
      after++;
      continue;
    }
    const period = indexOf(day);
    if (period < 0) continue;
    let periods = byCustomer.get(t.customerId);
    if (!periods) {
      periods = new Map();
      byCustomer.set(t.customerId, periods);
    }
    periods.set(period, (periods.get(period) ?? 0) + t.amount);
  }
  const ids: string[] = [];
  const x: number[] = [];
  const tx: number[] = [];
  const n: number[] = [];
  for (const [id, periods] of byCustomer) {
    const active = [...periods.entries()].filter(([, amount]) => amount >= 0).map(([p]) => p);
    if (active.length === 0) continue;
    const first = Math.min(...active);
    let count = 0;
    let last = 0;
    for (const [p, amount] of periods) {
      if (p > first && amount > 0) {
        count++;
        last = Math.max(last, p - first);
      }
    }
    ids.push(id);
    x.push(count);
    tx.push(last);
    n.push(lastPeriod - first);
  }
  return {
    customerIds: ids,
    frequency: Float64Array.from(x),
    recency: Float64Array.from(tx),
    periods: Float64Array.from(n),
    rowsAfterObservationEnd: after,
  };
}
