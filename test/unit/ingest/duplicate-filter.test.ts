/**
 * The duplicate filter never answers "not seen" for a value seen before, stays selective when large
 * enough, and refuses sizes out of range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicateFilter } from '#domain/ingest/duplicate-filter.ts';

describe('duplicate filter', () => {
  it('never answers "not seen" for a value added before, whatever the filter size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 16 }),
        fc.array(fc.tuple(fc.integer(), fc.integer()), { minLength: 1, maxLength: 300 }),
        (log2Bits, values) => {
          const filter = new DuplicateFilter(log2Bits);
          for (const [high, low] of values) filter.addAndCheck(high, low);
          for (const [high, low] of values) expect(filter.addAndCheck(high, low)).toBe(true);
        },
      ),
    );
  });

  it('reports through add/flush exactly what addAndCheck answers, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer(), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 700 }),
        (values) => {
          const reported: [number, number][] = [];
          const batched = new DuplicateFilter(10, (high, low) => reported.push([high, low]));
          const direct = new DuplicateFilter(10);
          const expected: [number, number][] = [];
          for (const [high, low] of values) {
            batched.add(high, low);
            if (direct.addAndCheck(high, low)) expected.push([high, low]);
          }
          batched.flush();
          expect(reported).toEqual(expected);
        },
      ),
    );
  });

  it('flags few distinct values when it is large enough for them', () => {
    // 2^20 bits for 20,000 values: 52 bits per value, as the default size gives 13 million rows.
    const filter = new DuplicateFilter(20);
    let flagged = 0;
    let state = 0x12345678;
    for (let i = 0; i < 20_000; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) | 0;
      const high = state;
      state = (Math.imul(state, 1664525) + 1013904223) | 0;
      if (filter.addAndCheck(high, state)) flagged++;
    }
    expect(flagged).toBeLessThan(5);
  });

  it('refuses sizes outside its range', () => {
    expect(() => new DuplicateFilter(8)).toThrow(/2\^8 bits/);
    expect(() => new DuplicateFilter(32)).toThrow(/2\^32 bits/);
  });
});
