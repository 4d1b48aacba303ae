/**
 * The contractual summary of subscriptions in the warehouse SQL equals the domain's
 * `summarizeSubscriptions` on random subscriptions (several per customer, same-day starts,
 * cancellations before, in and after the as-of period, starts after the as-of date), yearly and
 * monthly, through DuckDB.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { periodIndexOf, recalcStatements } from '#adapters/warehouse/queries.ts';
import { formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';
import { summarizeSubscriptions } from '#domain/subscriptions/subscriptions.ts';

const START_DAY = parseEpochDay('2018-01-01');
const SPAN_DAYS = 2600;

interface Subscription {
  customer: number;
  start: number;
  /** Days after the start; null = active. */
  length: number | null;
  feeCents: number;
}

const subscriptionArb: fc.Arbitrary<Subscription> = fc.record({
  customer: fc.integer({ min: 0, max: 11 }),
  start: fc.integer({ min: 0, max: SPAN_DAYS }),
  length: fc.option(fc.integer({ min: 0, max: 1500 }), { nil: null }),
  feeCents: fc.integer({ min: 0, max: 20_000 }),
});

describe('contractual summaries of subscriptions follow summarizeSubscriptions (DuckDB)', () => {
  let db: Awaited<ReturnType<typeof openDuckDb>>;
  beforeAll(async () => {
    db = await openDuckDb({ threads: 1 });
    await db.connection.run(`CREATE TABLE subscriptions (
      customer_id VARCHAR, subscription_id VARCHAR, plan VARCHAR, started_at TIMESTAMPTZ,
      cancelled_at TIMESTAMPTZ, fee DECIMAL(18,2), currency VARCHAR, ingest_id VARCHAR,
      ingested_at TIMESTAMPTZ, line_number BIGINT, source VARCHAR, ingest_date DATE)`);
  });
  afterAll(() => db.close());

  const day = (d: number) => formatEpochDay(START_DAY + d);

  async function load(subscriptions: readonly Subscription[]): Promise<void> {
    await db.connection.run('DELETE FROM subscriptions');
    if (subscriptions.length === 0) return;
    const values = subscriptions.map((s, i) => {
      const cancelled =
        s.length === null ? 'NULL' : `CAST('${day(s.start + s.length)}T09:00:00Z' AS TIMESTAMPTZ)`;
      return (
        `(${sqlLiteral(`m${s.customer}`)}, 'S${String(i).padStart(3, '0')}', NULL, ` +
        `CAST('${day(s.start)}T09:00:00Z' AS TIMESTAMPTZ), ${cancelled}, ` +
        `CAST('${(s.feeCents / 100).toFixed(2)}' AS DECIMAL(18,2)), 'EUR', 'ingest-1', ` +
        `CAST('2026-01-01T00:00:00Z' AS TIMESTAMPTZ), ${i + 2}, 'club', DATE '2026-01-01')`
      );
    });
    await db.connection.run(`INSERT INTO subscriptions VALUES ${values.join(',')}`);
  }

  it('gives the domain summary for random subscriptions, yearly and monthly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(subscriptionArb, { maxLength: 30 }),
        fc.integer({ min: 200, max: SPAN_DAYS }),
        fc.constantFrom('year' as const, 'month' as const),
        async (subscriptions, asOfOffset, period) => {
          await load(subscriptions);
          const asOf = day(asOfOffset);
          const statement = recalcStatements({
            asOf,
            currency: 'EUR',
            sources: ['club'],
            family: 'contractual',
            period,
            subscriptions: true,
          }).customerSummaries;
          const rows = (await db.connection.runAndReadAll(statement.sql))
            .getRowObjectsJS()
            .map((r) => statement.decode(r as Record<string, unknown>))
            .map((r) => ({
              customerId: r.customerId,
              frequency: r.frequency,
              recency: r.recency,
              T: r.T,
              fee: r.monetaryValue,
            }))
            .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
          const expected = summarizeSubscriptions(
            subscriptions.map((s, i) => ({
              customerId: `m${s.customer}`,
              key: `S${String(i).padStart(3, '0')}`,
              startDay: START_DAY + s.start,
              cancelDay: s.length === null ? null : START_DAY + s.start + s.length,
              fee: s.feeCents / 100,
            })),
            { asOf, periodOf: (epochDay) => periodIndexOf(formatEpochDay(epochDay), period) },
          ).map((d) => ({
            customerId: d.customerId,
            frequency: d.renewals,
            recency: d.renewals,
            T: d.T,
            fee: d.fee,
          }));
          expect(rows).toEqual(expected);
        },
      ),
      { numRuns: 60, seed: 20_261_206 },
    );
  });
});
