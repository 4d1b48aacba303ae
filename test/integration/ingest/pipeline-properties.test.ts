import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '../../../shared/adapters/duckdb.ts';
import { finishWithDuckDb } from '../../../shared/adapters/ingest/finish-with-duckdb.ts';
import { stageExport } from '../../../shared/adapters/ingest/stage-export.ts';

/** One generated export line: valid (possibly with an empty amount) or with an unreadable date. */
const lineArbitrary: fc.Arbitrary<Line> = fc.record({
  customer: fc.constantFrom('A', 'B', 'C'),
  order: fc.constantFrom('O1', 'O2', 'O3', 'O4', 'O5'),
  date: fc.constantFrom('2025-01-01', '2025-01-02T10:00:00Z', '2025-03-30T01:30:00+02:00'),
  amount: fc.constantFrom('', '1.00', '2.50', '-3.25', '10.00'),
  badDate: fc.boolean(),
});
interface Line {
  customer: string;
  order: string;
  date: string;
  amount: string;
  badDate: boolean;
}

const text = (l: Line) => `${l.customer},${l.order},${l.badDate ? 'someday' : l.date},${l.amount},EUR`;

/**
 * The cross-row rules as a plain model: drop lines with a bad date, collapse exact duplicate lines into
 * the first, then reject empty-amount lines of orders that have no amount on any line.
 */
function model(lines: Line[]) {
  const seen = new Set<string>();
  const kept: Line[] = [];
  let duplicates = 0;
  let rejected = 0;
  for (const line of lines) {
    if (line.badDate) {
      rejected++;
      continue;
    }
    if (seen.has(text(line))) {
      duplicates++;
      continue;
    }
    seen.add(text(line));
    kept.push(line);
  }
  const ordersWithAmount = new Set(kept.filter((l) => l.amount !== '').map((l) => l.order));
  let accepted = 0;
  let cents = 0;
  for (const line of kept) {
    if (line.amount === '' && !ordersWithAmount.has(line.order)) {
      rejected++;
      continue;
    }
    accepted++;
    cents += line.amount === '' ? 0 : Math.round(Number(line.amount) * 100);
  }
  return { accepted, rejected, duplicates, cents };
}

describe('ingest pipeline (stage + DuckDB rules) on generated exports', () => {
  it('matches the row-rules model and always accounts for every row', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArbitrary, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        async (generated, gzipLike) => {
          // At least one readable amount, so the decimal style is never ambiguous.
          const lines: Line[] = [{ ...generated[0]!, amount: '2.50', badDate: false }, ...generated.slice(1)];
          const csv = `customer_id,order_id,order_date,amount,currency\n${lines.map(text).join('\n')}\n`;
          const workDir = mkdtempSync(join(tmpdir(), 'cvm-ingest-property-'));
          try {
            const bytes = Buffer.from(csv);
            // Feed the file in uneven chunks, as a network stream would deliver it.
            const chunkSize = gzipLike ? 7 : 64 * 1024;
            const chunks = async function* () {
              for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
            };
            const staged = await stageExport({
              stored: chunks(),
              fileName: 'orders.csv',
              config: {},
              defaultCurrency: 'EUR',
              workDir,
            });
            const finished = await finishWithDuckDb({
              acceptedPath: staged.acceptedPath,
              stagedRows: staged.counts.accepted,
              emptyAmountRows: staged.counts.emptyAmountRows,
              dedupeExactRows: true,
              ingestId: 'property',
              ingestedAt: new Date('2025-01-01T00:00:00Z'),
              workDir,
              memoryLimit: '64MB',
            });
            const expected = model(lines);
            const rejected = staged.counts.rejected + finished.lateRejected;
            expect(staged.rowsRead).toBe(lines.length);
            expect(staged.rowsRead).toBe(finished.accepted + rejected + finished.duplicates);
            expect({ accepted: finished.accepted, rejected, duplicates: finished.duplicates }).toEqual({
              accepted: expected.accepted,
              rejected: expected.rejected,
              duplicates: expected.duplicates,
            });
            const total = finished.amountTotals.EUR ?? '0.00';
            expect(Math.round(Number(total) * 100)).toBe(expected.cents);

            const rejectLines = [staged.rejectedPath, finished.lateRejectsPath]
              .filter((p): p is string => p !== null)
              .flatMap((p) =>
                readFileSync(p, 'utf8')
                  .split('\n')
                  .filter((l) => l !== ''),
              );
            expect(rejectLines).toHaveLength(rejected);
            if (finished.parquetPath) {
              const db = await openDuckDb({ threads: 1, memoryLimit: '64MB' });
              try {
                const reader = await db.connection.runAndReadAll(
                  `SELECT count(*) FROM read_parquet(${sqlLiteral(finished.parquetPath)})`,
                );
                expect(Number(reader.getRowsJson()[0]?.[0])).toBe(finished.accepted);
              } finally {
                db.close();
              }
            } else {
              expect(finished.accepted).toBe(0);
            }
          } finally {
            rmSync(workDir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
