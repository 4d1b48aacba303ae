/**
 * Movement of customers along the value chain between two runs, and the per-segment totals a run
 * publishes. Everything here is additive so that parts scored independently (one Distributed Map
 * item each) can be merged in any order.
 */
import type { SegmentSummary } from './run.ts';
import type { ChurnRisk } from './score.ts';

/** previous segment → current segment → customers. */
export type MigrationMatrix = Record<string, Record<string, number>>;

/** Row of customers without a score in the previous run (first seen, or no previous run). */
export const NEW_CUSTOMERS_ROW = '(new)';
/** Column of previous-run customers that have no score in this run (erased, or no longer summarized). */
export const GONE_COLUMN = '(gone)';

export function addMigration(matrix: MigrationMatrix, from: string, to: string, customers = 1): void {
  const row = matrix[from] ?? {};
  matrix[from] = row;
  row[to] = (row[to] ?? 0) + customers;
}

/** Sum of two matrices (new object; inputs untouched). */
export function mergeMigrations(a: MigrationMatrix, b: MigrationMatrix): MigrationMatrix {
  const merged: MigrationMatrix = {};
  for (const matrix of [a, b]) {
    for (const [from, row] of Object.entries(matrix)) {
      for (const [to, customers] of Object.entries(row)) addMigration(merged, from, to, customers);
    }
  }
  return merged;
}

/**
 * Adds the `(gone)` column so that every previous segment's row sums to its size in the previous
 * run. Scoring only sees customers of this run; the ones it did not see are the difference.
 * Throws when a row already exceeds its previous size (the inputs belong to different runs).
 */
export function completeMigration(
  matrix: MigrationMatrix,
  previousSegmentSizes: Readonly<Record<string, number>>,
): MigrationMatrix {
  const complete = mergeMigrations(matrix, {});
  for (const [segment, size] of Object.entries(previousSegmentSizes)) {
    const row = complete[segment] ?? {};
    const seen = Object.values(row).reduce((sum, n) => sum + n, 0);
    if (seen > size) {
      throw new Error(
        `migration: ${seen} customers moved out of '${segment}' but the previous run had only ${size} in it`,
      );
    }
    if (seen < size) row[GONE_COLUMN] = size - seen;
    if (size > 0) complete[segment] = row;
  }
  for (const from of Object.keys(complete)) {
    if (from !== NEW_CUSTOMERS_ROW && !Object.hasOwn(previousSegmentSizes, from)) {
      throw new Error(`migration: customers came from '${from}', which the previous run does not have`);
    }
  }
  return complete;
}

/** Row sums of a matrix: customers per previous segment. */
export function migrationRowSums(matrix: MigrationMatrix): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const [from, row] of Object.entries(matrix)) {
    sums[from] = Object.values(row).reduce((sum, n) => sum + n, 0);
  }
  return sums;
}

/** Customers and CLV per segment, additive across parts. */
export type SegmentTotals = Record<string, { customers: number; totalClv: number }>;

export function addToSegment(totals: SegmentTotals, segment: string, clv: number): void {
  const entry = totals[segment] ?? { customers: 0, totalClv: 0 };
  totals[segment] = entry;
  entry.customers += 1;
  entry.totalClv += clv;
}

export function mergeSegmentTotals(a: SegmentTotals, b: SegmentTotals): SegmentTotals {
  const merged: SegmentTotals = {};
  for (const totals of [a, b]) {
    for (const [segment, entry] of Object.entries(totals)) {
      const target = merged[segment] ?? { customers: 0, totalClv: 0 };
      merged[segment] = target;
      target.customers += entry.customers;
      target.totalClv += entry.totalClv;
    }
  }
  return merged;
}

/**
 * Segment summaries in the order of `segmentOrder` (segments without customers are listed with
 * zeros, so every run shows the whole grid); share of value is the segment's part of the total CLV
 * (0 when the total is not positive).
 */
export function summarizeSegments(totals: SegmentTotals, segmentOrder: readonly string[]): SegmentSummary[] {
  const names = [...new Set([...segmentOrder, ...Object.keys(totals)])];
  const grandTotal = Object.values(totals).reduce((sum, entry) => sum + Math.max(0, entry.totalClv), 0);
  return names.map((segment) => {
    const entry = totals[segment] ?? { customers: 0, totalClv: 0 };
    const share = grandTotal > 0 ? Math.max(0, entry.totalClv) / grandTotal : 0;
    return {
      segment,
      customers: entry.customers,
      totalClv: roundCents(entry.totalClv),
      meanClv: entry.customers > 0 ? roundCents(entry.totalClv / entry.customers) : 0,
      shareOfValue: Math.min(1, share),
    };
  });
}

const roundCents = (value: number) => Math.round(value * 100) / 100;

/** What a CRM needs to act on a customer who moved. */
export interface CustomerChange {
  customerId: string;
  previousSegment: string;
  segment: string;
  previousChurnRisk: ChurnRisk;
  churnRisk: ChurnRisk;
  /** Value playbook (when both runs have one): rung and audience before and now. */
  previousRung?: string;
  rung?: string;
  previousAction?: string;
  action?: string;
}

/** A change when the segment or the churn-risk band differs from the previous run; null otherwise. */
export function detectChange(
  customerId: string,
  previous: { segment: string; churnRisk: ChurnRisk } | undefined,
  current: { segment: string; churnRisk: ChurnRisk },
): CustomerChange | null {
  if (!previous) return null;
  if (previous.segment === current.segment && previous.churnRisk === current.churnRisk) return null;
  return {
    customerId,
    previousSegment: previous.segment,
    segment: current.segment,
    previousChurnRisk: previous.churnRisk,
    churnRisk: current.churnRisk,
  };
}
