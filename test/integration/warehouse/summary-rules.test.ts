/**
 * The warehouse SQL must apply exactly the rules of the engine's `summarizeTransactions`
 * (shared/domain/rfm-summary.ts). Random transaction logs — refunds, zero-net days, rows near UTC
 * midnight, superseded re-exports, other currencies, rows after the as-of date — are run through
 * every statement on DuckDB and compared with the engine (and, for what the engine does not compute,
 * with a direct recount).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import {
  cohortsStatement,
  customerSummariesStatement,
  dataProfileStatement,
  histogramStatement,
  holdoutStatement,
  spendStatement,
  trackingStatement,
  type WarehouseParams,
} from '#adapters/warehouse/queries.ts';
import type { Statement } from '#app/ports/warehouse.ts';
import { formatEpochDay, parseEpochDay, summarizeTransactions } from '#domain/rfm-summary.ts';

const START_DAY = parseEpochDay('1997-01-01');

interface Line {
  day: number;
  second: number;
  cents: number;
  currency: 'USD' | 'EUR';
}
interface OrderVersion {
  source: 'shop' | 'app';
  orderId: string;
  customerId: string;
  lines: Line[];
}
interface Ingest {
  ingestId: string;
  ingestedAtHour: number;
  orders: OrderVersion[];
}
interface Row {
  source: string;
  orderId: string;
  customerId: string;
  day: number;
  second: number;
  cents: number;
  currency: string;
  ingestId: string;
  ingestedAtHour: number;
}

const centsArb = fc.oneof(
  fc.integer({ min: 1, max: 30_000 }),
  fc.integer({ min: -8_000, max: -1 }),
  fc.constantFrom(0, 1999, -1999, 5, -5),
);
const lineArb: fc.Arbitrary<Line> = fc.record({
  day: fc.integer({ min: 0, max: 80 }),
  second: fc.oneof(fc.constantFrom(0, 86_399), fc.integer({ min: 0, max: 86_399 })),
  cents: centsArb,
  currency: fc.oneof(
    { weight: 9, arbitrary: fc.constant('USD' as const) },
    { weight: 1, arbitrary: fc.constant('EUR' as const) },
  ),
});
const orderArb: fc.Arbitrary<OrderVersion> = fc.record({
  source: fc.constantFrom('shop' as const, 'app' as const),
  orderId: fc.integer({ min: 0, max: 14 }).map((n) => `o${n}`),
  customerId: fc.integer({ min: 0, max: 7 }).map((n) => `cust-${n}`),
  lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }),
});
const ingestsArb: fc.Arbitrary<Ingest[]> = fc
  .array(
    fc.record({
      ingestedAtHour: fc.integer({ min: 0, max: 2 }),
      orders: fc.array(orderArb, { minLength: 0, maxLength: 12 }),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((list) => list.map((ingest, i) => ({ ...ingest, ingestId: `ingest-${i}` })));
const paramsArb = fc
  .record({
    asOfOffset: fc.integer({ min: 20, max: 85 }),
    holdoutDays: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
    timeUnit: fc.constantFrom('days' as const, 'weeks' as const),
    sources: fc.option(fc.subarray(['app', 'shop'], { minLength: 1 }), { nil: undefined }),
  })
  .map(({ asOfOffset, holdoutDays, timeUnit, sources }) => ({
    asOf: formatEpochDay(START_DAY + asOfOffset),
    calibrationEnd:
      holdoutDays === undefined ? undefined : formatEpochDay(START_DAY + asOfOffset - holdoutDays),
    timeUnit,
    currency: 'USD',
    sources,
  }));

function rowsOf(ingests: Ingest[]): Row[] {
  return ingests.flatMap((ingest) =>
    ingest.orders.flatMap((order) =>
      order.lines.map((line) => ({
        source: order.source,
        orderId: order.orderId,
        customerId: order.customerId,
        ...line,
        ingestId: ingest.ingestId,
        ingestedAtHour: ingest.ingestedAtHour,
      })),
    ),
  );
}

/** The de-duplication rule, written independently: per (source, order) the latest ingest's rows. */
function winningRows(rows: Row[]): Row[] {
  const winner = new Map<string, Row>();
  for (const row of rows) {
    const key = `${row.source}|${row.orderId}`;
    const best = winner.get(key);
    if (
      !best ||
      row.ingestedAtHour > best.ingestedAtHour ||
      (row.ingestedAtHour === best.ingestedAtHour && row.ingestId > best.ingestId)
    ) {
      winner.set(key, row);
    }
  }
  return rows.filter((row) => winner.get(`${row.source}|${row.orderId}`)?.ingestId === row.ingestId);
}

const isoDay = (row: Row) => formatEpochDay(START_DAY + row.day);

