/**
 * RFM segments and value tiers: every grid cell has a segment, configured grids must cover every cell,
 * and tiers take their share of customers by CLV.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_GRID, parseRecalcConfig, recalcConfigSchema } from '#domain/recalc-config.ts';
import { DEFAULT_SEGMENT_NAMES } from '#domain/score.ts';
import { fmScore, rfmSegment, valueTier, valueTierThresholds } from '#domain/segments.ts';

const score = fc.integer({ min: 1, max: 5 });

describe('RFM segment grid', () => {
  it('gives every RFM score a segment of the default names', () => {
    fc.assert(
      fc.property(score, score, score, (r, f, m) => {
        expect(DEFAULT_SEGMENT_NAMES).toContain(rfmSegment({ r, f, m }, DEFAULT_SEGMENT_GRID));
      }),
    );
  });

  it('uses every default segment name exactly once', () => {
    expect(DEFAULT_SEGMENT_GRID.map((rule) => rule.name).sort()).toEqual([...DEFAULT_SEGMENT_NAMES].sort());
  });

  it('places the corners of the grid as documented', () => {
    expect(rfmSegment({ r: 5, f: 5, m: 5 }, DEFAULT_SEGMENT_GRID)).toBe('Champions');
    expect(rfmSegment({ r: 5, f: 1, m: 1 }, DEFAULT_SEGMENT_GRID)).toBe('New Customers');
    expect(rfmSegment({ r: 1, f: 5, m: 5 }, DEFAULT_SEGMENT_GRID)).toBe("Can't Lose Them");
    expect(rfmSegment({ r: 1, f: 1, m: 1 }, DEFAULT_SEGMENT_GRID)).toBe('Lost');
    expect(rfmSegment({ r: 2, f: 1, m: 2 }, DEFAULT_SEGMENT_GRID)).toBe('Hibernating');
    expect(rfmSegment({ r: 3, f: 3, m: 3 }, DEFAULT_SEGMENT_GRID)).toBe('Need Attention');
    expect(rfmSegment({ r: 4, f: 1, m: 1 }, DEFAULT_SEGMENT_GRID)).toBe('Promising');
    expect(rfmSegment({ r: 3, f: 5, m: 4 }, DEFAULT_SEGMENT_GRID)).toBe('Loyal Customers');
    expect(rfmSegment({ r: 2, f: 3, m: 4 }, DEFAULT_SEGMENT_GRID)).toBe('At Risk');
  });

  it('combines F and M with halves rounded up', () => {
    expect(fmScore({ r: 1, f: 1, m: 2 })).toBe(2);
    expect(fmScore({ r: 1, f: 4, m: 5 })).toBe(5);
    expect(fmScore({ r: 1, f: 3, m: 3 })).toBe(3);
  });

  it('rejects a configured grid with uncovered cells, naming them', () => {
    expect(() => parseRecalcConfig({ segments: [{ name: 'Everyone', r: [1, 5], fm: [2, 5] }] })).toThrow(
      /segments: .*uncovered: R1\/FM1, R2\/FM1, R3\/FM1, R4\/FM1, R5\/FM1/,
    );
  });

  it('accepts a configured grid that covers every cell', () => {
    const config = parseRecalcConfig({ segments: [{ name: 'Everyone', r: [1, 5], fm: [1, 5] }] });
    expect(rfmSegment({ r: 2, f: 4, m: 1 }, config.segments)).toBe('Everyone');
  });
});

describe('value tiers', () => {
  const tiers = recalcConfigSchema.parse({}).valueTiers;

  it('puts at least the configured share, and no customer with a lower CLV, in each tier', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e5, noNaN: true }), { minLength: 1, maxLength: 400 }),
        (clvs) => {
          const thresholds = valueTierThresholds(clvs, tiers);
          const labels = clvs.map((clv) => valueTier(clv, thresholds));
          const share = (names: string[]) => labels.filter((l) => names.includes(l)).length / clvs.length;
          expect(share(['top1'])).toBeGreaterThanOrEqual(
            Math.min(1, Math.ceil(0.01 * clvs.length) / clvs.length),
          );
          expect(share(['top1', 'top10'])).toBeGreaterThanOrEqual(Math.ceil(0.1 * clvs.length) / clvs.length);
          expect(share(['top1', 'top10', 'top25'])).toBeGreaterThanOrEqual(
            Math.ceil(0.25 * clvs.length) / clvs.length,
          );
          // Ordered: a customer never sits in a lower tier than one with a smaller CLV.
          const rank = { top1: 0, top10: 1, top25: 2, rest: 3 } as const;
          for (let i = 0; i < clvs.length; i++) {
            for (let j = 0; j < clvs.length; j++) {
              if (clvs[i]! > clvs[j]!) expect(rank[labels[i]!]).toBeLessThanOrEqual(rank[labels[j]!]);
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('takes exactly 1 / 10 / 25 of 100 distinct values', () => {
    const clvs = Array.from({ length: 100 }, (_, i) => i + 1);
    const thresholds = valueTierThresholds(clvs, tiers);
    const counts = { top1: 0, top10: 0, top25: 0, rest: 0 };
    for (const clv of clvs) counts[valueTier(clv, thresholds)]++;
    expect(counts).toEqual({ top1: 1, top10: 9, top25: 15, rest: 75 });
  });

  it('has JSON-safe thresholds for an empty base', () => {
    const thresholds = valueTierThresholds([], tiers);
    expect(JSON.parse(JSON.stringify(thresholds))).toEqual(thresholds);
  });
});
