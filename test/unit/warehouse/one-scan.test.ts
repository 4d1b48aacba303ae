/**
 * One scan of the clean table per statement. Trino (Athena) inlines a WITH query at every reference,
 * so a CTE read twice — or a CTE over another one read twice — scans the transactions twice. These
 * tests render every statement a run sends to the warehouse, expand the CTE references as Trino
 * would, and count how often the table is read.
 */
import { describe, expect, it } from 'vitest';
import { parseAthenaUnload } from '#adapters/warehouse/athena-warehouse.ts';
import { TRANSACTIONS_RELATION } from '#adapters/warehouse/queries.ts';
import { createRecalcQueries } from '#adapters/warehouse/recalc-queries.ts';
import type { RecalcQueryParams } from '#app/ports/recalc-queries.ts';
import type { Statement } from '#app/ports/warehouse.ts';
import { SUMMARY_STEP_OPTIONAL_QUERIES, SUMMARY_STEP_QUERIES } from '#app/recalc/pipeline.ts';
import { fitStatementsOf } from '#app/recalc/run-statements.ts';
import type { PreparedRun } from '#app/recalc/types.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';

/** Index of the parenthesis closing the one at `open`. */
function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    if (sql[i] === "'")
      i = sql.indexOf("'", i + 1); // string literals hold no structure
    else if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced parenthesis at ${open}`);
}

interface Cte {
  name: string;
  /** The body's text with nested CTE bodies blanked out. */
  body: string;
}

/** The CTEs of a statement and the text outside them (the query that references them). */
function parseCtes(sql: string): { ctes: Map<string, Cte>; outer: string } {
  const definitions: Array<{ name: string; start: number; end: number }> = [];
  for (const match of sql.matchAll(/(?:WITH|,)\s+([a-z_]+) AS \(/g)) {
    const open = match.index + match[0].length - 1;
    definitions.push({ name: match[1]!, start: open, end: closingParen(sql, open) });
  }
  const blank = (from: number, to: number, text: string) =>
    definitions
      .filter((d) => d.start > from && d.end < to)
      .reduceRight(
        (t, d) => t.slice(0, d.start - from) + ' '.repeat(d.end - d.start) + t.slice(d.end - from),
        text,
      );
  const ctes = new Map<string, Cte>();
  for (const d of definitions) {
    if (ctes.has(d.name)) throw new Error(`CTE ${d.name} is defined twice: cannot tell the references apart`);
    ctes.set(d.name, { name: d.name, body: blank(d.start, d.end, sql.slice(d.start, d.end)) });
  }
  return { ctes, outer: blank(-1, sql.length, sql) };
}

/** How often `relation` is read by `text` once every CTE reference is inlined, and how often each CTE is. */
function expandedReads(sql: string, relation: string) {
  const { ctes, outer } = parseCtes(sql);
  const inlined = new Map<string, number>();
  const referencesIn = (text: string, name: string) =>
    [...text.matchAll(new RegExp(`\\b(?:FROM|JOIN)\\s+${name}\\b`, 'g'))].length;
  const reads = (text: string, times: number): number => {
    let total = referencesIn(text, relation) * times;
    for (const cte of ctes.values()) {
      const n = referencesIn(text, cte.name) * times;
      if (n === 0) continue;
      inlined.set(cte.name, (inlined.get(cte.name) ?? 0) + n);
      total += reads(cte.body, n);
    }
    return total;
  };
  return { reads: reads(outer, 1), inlined };
}

const queries = createRecalcQueries('cvm-bucket');
const config = parseRecalcConfig({ currency: 'USD' }, 'test settings');

/** A planned run as `planRun` renders it. */
function plannedRun(overrides: Partial<PreparedRun> & { config?: PreparedRun['config'] } = {}) {
  return {
    asOf: '2026-06-30',
    calibrationEnd: '2025-12-30',
    config: { ...config, currency: 'USD' },
    sources: ['shop', 'store'],
    ...overrides,
  } as Pick<PreparedRun, 'asOf' | 'calibrationEnd' | 'config' | 'sources' | 'economics'>;
}

/** Every statement one run sends to the warehouse, by query key, and its text as the task runs it. */
function runStatements(run: ReturnType<typeof plannedRun>): Record<string, Statement<unknown>> {
  const params: RecalcQueryParams = {
    asOf: run.asOf,
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
    sources: run.sources,
    ...(run.config.crossSourceDuplicates === 'collapse' ? { crossSourceDuplicates: 'collapse' } : {}),
  };
  return {
    sourceProfile: queries.sourceProfile({ asOf: run.asOf, sources: run.sources }),
    runProfile: queries.runProfile(params),
    ...(fitStatementsOf({ queries }, run) as unknown as Record<string, Statement<unknown>>),
  };
}

describe('one scan of the clean table per statement', () => {
  it('the counter sees a CTE read twice, and a CTE over it read twice', () => {
    const twice = `WITH ranked AS (SELECT * FROM ${TRANSACTIONS_RELATION}), a AS (SELECT * FROM ranked)
