/**
 * The period-family summary statements: the same text on DuckDB and through the Athena adapter
 * (UNLOAD stood in by DuckDB, as in the warehouse same-SQL test), and the engine's summary rules
 * (`summarizeDiscrete`) on data with the awkward cases: refunds, several orders in a period, a
 * period netting to zero, other currencies, rows after the as-of date, a lapsed and rejoined member.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AthenaWarehouse } from '#adapters/warehouse/athena-warehouse.ts';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { recalcStatements } from '#adapters/warehouse/queries.ts';
import { summarizeDiscrete } from '#domain/discrete-summary.ts';
import type { TransactionRecord } from '#domain/rfm-summary.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { type AthenaOverDuckDb, athenaOverDuckDb } from '../warehouse/athena-over-duckdb.ts';
import { type CleanRow, putCleanFile } from '../warehouse/clean-files.ts';

const AS_OF = '2024-12-31';

/** [customer, day, amount, currency?] */
const ORDERS: [string, string, string, string?][] = [
  // Gifts in 2019, twice in 2020 (one period), 2022: x = 2, t_x = 3, n = 5.
  ['c1', '2019-03-01', '20.00'],
  ['c1', '2020-02-01', '10.00'],
  ['c1', '2020-11-01', '15.00'],
  ['c1', '2022-05-05', '30.00'],
  // A refund-only period before the first gift does not start the relationship.
  ['c2', '2018-07-01', '-10.00'],
  ['c2', '2019-01-10', '25.00'],
  ['c2', '2024-12-31', '25.00'],
  // A period whose purchase was refunded in full is no transaction.
  ['c3', '2020-06-01', '40.00'],
  ['c3', '2021-06-01', '40.00'],
  ['c3', '2021-06-20', '-40.00'],
  ['c3', '2023-01-15', '12.50'],
  // First gift in the as-of period: no opportunity yet.
  ['c4', '2024-08-08', '5.00'],
  // Other currencies and rows after the as-of date are left out.
  ['c5', '2020-01-01', '9.00'],
  ['c5', '2021-01-01', '9.00', 'EUR'],
  ['c5', '2025-01-02', '9.00'],
  // Membership fees: paid 2019–2024 (active), and paid 2019–2020, lapsed 2021, rejoined 2022.
  ['m1', '2019-04-01', '60.00'],
  ['m1', '2020-04-01', '60.00'],
  ['m1', '2021-04-01', '60.00'],
  ['m1', '2022-04-01', '60.00'],
  ['m1', '2023-04-01', '60.00'],
  ['m1', '2024-04-01', '60.00'],
  ['m2', '2019-09-01', '40.00'],
  ['m2', '2020-09-01', '40.00'],
  ['m2', '2022-09-01', '40.00'],
];

const cleanRows: CleanRow[] = ORDERS.map(([customerId, day, amount, currency], i) => ({
  customerId,
  orderId: `o${i}`,
  orderTs: `${day}T12:00:00Z`,
  amount,
  currency: currency ?? 'USD',
  ingestId: 'ingest-a',
  ingestedAt: '2025-01-05T00:00:00Z',
  lineNumber: i + 2,
}));

const transactions: TransactionRecord[] = ORDERS.filter(([, , , currency]) => !currency).map(
  ([customerId, date, amount]) => ({ customerId, date, amount: Number(amount) }),
);

const monthStarts = Array.from({ length: 12 * 8 }, (_, i) => {
  const year = 2018 + Math.floor(i / 12);
  return `${year}-${String((i % 12) + 1).padStart(2, '0')}-01`;
});

