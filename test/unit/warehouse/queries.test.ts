/**
 * Warehouse queries: only validated parameters reach the SQL, statements stay in the Trino/DuckDB common
 * subset with explicit casts, and each run's outputs get their own prefix.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  customerSummariesStatement,
  decoder,
  histogramStatement,
  parseWarehouseParams,
  recalcStatements,
  trackingStatement,
} from '#adapters/warehouse/queries.ts';
import { runOutputPrefix } from '#domain/bucket-layout.ts';

const PARAMS = {
  asOf: '1998-06-30',
  calibrationEnd: '1997-09-30',
  timeUnit: 'weeks',
  currency: 'USD',
} as const;

describe('warehouse parameters', () => {
  it('accepts calendar dates and defaults the time unit to days', () => {
    expect(parseWarehouseParams({ asOf: '2024-02-29', currency: 'EUR' })).toEqual({
      asOf: '2024-02-29',
      timeUnit: 'days',
      currency: 'EUR',
    });
  });

  it.each([
    [{ asOf: '2023-02-29', currency: 'USD' }, /asOf: expected a calendar date YYYY-MM-DD/],
    [{ asOf: "1998-06-30' OR 1=1 --", currency: 'USD' }, /asOf: expected a calendar date/],
    [{ asOf: '1998-6-30', currency: 'USD' }, /asOf: expected a calendar date/],
    [{ asOf: '1998-06-30', currency: "USD'" }, /currency: currency must be a three-letter ISO 4217 code/],
    [
      { asOf: '1998-06-30', calibrationEnd: '1998-07-01', currency: 'USD' },
      /calibrationEnd: .*not be after asOf/,
    ],
    [{ asOf: '1998-06-30', currency: 'USD', timeUnit: 'months' }, /timeUnit/],
  ])('rejects %j with a message naming the field', (input, message) => {
    expect(() => parseWarehouseParams(input as never)).toThrow(message);
  });

  it('never lets anything but a validated date or currency into the SQL text', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        for (const input of [
          { asOf: value, currency: 'USD' },
          { asOf: '1998-06-30', currency: value },
        ]) {
          let sql: string | undefined;
          try {
            sql = histogramStatement(input).sql;
          } catch {
            continue; // rejected: nothing rendered
          }
          expect(/^\d{4}-\d{2}-\d{2}$/.test(input.asOf) && /^[A-Z]{3}$/.test(input.currency)).toBe(true);
          expect(sql).toContain(`'${input.currency}'`);
        }
      }),
    );
  });

  it('reads only the listed sources, as static values (Athena injected partition projection)', () => {
    const sql = histogramStatement({ ...PARAMS, sources: ["o'shop", 'app', 'app'] }).sql;
    expect(sql).toContain("FROM transactions\n  WHERE source IN ('app', 'o''shop')\n");
    expect(histogramStatement(PARAMS).sql).not.toContain('WHERE source IN');
    expect(() => histogramStatement({ ...PARAMS, sources: [] })).toThrow(
      'sources: no sources: nothing has been ingested yet',
    );
    expect(() => histogramStatement({ ...PARAMS, sources: ['a/b'] })).toThrow(
      /sources.0: a source name has no slash/,
    );
  });

  it('requires a calibration end for the holdout statements', () => {
    expect(() => trackingStatement({ asOf: '1998-06-30', currency: 'USD' })).toThrow(
      "Statement 'tracking' needs a calibrationEnd",
    );
  });
});

describe('statement texts', () => {
  const all = Object.values(recalcStatements(PARAMS));

  it('stay in the Trino/DuckDB common subset', () => {
    for (const { name, sql } of all) {
      expect(sql, name).not.toMatch(/::|\bQUALIFY\b|\bORDER BY\s+\S+\s*$|;|\bdate_add\b|\bILIKE\b/i);
      expect(sql, name).not.toMatch(/\bLIMIT\b/i);
      // Only the window clauses order rows; the result itself has no ORDER BY.
      expect(
        sql.split(/\n/).some((line) => /^ORDER BY/i.test(line.trim()) && !/OVER/.test(line)),
        name,
      ).toBe(false);
    }
  });

  it('cast every output column explicitly, so both engines write the same Parquet types', () => {
    for (const { name, sql } of all) {
      const select = sql.slice(sql.lastIndexOf('\nSELECT'));
      const columns = select.split(/\n/).filter((line) => /^\s+.*\bAS [a-z_]+,?$/.test(line));
      expect(columns.length, name).toBeGreaterThan(0);
      for (const line of columns) expect(line.trim(), name).toMatch(/^CAST\(/);
    }
  });

  it('are one plain SELECT each, with the CTEs in a subquery (Trino rejects "(WITH" in some places)', () => {
    for (const { name, sql } of all) {
      expect(sql.startsWith('SELECT * FROM (\nWITH\n'), name).toBe(true);
      expect(sql.endsWith('\n) result'), name).toBe(true);
    }
  });

  it('are pure functions of their parameters', () => {
    expect(customerSummariesStatement(PARAMS).sql).toBe(customerSummariesStatement({ ...PARAMS }).sql);
    expect(histogramStatement(PARAMS).sql).not.toBe(histogramStatement({ ...PARAMS, timeUnit: 'days' }).sql);
  });

  it('name calibration-period variants differently, so their outputs never share a prefix', () => {
    const names = all.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('row decoding', () => {
  const decode = histogramStatement(PARAMS).decode;

  it('accepts BIGINT as bigint (DuckDB, hyparquet) or number', () => {
    expect(decode({ frequency: 2n, recency: 1.5, t: 3, customers: 7 })).toEqual({
      frequency: 2,
      recency: 1.5,
      T: 3,
      customers: 7,
    });
  });

  it('names the statement and the column of a bad value', () => {
    expect(() => decode({ frequency: '2', recency: 1, t: 1, customers: 1 })).toThrow(
      `calibration-histogram: column 'frequency' should be an integer, got "2"`,
    );
    expect(() => decode({ frequency: 1, recency: 1, t: 1 })).toThrow(
      "calibration-histogram: column 'customers' should be an integer, got undefined",
    );
    const big = decoder('x', (c) => c.integer('n'));
    expect(() => big({ n: 2n ** 60n })).toThrow(
      "x: column 'n' should be a safe integer, got 1152921504606846976n",
    );
  });
});

describe('run output prefixes', () => {
  it('put each statement of a run under runs/<runId>/<name>/', () => {
    expect(runOutputPrefix('2026-11-23T06-00Z', 'customer-summaries')).toBe(
      'runs/2026-11-23T06-00Z/customer-summaries/',
    );
  });

  it.each(['', '../etc', 'a/b', "a'b", 'a b'])('refuse the run id %j', (runId) => {
    expect(() => runOutputPrefix(runId, 'histogram')).toThrow(/Invalid run id/);
  });
});
