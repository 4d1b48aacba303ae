import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { athenaUnloadSql } from '#adapters/warehouse/athena-warehouse.ts';
import { customerSummariesStatement, histogramStatement, unloadSelect } from '#adapters/warehouse/queries.ts';
import { DEFAULT_PART_CUSTOMERS, MAX_SUMMARY_PARTS, summaryPartCount } from '#domain/recalc/summary-parts.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';
import { rfmScoresOf } from '#domain/rfm-scores.ts';

const PARAMS = { asOf: '1998-06-30', currency: 'USD', sources: ['cdnow'] };

describe('summary part count', () => {
  it('is ceil(customers / partCustomers), at least 1, at most the UNLOAD partition limit', () => {
    expect(summaryPartCount(0, 1000)).toBe(1);
    expect(summaryPartCount(1000, 1000)).toBe(1);
    expect(summaryPartCount(1001, 1000)).toBe(2);
    expect(summaryPartCount(10_000_000, 200_000)).toBe(50);
    expect(summaryPartCount(10_000_000, 50_000)).toBe(MAX_SUMMARY_PARTS);
    expect(MAX_SUMMARY_PARTS).toBe(100);
    expect(() => summaryPartCount(-1, 10)).toThrow(/customers/);
    expect(() => summaryPartCount(10, 0)).toThrow(/partCustomers/);
  });

  it('keeps every part at most partCustomers below the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (n, per) => {
          const parts = summaryPartCount(n, per);
          expect(parts).toBeGreaterThanOrEqual(1);
          expect(parts).toBeLessThanOrEqual(MAX_SUMMARY_PARTS);
          if (parts < MAX_SUMMARY_PARTS) expect(n / parts).toBeLessThanOrEqual(per);
        },
      ),
    );
  });

  it('takes its default from the run config', () => {
    expect(parseRecalcConfig({}).partCustomers).toBe(DEFAULT_PART_CUSTOMERS);
    expect(parseRecalcConfig({ partCustomers: 5000 }).partCustomers).toBe(5000);
    expect(() => parseRecalcConfig({ partCustomers: 0 })).toThrow(/partCustomers/);
  });
});

describe('partitioned unload text', () => {
  it('adds the bucket as the last column and partitions UNLOAD by it, only for a counted run', () => {
    const unsplit = customerSummariesStatement(PARAMS);
    expect(unsplit.parts).toBeUndefined();
    expect(athenaUnloadSql(unsplit, 's3://b/runs/r/customer-summaries/')).toBe(
      `UNLOAD (${unsplit.sql}) TO 's3://b/runs/r/customer-summaries/' WITH (format = 'PARQUET', compression = 'SNAPPY')`,
    );
    const split = customerSummariesStatement({ ...PARAMS, customers: 450_000, partCustomers: 100_000 });
    expect(split.parts).toBe(5);
    const { sql, partitionedBy } = unloadSelect(split);
    expect(partitionedBy).toBe('part');
    expect(sql).toContain(split.sql);
    expect(sql).toMatch(
      /mod\(from_base\(substr\(to_hex\(sha256\(to_utf8\(unloaded\.customer_id\)\)\), 1, 15\), 16\), 5\) AS BIGINT\) AS part\nFROM \(/,
    );
    expect(athenaUnloadSql(split, 's3://b/runs/r/customer-summaries/')).toMatch(
      /WITH \(format = 'PARQUET', compression = 'SNAPPY', partitioned_by = ARRAY\['part'\]\)$/,
    );
    // Small results are never split.
    expect(histogramStatement({ ...PARAMS, customers: 450_000 }).parts).toBeUndefined();
  });

  it('has no window over all customers: every OVER clause is partitioned', () => {
    const { sql } = customerSummariesStatement({ ...PARAMS, customers: 450_000 });
    const overs = sql.match(/OVER \([^)]*\)?/g) ?? [];
    expect(overs.length).toBeGreaterThan(10);
    for (const over of overs) expect(over).toMatch(/^OVER \(PARTITION BY /);
    // The clean data is read once: one reference to the transactions relation, and every CTE is read
    // by exactly one FROM/JOIN (Trino evaluates a CTE once per reference).
    expect(sql.match(/FROM transactions\b/g)).toHaveLength(1);
    const ctes = [...sql.matchAll(/^(?:WITH\n)?([a-z_]+) AS \(/gm)].map((m) => m[1]!);
    expect(ctes).toContain('used');
    expect(ctes).toContain('rank_input');
    for (const cte of ctes) {
      expect(sql.match(new RegExp(`\\b(?:FROM|JOIN)\\s+${cte}\\b`, 'g')), cte).toHaveLength(1);
    }
  });
});

describe('rfmScoresOf', () => {
  it('ranks ties together and scores 1 + floor(5 (rank − 1) / n)', () => {
    // ranks 1, 2, 2, 4, 5 of n = 5 → 1, 2, 2, 4, 5
    expect(rfmScoresOf([10, 20, 20, 30, 40], (a, b) => a - b)).toEqual([1, 2, 2, 4, 5]);
    expect(rfmScoresOf([3, 3, 3], (a, b) => a - b)).toEqual([1, 1, 1]);
    // n = 2: ranks 2 and 1 → 1 + floor(5 · 1 / 2) = 3 and 1.
    expect(rfmScoresOf(['b', 'a'], (a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual([3, 1]);
    expect(rfmScoresOf([], (a: number, b: number) => a - b)).toEqual([]);
  });
});
