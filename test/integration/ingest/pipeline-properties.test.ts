/**
 * The ingest's two stages on generated exports match a plain model of the cross-row rules and account
 * for every row, even when the duplicate filter flags wrongly.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { finishWithDuckDb } from '#adapters/ingest/finish-with-duckdb.ts';
import { stageExport } from '#adapters/ingest/stage-export.ts';
import { duplicateCandidatesPath, rowHashesPath } from '#adapters/ingest/staging.ts';

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
        // The duplicate filter as shipped; one 512-bit block, so most candidates are false ones the
        // exact check must clear; or a staged file without candidates file (every row a candidate).
        fc.constantFrom('default-filter', 'tiny-filter', 'no-candidates-file'),
        async (generated, gzipLike, candidates) => {
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
              ...(candidates === 'tiny-filter' ? { duplicateFilterLog2Bits: 9 } : {}),
            });
            if (candidates === 'no-candidates-file') rmSync(duplicateCandidatesPath(staged.acceptedPath));
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
      { numRuns: 60 },
    );
  });

  it('keeps rows the duplicate filter flagged wrongly, and collapses the real copies', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'cvm-ingest-candidates-'));
    try {
      const csv =
        'customer_id,order_id,order_date,amount,currency\n' +
        'A,O1,2025-01-01,1.00,EUR\nB,O2,2025-01-02,2.00,EUR\nA,O1,2025-01-01,1.00,EUR\nC,O3,2025-01-03,3.00,EUR\n';
      const staged = await stageExport({
        stored: (async function* () {
          yield Buffer.from(csv);
        })(),
        fileName: 'orders.csv',
        config: {},
        defaultCurrency: 'EUR',
        workDir,
      });
      const candidatesPath = duplicateCandidatesPath(staged.acceptedPath);
      expect(staged.counts.duplicateCandidates).toBe(1);
      expect(readFileSync(candidatesPath, 'utf8').trim().split('\n')).toHaveLength(1);
      // A false candidate: the hash of line 3 (B), which has no copy.
      const [lineOfB, rowHashOfB] = readFileSync(rowHashesPath(staged.acceptedPath), 'utf8')
        .split('\n')[1]!
        .split('\t');
      expect(lineOfB).toBe('3');
      appendFileSync(candidatesPath, `${rowHashOfB}\n`);
      const finished = await finishWithDuckDb({
        acceptedPath: staged.acceptedPath,
        stagedRows: staged.counts.accepted,
        emptyAmountRows: staged.counts.emptyAmountRows,
        dedupeExactRows: true,
        ingestId: 'candidates',
        ingestedAt: new Date('2025-01-01T00:00:00Z'),
        workDir,
        memoryLimit: '64MB',
      });
      expect({ accepted: finished.accepted, duplicates: finished.duplicates }).toEqual({
        accepted: 3,
        duplicates: 1,
      });
      expect(finished.amountTotals).toEqual({ EUR: '6.00' });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
