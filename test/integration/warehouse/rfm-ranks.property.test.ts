/**
 * The summaries statement ranks customers without a window over all of them (value groups per
 * customer bucket, leads per key, heads per dimension: queries.ts `rankedSummary`). Its R/F/M scores
 * must still be exactly `rfmScoresOf` over every customer — whatever the number of buckets — on
 * populations with many ties (few distinct days, amounts and purchase counts), negative revenue after
 * refunds, and revenues that share a logarithmic key without being equal.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { customerSummariesStatement } from '#adapters/warehouse/queries.ts';
import type { CustomerSummaryRow } from '#app/ports/warehouse.ts';
import { rfmScoresOf } from '#domain/rfm-scores.ts';
import { formatEpochDay, parseEpochDay, summarizeTransactions } from '#domain/rfm-summary.ts';

const START_DAY = parseEpochDay('2024-01-01');
const AS_OF = formatEpochDay(START_DAY + 9);

interface Purchase {
  customer: number;
  day: number;
  cents: number;
}

// Few values, so ties are the rule; 100000 and 100050 cents (1000.00, 1000.50) share a log key.
const purchaseArb = (customers: number): fc.Arbitrary<Purchase> =>
  fc.record({
    customer: fc.integer({ min: 0, max: customers - 1 }),
    day: fc.integer({ min: 0, max: 9 }),
    cents: fc.constantFrom(0, 500, 1000, 1000, 2500, -700, -4000, 100_000, 100_050),
  });
const populationArb = fc
  .integer({ min: 1, max: 80 })
  .chain((customers) => fc.array(purchaseArb(customers), { minLength: 1, maxLength: 240 }));

const compareNumbers = (a: number, b: number) => a - b;
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('RFM scores without a window over all customers (DuckDB)', () => {
  let db: Awaited<ReturnType<typeof openDuckDb>>;
  beforeAll(async () => {
    db = await openDuckDb({ threads: 2 });
    await db.connection.run(`CREATE TABLE transactions (
      customer_id VARCHAR, order_id VARCHAR, order_ts TIMESTAMPTZ, amount DECIMAL(18,2), currency VARCHAR,
      channel VARCHAR, quantity BIGINT, ingest_id VARCHAR, ingested_at TIMESTAMPTZ, line_number BIGINT,
      source VARCHAR, ingest_date DATE)`);
  });
  afterAll(() => db.close());

  async function summaries(customers?: number, partCustomers?: number): Promise<CustomerSummaryRow[]> {
    const statement = customerSummariesStatement({
      asOf: AS_OF,
      currency: 'USD',
      ...(customers === undefined ? {} : { customers, partCustomers }),
    });
    const raw = (await db.connection.runAndReadAll(statement.sql)).getRowObjectsJS();
    return raw.map((r) => statement.decode(r as Record<string, unknown>));
  }

  it('gives exactly the domain scores, with one bucket or many', async () => {
    await fc.assert(
      fc.asyncProperty(populationArb, fc.integer({ min: 1, max: 7 }), async (purchases, partCustomers) => {
        await db.connection.run('DELETE FROM transactions');
        const values = purchases.map((p, i) => {
          const ts = new Date((START_DAY + p.day) * 86_400_000 + 3_600_000).toISOString();
          const amount = (p.cents / 100).toFixed(2);
          return `(${sqlLiteral(`c-${p.customer}`)}, 'o${i}', CAST('${ts}' AS TIMESTAMPTZ), CAST('${amount}' AS DECIMAL(18,2)), 'USD', NULL, NULL, 'i', CAST('2024-02-01T00:00:00Z' AS TIMESTAMPTZ), ${i + 1}, 'shop', DATE '2024-02-01')`;
        });
        await db.connection.run(`INSERT INTO transactions VALUES ${values.join(',')}`);

        const engine = summarizeTransactions(
          purchases.map((p) => ({
            customerId: `c-${p.customer}`,
            date: formatEpochDay(START_DAY + p.day),
            amount: p.cents / 100,
          })),
          { observationEnd: AS_OF, unit: 'days' },
        );
        const unsplit = await summaries();
        expect(unsplit.map((s) => s.customerId).sort()).toEqual([...engine.customerIds].sort());
        // Revenue in exact cents, the order SQL ranks DECIMAL revenue in.
        const cents = unsplit.map((s) => Math.round(s.historicRevenue * 100));
        const expected = {
          recency: rfmScoresOf(
            unsplit.map((s) => s.lastPurchaseDate),
            compareText,
          ),
          frequency: rfmScoresOf(
            unsplit.map((s) => s.frequency),
            compareNumbers,
          ),
          monetary: rfmScoresOf(cents, compareNumbers),
        };
        const scoresOf = (rows: CustomerSummaryRow[]) =>
          new Map(rows.map((s) => [s.customerId, [s.recencyScore, s.frequencyScore, s.monetaryScore]]));
        const want = new Map(
          unsplit.map((s, i) => [
            s.customerId,
            [expected.recency[i]!, expected.frequency[i]!, expected.monetary[i]!],
          ]),
        );
        expect(scoresOf(unsplit)).toEqual(want);

        // Many buckets (the salt of the value groups): the same scores.
        const split = await summaries(unsplit.length, partCustomers);
        expect(split).toHaveLength(unsplit.length);
        expect(scoresOf(split)).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });
});
