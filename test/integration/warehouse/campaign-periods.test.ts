/**
 * Campaign periods (`period: "campaign"`) in the warehouse SQL: on random calendars and random gift
 * logs (refunds, several gifts in one campaign, gifts before the first campaign and after the as-of
 * date), the discrete family's summaries through DuckDB equal the engine's `summarizeDiscrete` with
 * that calendar. Rows before the first campaign belong to no period and are left out by both.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { periodIndexOf, recalcStatements } from '#adapters/warehouse/queries.ts';
import { summarizeDiscrete } from '#domain/discrete-summary.ts';
import { formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';

const START_DAY = parseEpochDay('2020-01-01');
const SPAN_DAYS = 1500;

interface Gift {
  customer: number;
  day: number;
  cents: number;
}

const giftArb: fc.Arbitrary<Gift> = fc.record({
  customer: fc.integer({ min: 0, max: 9 }),
  day: fc.integer({ min: 0, max: SPAN_DAYS }),
  cents: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 50_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: -20_000, max: -1 }) },
    { weight: 1, arbitrary: fc.constant(0) },
  ),
});

/** 2–8 distinct campaign starts inside the span, sorted, and an as-of day on or after the first. */
const calendarArb = fc
  .uniqueArray(fc.integer({ min: 0, max: SPAN_DAYS }), { minLength: 2, maxLength: 8 })
  .chain((days) => {
    const starts = [...days].sort((a, b) => a - b);
    return fc.record({
      starts: fc.constant(starts.map((d) => formatEpochDay(START_DAY + d))),
      asOf: fc.integer({ min: starts[0]!, max: SPAN_DAYS }).map((d) => formatEpochDay(START_DAY + d)),
    });
  });

describe('campaign periods in the warehouse SQL follow summarizeDiscrete (DuckDB)', () => {
  let db: Awaited<ReturnType<typeof openDuckDb>>;
  beforeAll(async () => {
    db = await openDuckDb({ threads: 1 });
    await db.connection.run(`CREATE TABLE transactions (
      customer_id VARCHAR, order_id VARCHAR, order_ts TIMESTAMPTZ, amount DECIMAL(18,2), currency VARCHAR,
      channel VARCHAR, quantity BIGINT, ingest_id VARCHAR, ingested_at TIMESTAMPTZ, line_number BIGINT,
      source VARCHAR, ingest_date DATE)`);
  });
  afterAll(() => db.close());

  async function load(gifts: readonly Gift[]): Promise<void> {
    await db.connection.run('DELETE FROM transactions');
    if (gifts.length === 0) return;
    const values = gifts.map((g, i) => {
      const ts = new Date((START_DAY + g.day) * 86_400_000 + 43_200_000).toISOString();
      const amount = (g.cents / 100).toFixed(2);
      return (
        `(${sqlLiteral(`donor-${g.customer}`)}, 'g${i}', CAST('${ts}' AS TIMESTAMPTZ), ` +
        `CAST('${amount}' AS DECIMAL(18,2)), 'USD', NULL, NULL, 'ingest-1', ` +
        `CAST('2025-01-01T00:00:00Z' AS TIMESTAMPTZ), ${i + 1}, 'donors', DATE '2025-01-01')`
      );
    });
    await db.connection.run(`INSERT INTO transactions VALUES ${values.join(',')}`);
  }

  it('gives the engine summary for random calendars and gift logs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(giftArb, { maxLength: 60 }), calendarArb, async (gifts, { starts, asOf }) => {
        await load(gifts);
        const statement = recalcStatements({
          asOf,
          currency: 'USD',
          family: 'noncontractual-discrete',
          period: 'campaign',
          campaigns: starts,
        }).customerSummaries;
        const raw = (await db.connection.runAndReadAll(statement.sql)).getRowObjectsJS();
        const rows = raw
          .map((r) => statement.decode(r as Record<string, unknown>))
          .map((r) => ({ customerId: r.customerId, frequency: r.frequency, recency: r.recency, T: r.T }))
          .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
        const engine = summarizeDiscrete(
          gifts.map((g) => ({
            customerId: `donor-${g.customer}`,
            date: formatEpochDay(START_DAY + g.day),
            amount: g.cents / 100,
          })),
          { period: { kind: 'campaigns', starts }, observationEnd: asOf },
        );
        const expected = engine.customerIds
          .map((customerId, i) => ({
            customerId,
            frequency: engine.frequency[i]!,
            recency: engine.recency[i]!,
            T: engine.periods[i]!,
          }))
          .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
        expect(rows).toEqual(expected);
      }),
      { numRuns: 60, seed: 20_241_115 },
    );
  });

  it('numbers a day by the campaign starts on or before it: 0 before the first campaign', () => {
    const starts = ['2024-03-01', '2024-11-15', '2025-03-01'];
    expect(periodIndexOf('2024-02-29', 'campaign', starts)).toBe(0);
    expect(periodIndexOf('2024-03-01', 'campaign', starts)).toBe(1);
    expect(periodIndexOf('2024-11-14', 'campaign', starts)).toBe(1);
    expect(periodIndexOf('2024-11-15', 'campaign', starts)).toBe(2);
    expect(periodIndexOf('2025-12-31', 'campaign', starts)).toBe(3);
  });

  it('leaves gifts before the first campaign out of the summary', async () => {
    await load([
      { customer: 1, day: 10, cents: 5000 }, // before the first campaign (2020-03-01)
      { customer: 1, day: 100, cents: 2500 },
      { customer: 2, day: 20, cents: 1000 }, // only before the first campaign: not summarized
    ]);
    const statement = recalcStatements({
      asOf: '2020-12-31',
      currency: 'USD',
      family: 'noncontractual-discrete',
      period: 'campaign',
      campaigns: ['2020-03-01', '2020-09-01'],
    }).customerSummaries;
    const rows = (await db.connection.runAndReadAll(statement.sql))
      .getRowObjectsJS()
      .map((r) => statement.decode(r as Record<string, unknown>));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      customerId: 'donor-1',
      frequency: 0,
      T: 1,
      historicRevenue: 25,
      firstPurchaseDate: formatEpochDay(START_DAY + 100),
    });
  });
});
