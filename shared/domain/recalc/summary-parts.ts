/**
 * How many parts the customer summaries are written in. The summaries are split by a hash of the
 * customer id into `parts` buckets, one Parquet folder each, and the scoring Map runs one task per
 * part: the part count is the pipeline's choice, so a part's size (and a ScorePart's duration) is
 * bounded by configuration instead of by how the engine happened to split its output.
 */

/**
 * Athena's UNLOAD writes at most 100 partitions (Athena user guide, UNLOAD, "Maximum partitions").
 * Above 100 × partCustomers customers the parts grow past `partCustomers` instead of failing the run.
 */
export const MAX_SUMMARY_PARTS = 100;

/** Default customers per part: see docs/scale.md for the measured ScorePart time behind it. */
export const DEFAULT_PART_CUSTOMERS = 200_000;

/** B = ceil(customers / partCustomers), at least 1, at most {@link MAX_SUMMARY_PARTS}. */
export function summaryPartCount(customers: number, partCustomers: number = DEFAULT_PART_CUSTOMERS): number {
  if (!Number.isSafeInteger(customers) || customers < 0) {
    throw new RangeError(`customers must be a non-negative integer, got ${customers}`);
  }
  if (!Number.isSafeInteger(partCustomers) || partCustomers < 1) {
    throw new RangeError(`partCustomers must be a positive integer, got ${partCustomers}`);
  }
  return Math.min(MAX_SUMMARY_PARTS, Math.max(1, Math.ceil(customers / partCustomers)));
}
