/**
 * Run-to-run migration: the migration matrix adds up to the previous segments, segment summaries merge
 * across parts, and only real segment or band changes are reported.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMigration,
  addToSegment,
  completeMigration,
  detectChange,
  GONE_COLUMN,
  type MigrationMatrix,
  mergeMigrations,
  mergeSegmentTotals,
  migrationRowSums,
  NEW_CUSTOMERS_ROW,
  type SegmentTotals,
  summarizeSegments,
} from '#domain/migration.ts';

const segments = ['Champions', 'Lost', 'At Risk', 'Promising'];
const segment = fc.constantFrom(...segments);

describe('migration matrix', () => {
  it('rows sum to the previous segment sizes, whatever parts the customers were scored in', () => {
    fc.assert(
      fc.property(
        // Each previous customer: previous segment, and current segment or null (gone).
        fc.array(fc.tuple(segment, fc.option(segment, { nil: null })), { maxLength: 200 }),
        fc.array(segment, { maxLength: 50 }),
        fc.integer({ min: 1, max: 5 }),
        (previousCustomers, newCustomers, partCount) => {
          const sizes: Record<string, number> = {};
          for (const [before] of previousCustomers) sizes[before] = (sizes[before] ?? 0) + 1;
          const parts: MigrationMatrix[] = Array.from({ length: partCount }, () => ({}));
          previousCustomers.forEach(([before, after], i) => {
            if (after !== null) addMigration(parts[i % partCount]!, before, after);
          });
          newCustomers.forEach((after, i) => {
            addMigration(parts[i % partCount]!, NEW_CUSTOMERS_ROW, after);
          });
          const merged = parts.reduce(mergeMigrations, {});
          const complete = completeMigration(merged, sizes);
          const sums = migrationRowSums(complete);
          for (const [name, size] of Object.entries(sizes)) expect(sums[name]).toBe(size);
          expect(sums[NEW_CUSTOMERS_ROW] ?? 0).toBe(newCustomers.length);
          const gone = previousCustomers.filter(([, after]) => after === null).length;
          const goneCounted = Object.values(complete).reduce((n, row) => n + (row[GONE_COLUMN] ?? 0), 0);
          expect(goneCounted).toBe(gone);
        },
      ),
    );
  });

  it('refuses counts that do not fit the previous run', () => {
    const matrix: MigrationMatrix = {};
    addMigration(matrix, 'Lost', 'Champions', 3);
    expect(() => completeMigration(matrix, { Lost: 2 })).toThrow(/3 customers moved out of 'Lost'.*only 2/);
    expect(() => completeMigration(matrix, { Champions: 2 })).toThrow(/came from 'Lost'/);
  });
});

describe('segment summaries', () => {
  it('sum counts and CLV across parts and share value out of the positive total', () => {
    const a: SegmentTotals = {};
    const b: SegmentTotals = {};
    addToSegment(a, 'Champions', 300);
    addToSegment(b, 'Champions', 100);
    addToSegment(b, 'Lost', 100);
    const summaries = summarizeSegments(mergeSegmentTotals(a, b), ['Champions', 'Promising', 'Lost']);
    expect(summaries).toEqual([
      { segment: 'Champions', customers: 2, totalClv: 400, meanClv: 200, shareOfValue: 0.8 },
      { segment: 'Promising', customers: 0, totalClv: 0, meanClv: 0, shareOfValue: 0 },
      { segment: 'Lost', customers: 1, totalClv: 100, meanClv: 100, shareOfValue: 0.2 },
    ]);
  });
});

describe('change detection', () => {
  it('reports a change of segment or churn band, and nothing for new or unchanged customers', () => {
    const now = { segment: 'Lost', churnRisk: 'high' as const };
    expect(detectChange('c1', undefined, now)).toBeNull();
    expect(detectChange('c1', { segment: 'Lost', churnRisk: 'high' }, now)).toBeNull();
    expect(detectChange('c1', { segment: 'At Risk', churnRisk: 'high' }, now)).toEqual({
      customerId: 'c1',
      previousSegment: 'At Risk',
      segment: 'Lost',
      previousChurnRisk: 'high',
      churnRisk: 'high',
    });
    expect(detectChange('c1', { segment: 'Lost', churnRisk: 'medium' }, now)?.previousChurnRisk).toBe(
      'medium',
    );
  });
});