SELECT * FROM a JOIN ranked ON true`;
    expect(expandedReads(twice, TRANSACTIONS_RELATION).reads).toBe(2);
    const chain = `WITH ranked AS (SELECT * FROM ${TRANSACTIONS_RELATION}), a AS (SELECT * FROM ranked),
b AS (SELECT * FROM a), c AS (SELECT * FROM a) SELECT * FROM b CROSS JOIN c`;
    const { reads, inlined } = expandedReads(chain, TRANSACTIONS_RELATION);
    expect(reads).toBe(2);
    expect(inlined.get('a')).toBe(2);
    expect(expandedReads(`SELECT 1 FROM ${TRANSACTIONS_RELATION}`, TRANSACTIONS_RELATION).reads).toBe(1);
  });

  for (const [label, run] of [
    ['with a holdout', plannedRun()],
    ['without a calibration period', plannedRun({ calibrationEnd: null })],
    [
      'collapsing cross-source duplicates, with fixed rates',
      plannedRun({
        config: { ...config, currency: 'USD', crossSourceDuplicates: 'collapse', fxRates: { EUR: 1.1 } },
      }),
    ],
    ['in weeks', plannedRun({ config: { ...config, currency: 'USD', timeUnit: 'weeks' } })],
  ] as const) {
    it(`reads the transactions once in every statement of a run ${label}, and every CTE over them once`, () => {
      const statements = runStatements(run);
      for (const [key, statement] of Object.entries(statements)) {
        // The text the Athena task runs (the UNLOAD) is the statement's own text.
        const unload = queries.unloadTask(statement, 'run-1').queryString;
        expect(parseAthenaUnload(unload).sql).toBe(statement.sql);
        const { reads, inlined } = expandedReads(statement.sql, TRANSACTIONS_RELATION);
        expect(reads, `${key} (${statement.name})`).toBe(1);
        // The counter saw the statement's CTEs (a text it failed to parse would count one read too).
        if (statement.sql.includes('WITH')) expect(inlined.size, key).toBeGreaterThan(0);
        for (const [cte, times] of inlined) expect(times, `${key}: CTE ${cte}`).toBe(1);
      }
    });
  }

  it('the summary step runs exactly the statements planRun renders (holdout ones only with a calibration period)', () => {
    expect(Object.keys(fitStatementsOf({ queries }, plannedRun())).sort()).toEqual(
      [...SUMMARY_STEP_QUERIES].sort(),
    );
    const optional = new Set<string>(SUMMARY_STEP_OPTIONAL_QUERIES);
    expect(Object.keys(fitStatementsOf({ queries }, plannedRun({ calibrationEnd: null }))).sort()).toEqual(
      SUMMARY_STEP_QUERIES.filter((key) => !optional.has(key)).sort(),
    );
    // Each statement writes to its own prefix: no two tasks of a step share an UNLOAD target.
    const names = Object.values(runStatements(plannedRun())).map((statement) => statement.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('reads the transactions once in the profiles of a period-family run (its summary statements are the families’ own)', () => {
    for (const family of ['noncontractual-discrete', 'contractual'] as const) {
      const run = plannedRun({ calibrationEnd: null, config: { ...config, currency: 'USD', family } });
      const statements = runStatements(run);
      expect(Object.keys(statements).sort()).toEqual(
        ['customerSummaries', 'histogram', 'runProfile', 'sourceProfile', 'spend'].sort(),
      );
      for (const key of ['sourceProfile', 'runProfile']) {
        expect(expandedReads(statements[key]!.sql, TRANSACTIONS_RELATION).reads, `${family} ${key}`).toBe(1);
      }
    }
  });

  it('unloads the summaries of a counted run in customer-bucket folders, still in one scan', () => {
    const run = {
      ...plannedRun(),
      profile: { customersSummarized: 450_000 },
    } as unknown as ReturnType<typeof plannedRun>;
    const statements = fitStatementsOf({ queries }, run) as unknown as Record<string, Statement<unknown>>;
    for (const key of ['customerSummaries', 'backtestSummaries']) {
      const unload = queries.unloadTask(statements[key]!, 'run-1').queryString;
      expect(unload, key).toContain("partitioned_by = ARRAY['part']");
      const parsed = parseAthenaUnload(unload);
      // The local runner unloads the parsed text with the same partitioning.
      expect(queries.parseUnload(unload).partitionedBy, key).toBe('part');
      expect(parsed.partitionedBy, key).toBe('part');
      expect(expandedReads(parsed.sql, TRANSACTIONS_RELATION).reads, key).toBe(1);
    }
  });
});