describe('warehouse SQL follows the engine summary rules (DuckDB)', () => {
  let db: Awaited<ReturnType<typeof openDuckDb>>;
  beforeAll(async () => {
    db = await openDuckDb({ threads: 1 });
    await db.connection.run(`CREATE TABLE transactions (
      customer_id VARCHAR, order_id VARCHAR, order_ts TIMESTAMPTZ, amount DECIMAL(18,2), currency VARCHAR,
      channel VARCHAR, quantity BIGINT, ingest_id VARCHAR, ingested_at TIMESTAMPTZ, line_number BIGINT,
      source VARCHAR, ingest_date DATE)`);
  });
  afterAll(() => db.close());

  async function load(rows: Row[]): Promise<void> {
    await db.connection.run('DELETE FROM transactions');
    if (rows.length === 0) return;
    const values = rows.map((r, i) => {
      const ts = new Date((START_DAY + r.day) * 86_400_000 + r.second * 1000).toISOString();
      const ingestedAt = new Date(Date.UTC(2024, 0, 1, r.ingestedAtHour)).toISOString();
      return (
        `(${sqlLiteral(r.customerId)}, ${sqlLiteral(r.orderId)}, CAST('${ts}' AS TIMESTAMPTZ), ` +
        `CAST('${centsText(r.cents)}' AS DECIMAL(18,2)), '${r.currency}', NULL, NULL, '${r.ingestId}', ` +
        `CAST('${ingestedAt}' AS TIMESTAMPTZ), ${i + 1}, '${r.source}', DATE '2024-01-01')`
      );
    });
    await db.connection.run(`INSERT INTO transactions VALUES ${values.join(',')}`);
  }

  async function run<T>(statement: Statement<T>): Promise<T[]> {
    const raw = (await db.connection.runAndReadAll(statement.sql)).getRowObjectsJS();
    return raw.map((r) => statement.decode(r as Record<string, unknown>));
  }

  it('summaries, histograms, holdout, tracking, cohorts and profile match on random logs', async () => {
    await fc.assert(
      fc.asyncProperty(ingestsArb, paramsArb, async (ingests, input) => {
        const params = input as WarehouseParams;
        await load(rowsOf(ingests));
        // Only the listed sources are read (all of them when none are listed).
        const all = rowsOf(ingests).filter((r) => !params.sources || params.sources.includes(r.source));
        const winners = winningRows(all);
        const usd = winners.filter((r) => r.currency === 'USD');
        const used = usd.filter((r) => isoDay(r) <= params.asOf);
        const periodEnd = params.calibrationEnd ?? params.asOf;

        const engine = summarizeTransactions(
          used.map((r) => ({ customerId: r.customerId, date: isoDay(r), amount: r.cents / 100 })),
          { observationEnd: params.asOf, calibrationEnd: params.calibrationEnd, unit: params.timeUnit },
        );
        const engineRows = engine.customerIds.map((id, i) => ({
          customerId: id,
          frequency: engine.frequency[i]!,
          recency: engine.recency[i]!,
          T: engine.T[i]!,
          monetaryValue: engine.monetaryValue[i]!,
          holdoutFrequency: engine.holdout?.frequency[i] ?? 0,
        }));

        // Per-customer summaries: exactly the engine's numbers (bit for bit), plus revenue and orders.
        const summaries = await run(customerSummariesStatement(params));
        const byId = new Map(summaries.map((s) => [s.customerId, s]));
        expect(summaries).toHaveLength(engineRows.length);
        for (const e of engineRows) {
          const s = byId.get(e.customerId);
          expect(s, e.customerId).toBeDefined();
          expect([s!.frequency, s!.recency, s!.T, s!.monetaryValue]).toEqual([
            e.frequency,
            e.recency,
            e.T,
            e.monetaryValue,
          ]);
          const mine = used.filter((r) => r.customerId === e.customerId && isoDay(r) <= periodEnd);
          expect(s!.historicRevenue).toBe(mine.reduce((sum, r) => sum + r.cents, 0) / 100);
          expect(s!.historicOrders).toBe(new Set(mine.map((r) => `${r.source}|${r.orderId}`)).size);
        }
        // RFM scores: 1..5, ties share a score, a better value never gets a lower score.
        for (const a of summaries) {
          for (const score of [a.recencyScore, a.frequencyScore, a.monetaryScore]) {
            expect(score).toBeGreaterThanOrEqual(1);
            expect(score).toBeLessThanOrEqual(5);
          }
          for (const b of summaries) {
            if (a.lastPurchaseDate > b.lastPurchaseDate)
              expect(a.recencyScore).toBeGreaterThanOrEqual(b.recencyScore);
            if (a.lastPurchaseDate === b.lastPurchaseDate) expect(a.recencyScore).toBe(b.recencyScore);
            if (a.frequency > b.frequency) expect(a.frequencyScore).toBeGreaterThanOrEqual(b.frequencyScore);
            if (a.frequency === b.frequency) expect(a.frequencyScore).toBe(b.frequencyScore);
            if (a.historicRevenue > b.historicRevenue)
              expect(a.monetaryScore).toBeGreaterThanOrEqual(b.monetaryScore);
          }
        }

        // Histogram = the engine's rows collapsed by (x, t_x, T).
        const histogram = await run(histogramStatement(params));
        expect(
          countBy(
            histogram,
            (h) => [h.frequency, h.recency, h.T],
            (h) => h.customers,
          ),
        ).toEqual(
          countBy(
            engineRows,
            (e) => [e.frequency, e.recency, e.T],
            () => 1,
          ),
        );
        const spend = await run(spendStatement(params));
        expect(
          countBy(
            spend,
            (s) => [s.frequency, s.monetaryValue],
            (s) => s.customers,
          ),
        ).toEqual(
          countBy(
            engineRows.filter((e) => e.frequency > 0),
            (e) => [e.frequency, e.monetaryValue],
            () => 1,
          ),
        );

        const profile = (await run(dataProfileStatement(params)))[0]!;
        const days = used.map(isoDay).sort();
        expect(profile).toEqual({
          rowsTotal: all.length,
          rowsSuperseded: all.length - winners.length,
          rowsOtherCurrency: winners.length - usd.length,
          rowsAfterAsOf: usd.length - used.length,
          rowsUsed: used.length,
          customersSeen: new Set(used.map((r) => r.customerId)).size,
          customersSummarized: engineRows.length,
          firstDate: days[0] ?? null,
          lastDate: days.at(-1) ?? null,
        });

        if (params.calibrationEnd === undefined) {
          expect(() => holdoutStatement(params)).toThrow(/needs a calibrationEnd/);
          return;
        }
        const calibrationEnd = params.calibrationEnd;
        const holdout = await run(holdoutStatement(params));
        expect(
          countBy(
            holdout,
            (h) => [h.frequency, h.recency, h.T, h.holdoutFrequency],
            (h) => h.customers,
          ),
        ).toEqual(
          countBy(
            engineRows,
            (e) => [e.frequency, e.recency, e.T, e.holdoutFrequency],
            () => 1,
          ),
        );

        // Tracking and cohorts recounted from the purchase days of calibration customers.
        const net = new Map<string, Map<string, number>>();
        for (const r of used) {
          const perDay = net.get(r.customerId) ?? new Map<string, number>();
          perDay.set(isoDay(r), (perDay.get(isoDay(r)) ?? 0) + r.cents);
          net.set(r.customerId, perDay);
        }
        const expectedWeeks = new Map<number, number>();
        const expectedCohorts = new Map<string, number>();
        for (const perDay of net.values()) {
          // First purchase: first day with net ≥ 0; repeat purchases: later days with net > 0.
          const sortedDays = [...perDay].sort((a, b) => (a[0] < b[0] ? -1 : 1));
          const first = sortedDays.find(([, cents]) => cents >= 0)?.[0];
          if (!first || first > calibrationEnd) continue;
          expectedCohorts.set(first, (expectedCohorts.get(first) ?? 0) + 1);
          const repeatDays = sortedDays
            .filter(([day, cents]) => day > first && cents > 0)
            .map(([day]) => day);
          for (const day of repeatDays) {
            const week = Math.ceil((parseEpochDay(day) - parseEpochDay(calibrationEnd)) / 7) + 0;
            expectedWeeks.set(week, (expectedWeeks.get(week) ?? 0) + 1);
          }
        }
        const tracking = await run(trackingStatement(params));
        expect(new Map(tracking.map((t) => [t.week, t.repeatPurchases]))).toEqual(expectedWeeks);
        for (const t of tracking) {
          expect(t.period).toBe(t.week <= 0 ? 'calibration' : 'holdout');
          const start = parseEpochDay(t.weekStart) - parseEpochDay(calibrationEnd);
          expect(Math.ceil(start / 7) + 0).toBe(t.week);
          expect(Math.ceil((start - 1) / 7) + 0).toBe(t.week - 1);
        }
        const cohorts = await run(cohortsStatement(params));
        expect(new Map(cohorts.map((c) => [c.firstPurchaseDate, c.customers]))).toEqual(expectedCohorts);
        for (const c of cohorts) {
          expect(c.daysBeforeCalibrationEnd).toBe(
            parseEpochDay(calibrationEnd) - parseEpochDay(c.firstPurchaseDate),
          );
        }
      }),
      // Each run executes eight statements; 30 runs of up to ~100 rows keep this under a minute on 2 cores.
      { numRuns: 30 },
    );
  }, 300_000);
});

/** Multiset of keys with summed weights, as a sorted list (order-free comparison). */
function countBy<T>(
  items: T[],
  key: (item: T) => number[],
  weight: (item: T) => number,
): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item).join('|');
    counts.set(k, (counts.get(k) ?? 0) + weight(item));
  }
  return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function centsText(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
