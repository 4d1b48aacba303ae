/**
 * RFM scores of a population: the rule the customer-summaries SQL applies (shared/adapters/warehouse/
 * queries.ts), written once in plain TypeScript so a property test can hold the SQL to it.
 *
 * A customer's rank is 1 + the number of customers with a strictly smaller value (ties share the
 * rank, as SQL `rank()` does), and its score is `1 + floor(5 · (rank − 1) / customers)`: 1 … 5, a
 * larger value never scores lower, equal values score the same.
 */

/** Scores 1 … 5 of `values` (one per customer, any order), by the rule above. */
export function rfmScoresOf<T>(values: readonly T[], compare: (a: T, b: T) => number): number[] {
  const n = values.length;
  const order = values.map((_, i) => i).sort((a, b) => compare(values[a]!, values[b]!));
  const scores = new Array<number>(n);
  let rank = 1;
  for (let position = 0; position < n; position++) {
    const index = order[position]!;
    // A new value starts at its position + 1; a tie keeps the rank of the first of its group.
    if (position > 0 && compare(values[order[position - 1]!]!, values[index]!) !== 0) rank = position + 1;
    scores[index] = 1 + Math.floor((5 * (rank - 1)) / n);
  }
  return scores;
}
