/**
 * Minimum-data rules checked before a fit: data that cannot identify a model's parameters get a
 * clear message (which rule, what the data look like) instead of a fit that runs off to 0 or ∞.
 */
import type { CompressedRfm } from './types.ts';

/** Fewest customers with at least one repeat purchase a purchase model is fitted on. */
export const MINIMUM_REPEAT_BUYERS = 2;
/** Fewest distinct (x, t_x, T) rows: identical customers carry no information on heterogeneity. */
export const MINIMUM_DISTINCT_ROWS = 2;

/** Largest value of a column (0 for an empty one). */
export function columnMax(column: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < column.length; i++) if (column[i]! > max) max = column[i]!;
  return max;
}

/**
 * Why (x, t_x, T) data cannot identify BG/NBD, MBG/NBD or Pareto/NBD, or null when they can be
 * fitted. Rows with weight 0 do not count.
 */
export function purchaseDataShortage(data: CompressedRfm): string | null {
  let customers = 0;
  let repeatBuyers = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < data.length; i++) {
    const w = data.weight[i]!;
    if (!(w > 0)) continue;
    customers += w;
    if (data.x[i]! > 0) repeatBuyers += w;
    if (distinct.size < MINIMUM_DISTINCT_ROWS) distinct.add(`${data.x[i]}|${data.tx[i]}|${data.T[i]}`);
  }
  if (repeatBuyers === 0) {
    return `all ${customers} customers are one-time buyers (frequency 0), so the purchase rate and the dropout cannot be told apart; the model needs at least ${MINIMUM_REPEAT_BUYERS} customers with repeat purchases (a longer observation period usually gives them).`;
  }
  if (repeatBuyers < MINIMUM_REPEAT_BUYERS) {
    return `only ${repeatBuyers} of ${customers} customers made a repeat purchase; the model needs at least ${MINIMUM_REPEAT_BUYERS}.`;
  }
  if (distinct.size < MINIMUM_DISTINCT_ROWS) {
    return `all ${customers} customers have the same (frequency, recency, T), so differences between customers cannot be estimated; the model needs at least ${MINIMUM_DISTINCT_ROWS} different rows.`;
  }
  return null;
}

/**
 * Whether a penalizer gives short purchase data a usable fit: at least one repeat buyer and two
 * different rows (with no repeat buyer at all there is nothing on the purchase rate to shrink).
 */
export function penalizerCuresPurchaseShortage(data: CompressedRfm): boolean {
  let repeatBuyers = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < data.length; i++) {
    if (!(data.weight[i]! > 0)) continue;
    if (data.x[i]! > 0) repeatBuyers += data.weight[i]!;
    if (distinct.size < MINIMUM_DISTINCT_ROWS) distinct.add(`${data.x[i]}|${data.tx[i]}|${data.T[i]}`);
  }
  return repeatBuyers > 0 && distinct.size >= MINIMUM_DISTINCT_ROWS;
}