describe('period-family summary statements', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let duck: DuckDbWarehouse;
  let athenaWarehouse: AthenaWarehouse;
  let submittedToAthena: string[] = [];
  let athenaStandIn: AthenaOverDuckDb;

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-family-sql-'));
    await putCleanFile(stack.clients.s3, stack.config.bucket, {
      source: 'families',
      ingestDate: '2025-01-05',
      rows: cleanRows,
    });
    duck = await createDuckDbWarehouse({ s3: stack.clients.s3, bucket: stack.config.bucket, cacheDirectory });
    athenaStandIn = athenaOverDuckDb(stack, duck);
    submittedToAthena = athenaStandIn.submitted;
    athenaWarehouse = athenaStandIn.warehouse;
  });
  afterAll(async () => {
    athenaStandIn?.restore();
    await duck?.close();
    await stack?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  const params = (family: 'noncontractual-discrete' | 'contractual', period: 'year' | 'month') => ({
    asOf: AS_OF,
    timeUnit: 'weeks' as const,
    currency: 'USD',
    sources: ['families'],
    family,
    period,
  });

  it('give the same rows on DuckDB and through Athena, from the same text, for every family statement', async () => {
    for (const family of ['noncontractual-discrete', 'contractual'] as const) {
      for (const period of ['year', 'month'] as const) {
        const statements = recalcStatements(params(family, period));
        expect(Object.keys(statements).sort()).toEqual([
          'customerSummaries',
          'dataProfile',
          'histogram',
          'spend',
        ]);
        for (const [key, statement] of Object.entries(statements)) {
          submittedToAthena.length = 0;
          const fromDuckDb = await duck.query(statement as never);
          const fromAthena = await athenaWarehouse.query(statement as never);
          expect(submittedToAthena, `${family}/${period}/${key}`).toEqual([statement.sql]);
          expect(fromAthena, `${family}/${period}/${key}`).toEqual(fromDuckDb);
        }
      }
    }
  });

  it('summarize discrete periods exactly as summarizeDiscrete does (years, and months as campaigns)', async () => {
    for (const [period, definition] of [
      ['year', { kind: 'year' }],
      ['month', { kind: 'campaigns', starts: monthStarts }],
    ] as const) {
      const rows = await duck.query(
        recalcStatements(params('noncontractual-discrete', period)).customerSummaries,
      );
      const engine = summarizeDiscrete(transactions, { period: definition, observationEnd: AS_OF });
      const expected = engine.customerIds
        .map((customerId, i) => ({
          customerId,
          frequency: engine.frequency[i]!,
          recency: engine.recency[i]!,
          T: engine.periods[i]!,
        }))
        .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
      expect(
        rows.map((r) => ({ customerId: r.customerId, frequency: r.frequency, recency: r.recency, T: r.T })),
        period,
      ).toEqual(expected);
    }
    const yearly = await duck.query(
      recalcStatements(params('noncontractual-discrete', 'year')).customerSummaries,
    );
    expect(yearly.find((r) => r.customerId === 'c1')).toMatchObject({
      frequency: 2,
      recency: 3,
      T: 5,
      monetaryValue: 27.5,
      historicRevenue: 75,
      historicOrders: 4,
      firstPurchaseDate: '2019-03-01',
      lastPurchaseDate: '2022-05-05',
    });
  });

  it('count renewals without a gap since joining for the contractual family (a missed period is the cancellation)', async () => {
    const rows = await duck.query(recalcStatements(params('contractual', 'year')).customerSummaries);
    const of = (id: string) => rows.find((r) => r.customerId === id);
    expect(of('m1')).toMatchObject({ frequency: 5, recency: 5, T: 5, monetaryValue: 60 });
    // Lapsed in 2021: one renewal (2020) of 5 opportunities; the 2022 rejoin does not undo it.
    expect(of('m2')).toMatchObject({ frequency: 1, recency: 1, T: 5, monetaryValue: 40 });
    expect(of('c4')).toMatchObject({ frequency: 0, recency: 0, T: 0 });
    const monthly = await duck.query(recalcStatements(params('contractual', 'month')).customerSummaries);
    // Monthly periods: m1 paid once a year, so it lapsed the month after joining.
    expect(monthly.find((r) => r.customerId === 'm1')).toMatchObject({ frequency: 0, recency: 0, T: 68 });
  });
});
