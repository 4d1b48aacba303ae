/**
 * Grouping rows by a small-cardinality column (e.g. the repeat-purchase count x) with a counting sort,
 * so likelihoods evaluate per-group terms (lnΓ, ψ) once per distinct value instead of once per row.
 */

export interface ValueGroups {
  /** The distinct values, in first-seen order; group g holds the rows with `values[g]`. */
  values: number[];
  /** Group of each row. */
  rowGroup: Int32Array;
  /** Rows of group g occupy positions start[g] … start[g + 1] − 1 in group order. */
  start: Int32Array;
}

export function groupRowsByValue(column: ArrayLike<number>, length: number): ValueGroups {
  const positions = new Map<number, number>();
  const values: number[] = [];
  const counts: number[] = [];
  const rowGroup = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const value = column[i]!;
    let g = positions.get(value);
    if (g === undefined) {
      g = values.length;
      positions.set(value, g);
      values.push(value);
      counts.push(0);
    }
    rowGroup[i] = g;
    counts[g] = counts[g]! + 1;
  }
  const start = new Int32Array(values.length + 1);
  for (let g = 0; g < values.length; g++) start[g + 1] = start[g]! + counts[g]!;
  return { values, rowGroup, start };
}
