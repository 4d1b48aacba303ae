/**
 * The result shapes every bench suite shares: its options (smoke mode) and the figures it reports, each
 * with an optional target and baseline to compare against.
 */
export interface BenchOptions {
  /** CI smoke mode: tiny inputs, seconds in total, results not written. */
  smoke: boolean;
}

export interface BenchFigure {
  /** What was measured, e.g. "BG/NBD fit, 1M customers". */
  name: string;
  value: number;
  /** e.g. "ms", "rows/s", "MB". */
  unit: string;
  /** The target; `≤` for times and sizes, `≥` for throughput. */
  target?: { op: '≤' | '≥'; value: number };
  /** What the figure is compared with, e.g. DuckDB's COPY or the Python library lifetimes. */
  baseline?: { label: string; value: number };
  /** What limits the figure when it misses its target, or how it was measured. */
  note?: string;
}

export interface BenchSuiteResult {
  suite: string;
  machine: string;
  date: string;
  smoke: boolean;
  figures: BenchFigure[];
}
