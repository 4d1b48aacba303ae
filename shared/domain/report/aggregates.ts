/**
 * Distribution aggregates for the run report. They are accumulated while customers are scored (in
 * parts, possibly in parallel Lambdas) and merged afterwards, so the report never needs every score
 * in memory at once.
 */

/** CLV histogram bucket edges in the run currency; the last bucket is open-ended. */
export const CLV_BUCKET_EDGES = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** Repeat-purchase (x) bins for the P(alive) grid. */
export const FREQUENCY_BINS = [
  { label: '0', min: 0, max: 0 },
  { label: '1', min: 1, max: 1 },
  { label: '2', min: 2, max: 2 },
  { label: '3–4', min: 3, max: 4 },
  { label: '5–9', min: 5, max: 9 },
  { label: '10+', min: 10, max: Number.POSITIVE_INFINITY },
] as const;

/** Weeks since the last purchase (T − t_x) bins for the P(alive) grid. */
export const WEEKS_SINCE_LAST_BINS = [
  { label: '< 4 wk', min: 0, max: 4 },
  { label: '4–13 wk', min: 4, max: 13 },
  { label: '13–26 wk', min: 13, max: 26 },
  { label: '26–52 wk', min: 26, max: 52 },
  { label: '≥ 52 wk', min: 52, max: Number.POSITIVE_INFINITY },
] as const;

export interface ClvBucket {
  from: number;
  /** null for the open-ended last bucket */
  to: number | null;
  customers: number;
  totalClv: number;
}

export interface PAliveCell {
  frequency: string;
  weeksSinceLastPurchase: string;
  customers: number;
  meanPAlive: number;
}

export interface ReportAggregates {
  clvHistogram: ClvBucket[];
  pAliveGrid: PAliveCell[];
}

/** What the accumulator needs of a score; recency and T in weeks. */
export interface ScoredCustomerForReport {
  clv: number;
  pAlive: number;
  frequency: number;
  recencyWeeks: number;
  TWeeks: number;
}

export interface ReportAccumulator {
  add(customer: ScoredCustomerForReport): void;
  /** Adds the counts of another accumulator's result (e.g. from another part). */
  merge(other: ReportAggregates): void;
  result(): ReportAggregates;
}

const binIndex = (
  bins: ReadonlyArray<{ min: number; max: number }>,
  value: number,
  inclusiveMax: boolean,
) => {
  for (let i = 0; i < bins.length; i++) {
    const bin = bins[i]!;
    if (value >= bin.min && (inclusiveMax ? value <= bin.max : value < bin.max)) return i;
  }
  return bins.length - 1;
};

export function createReportAccumulator(): ReportAccumulator {
  const clvCounts = new Float64Array(CLV_BUCKET_EDGES.length);
  const clvTotals = new Float64Array(CLV_BUCKET_EDGES.length);
  const cells = FREQUENCY_BINS.length * WEEKS_SINCE_LAST_BINS.length;
  const gridCounts = new Float64Array(cells);
  const gridPAliveSums = new Float64Array(cells);

  const clvIndex = (clv: number) => {
    let index = 0;
    for (let i = 0; i < CLV_BUCKET_EDGES.length; i++) if (clv >= CLV_BUCKET_EDGES[i]!) index = i;
    return index;
  };

  return {
    add(customer) {
      const c = clvIndex(customer.clv);
      clvCounts[c]! += 1;
      clvTotals[c]! += customer.clv;
      const f = binIndex(FREQUENCY_BINS, Math.round(customer.frequency), true);
      const w = binIndex(WEEKS_SINCE_LAST_BINS, Math.max(0, customer.TWeeks - customer.recencyWeeks), false);
      const cell = f * WEEKS_SINCE_LAST_BINS.length + w;
      gridCounts[cell]! += 1;
      gridPAliveSums[cell]! += customer.pAlive;
    },
    merge(other) {
      other.clvHistogram.forEach((bucket, i) => {
        clvCounts[i]! += bucket.customers;
        clvTotals[i]! += bucket.totalClv;
      });
      for (const cell of other.pAliveGrid) {
        const f = FREQUENCY_BINS.findIndex((b) => b.label === cell.frequency);
        const w = WEEKS_SINCE_LAST_BINS.findIndex((b) => b.label === cell.weeksSinceLastPurchase);
        if (f < 0 || w < 0)
          throw new Error(`Unknown P(alive) grid cell ${cell.frequency} × ${cell.weeksSinceLastPurchase}`);
        const index = f * WEEKS_SINCE_LAST_BINS.length + w;
        gridCounts[index]! += cell.customers;
        gridPAliveSums[index]! += cell.meanPAlive * cell.customers;
      }
    },
    result() {
      const clvHistogram = CLV_BUCKET_EDGES.map((from, i) => ({
        from,
        to: CLV_BUCKET_EDGES[i + 1] ?? null,
        customers: clvCounts[i]!,
        totalClv: clvTotals[i]!,
      }));
      const pAliveGrid: PAliveCell[] = [];
      FREQUENCY_BINS.forEach((fBin, f) => {
        WEEKS_SINCE_LAST_BINS.forEach((wBin, w) => {
          const index = f * WEEKS_SINCE_LAST_BINS.length + w;
          const customers = gridCounts[index]!;
          if (customers > 0) {
            pAliveGrid.push({
              frequency: fBin.label,
              weeksSinceLastPurchase: wBin.label,
              customers,
              meanPAlive: gridPAliveSums[index]! / customers,
            });
          }
        });
      });
      return { clvHistogram, pAliveGrid };
    },
  };
}
