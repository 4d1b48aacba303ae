/**
 * Finds the delimiter of a CSV export without configuration, from how consistently each candidate splits
 * the first rows.
 */
import { CsvReader } from './csv-reader.ts';

export const CANDIDATE_DELIMITERS = [',', ';', '\t', '|'] as const;

const SNIFF_ROWS = 50;
const SNIFF_CHARS = 64 * 1024;

/**
 * Picks the delimiter among `, ; \t |` that splits the first rows most consistently: the header must
 * have at least two fields, and the most rows must have the header's field count (quotes respected,
 * so `"1,5"` in a `;` file does not count). Ties go to the larger field count, then to list order.
 */
export function sniffDelimiter(text: string): string {
  const sample = text.slice(0, SNIFF_CHARS);
  let best: string = ',';
  let bestScore = -1;
  let bestWidth = 0;
  for (const candidate of CANDIDATE_DELIMITERS) {
    const counts: number[] = [];
    const reader = new CsvReader(
      candidate,
      {
        row(fields) {
          if (counts.length < SNIFF_ROWS && !(fields.length === 1 && fields[0]!.trim() === '')) {
            counts.push(fields.length);
          }
        },
        malformed() {},
      },
      SNIFF_CHARS,
    );
    reader.push(sample);
    reader.finish();
    const width = counts[0] ?? 0;
    if (width < 2) continue;
    const consistent = counts.filter((n) => n === width).length / counts.length;
    if (consistent > bestScore || (consistent === bestScore && width > bestWidth)) {
      best = candidate;
      bestScore = consistent;
      bestWidth = width;
    }
  }
  return best;
}
