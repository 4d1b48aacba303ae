/**
 * RFM summaries reproduce the published CDNOW summary and follow the summary rules (same-day orders,
 * refunds, weeks, holdout), with properties on generated data.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSummaryFile, readTransactions } from '#adapters/csv-file.ts';
import {
  compressRfm,
  formatEpochDay,
  parseEpochDay,
  summarizeTransactions,
  type TransactionRecord,
  totalWeight,
} from '#domain/rfm-summary.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/cdnow/${name}`, import.meta.url));

describe('summarizeTransactions on the CDNOW sample', () => {
  const summary = summarizeTransactions(readTransactions(fixture('CDNOW_sample.txt'), 'cdnow'), {
    observationEnd: '1997-09-30',
    unit: 'weeks',
  });
  const reference = readSummaryFile(fixture('cdnow_customers_summary.csv'));
  const withSpend = readSummaryFile(fixture('cdnow_customers_summary_with_transactions.csv'));

  it('reproduces every row of the published summary to its 2 decimals', () => {
    expect(summary.customerIds.length).toBe(2357);
    const row = new Map(summary.customerIds.map((id, i) => [Number(id), i]));
    let mismatches = 0;
    reference.ids!.forEach((id, k) => {
      const i = row.get(Number(id))!;
      const ok =
        summary.frequency[i] === reference.x[k] &&
        Math.abs(summary.recency[i]! - reference.tx[k]!) <= 0.005 + 1e-9 &&
        Math.abs(summary.T[i]! - reference.T[k]!) <= 0.005 + 1e-9 &&
        Math.abs(summary.monetaryValue[i]! - withSpend.monetaryValue![k]!) <= 0.005 + 1e-9;
      if (!ok) mismatches++;
    });
    expect(mismatches).toBe(0);
  });

  it('keeps the 8 customers whose only order had zero value, with x = 0', () => {
    const i = summary.customerIds.indexOf('0087');
    expect(summary.frequency[i]).toBe(0);
    expect(summary.T[i]).toBeCloseTo((parseEpochDay('1997-09-30') - parseEpochDay('1997-01-05')) / 7, 12);
    expect(summary.excluded.noPurchaseDay).toBe(0);
  });
});

const tx = (customerId: string, date: string, amount: number): TransactionRecord => ({
  customerId,
  date,
  amount,
});

describe('summary rules', () => {
  it('merges same-day orders, skips the first purchase in frequency and monetary value', () => {
    const s = summarizeTransactions(
      [
        tx('a', '2024-01-01', 10),
        tx('a', '2024-01-01', 5),
        tx('a', '2024-01-08', 20),
        tx('a', '2024-01-08', 4),
        tx('a', '2024-01-15', 6),
      ],
      { observationEnd: '2024-01-31' },
    );
    expect([s.frequency[0], s.recency[0], s.T[0], s.monetaryValue[0]]).toEqual([2, 14, 30, 15]);
  });

  it('nets refunds within their day; a day with net value ≤ 0 is not a repeat purchase', () => {
    const s = summarizeTransactions(
      [
        tx('a', '2024-01-01', 30),
        tx('a', '2024-01-05', 20),
        tx('a', '2024-01-05', -20),
        tx('a', '2024-01-09', 0.1),
        tx('a', '2024-01-09', 0.2),
        tx('a', '2024-01-09', -0.3),
        tx('a', '2024-01-12', 50),
        tx('a', '2024-01-12', -10),
        tx('a', '2024-01-20', -5),
      ],
      { observationEnd: '2024-01-31' },
    );
    expect(s.frequency[0]).toBe(1);
    expect(s.recency[0]).toBe(11);
    expect(s.monetaryValue[0]).toBe(40);
  });

  it('starts a customer at the first day with net value ≥ 0 and leaves out refund-only customers', () => {
    const s = summarizeTransactions(
      [
        tx('late', '2024-01-01', -15),
        tx('late', '2024-01-03', 0),
        tx('late', '2024-01-10', 25),
        tx('refunds', '2024-01-02', -9),
      ],
      { observationEnd: '2024-01-31' },
    );
    expect(s.customerIds).toEqual(['late']);
    expect([s.frequency[0], s.recency[0], s.T[0], s.monetaryValue[0]]).toEqual([1, 7, 28, 25]);
    expect(s.excluded.noPurchaseDay).toBe(1);
  });

  it('measures in weeks as days / 7 with an inclusive end date, and ignores rows after it', () => {
    const s = summarizeTransactions(
      [tx('a', '2024-01-01', 1), tx('a', '2024-01-15', 1), tx('a', '2024-02-01', 1)],
      {
        observationEnd: '2024-01-29',
        unit: 'weeks',
      },
    );
    expect([s.frequency[0], s.recency[0], s.T[0]]).toEqual([1, 2, 4]);
    expect(s.rowsAfterObservationEnd).toBe(1);
  });

  it('splits calibration and holdout', () => {
    const s = summarizeTransactions(
      [
        tx('a', '2024-01-01', 10),
        tx('a', '2024-01-10', 20),
        tx('a', '2024-02-05', 30),
        tx('a', '2024-02-20', 50),
        tx('b', '2024-02-02', 5),
      ],
      { observationEnd: '2024-02-29', calibrationEnd: '2024-01-31' },
    );
    expect(s.customerIds).toEqual(['a']);
    expect([s.frequency[0], s.recency[0], s.T[0], s.monetaryValue[0]]).toEqual([1, 9, 30, 20]);
    expect(s.holdout!.frequency[0]).toBe(2);
    expect(s.holdout!.monetaryValue[0]).toBe(40);
    expect(s.holdout!.duration).toBe(29);
    expect(s.excluded.noPurchaseDay).toBe(1);
  });

  it('accepts epoch days and rejects malformed dates with the transaction named', () => {
    const s = summarizeTransactions([{ customerId: 'a', date: parseEpochDay('2024-01-01'), amount: 1 }], {
      observationEnd: '2024-01-02',
    });
    expect(s.T[0]).toBe(1);
    expect(() => summarizeTransactions([tx('a', '2024-02-30', 1)], { observationEnd: '2024-03-01' })).toThrow(
      /transaction 1 \(customer a\).*2024-02-30/,
    );
    expect(() =>
      summarizeTransactions([], { observationEnd: '2024-01-01', calibrationEnd: '2024-02-01' }),
    ).toThrow(/after/);
    expect(formatEpochDay(parseEpochDay('1997-09-30'))).toBe('1997-09-30');
  });
});

const transactionLog = fc.array(
  fc.record({
    customerId: fc.constantFrom('a', 'b', 'c', 'd'),
    date: fc.integer({ min: 19_000, max: 19_100 }),
    amount: fc.oneof(
      fc.integer({ min: -5_000, max: 20_000 }).map((c) => c / 100),
      fc.constant(0),
    ),
  }),
  { maxLength: 80 },
);

describe('summary properties', () => {
  it('satisfies 0 ≤ recency ≤ T, x ≥ 0 and does not depend on row order', () => {
    fc.assert(
      fc.property(transactionLog, fc.integer({ min: 0, max: 1000 }), (log, seed) => {
        const options = { observationEnd: 19_100 };
        const s = summarizeTransactions(log, options);
        const shuffled = [...log].sort((p, q) => ((p.date * 31 + seed) % 7) - ((q.date * 31 + seed) % 7));
        const again = summarizeTransactions(shuffled, options);
        const byId = (sum: typeof s) =>
          Object.fromEntries(
            sum.customerIds.map((id, i) => [
              id,
              [sum.frequency[i], sum.recency[i], sum.T[i], sum.monetaryValue[i]],
            ]),
          );
        expect(byId(again)).toEqual(byId(s));
        for (let i = 0; i < s.customerIds.length; i++) {
          expect(s.frequency[i]).toBeGreaterThanOrEqual(0);
          expect(s.recency[i]).toBeGreaterThanOrEqual(0);
          expect(s.recency[i]).toBeLessThanOrEqual(s.T[i]!);
          if (s.frequency[i] === 0) expect(s.recency[i]).toBe(0);
          else expect(s.monetaryValue[i]).toBeGreaterThan(0);
        }
        const customers = new Set(log.map((t) => t.customerId)).size;
        expect(s.customerIds.length + s.excluded.noPurchaseDay).toBe(customers);
      }),
    );
  });

  it('compression keeps every customer as weight', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { maxLength: 50 }),
        (rows) => {
          const c = compressRfm(
            rows.map(([x]) => x),
            rows.map(([x, t]) => (x === 0 ? 0 : t)),
            rows.map(() => 10),
          );
          expect(totalWeight(c)).toBe(rows.length);
          expect(new Set(Array.from({ length: c.length }, (_, i) => `${c.x[i]}|${c.tx[i]}`)).size).toBe(
            c.length,
          );
        },
      ),
    );
  });
});
