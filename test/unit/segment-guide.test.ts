import { describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_NAMES } from '#domain/score.ts';
import { SEGMENT_GUIDE, segmentGuide } from '#domain/segment-guide.ts';

describe('segment guide', () => {
  it('says what each default segment means and what to do, in one line', () => {
    expect(Object.keys(SEGMENT_GUIDE).sort()).toEqual([...DEFAULT_SEGMENT_NAMES].sort());
    for (const name of DEFAULT_SEGMENT_NAMES) {
      const line = segmentGuide(name);
      expect(line).not.toContain('\n');
      // A meaning and an action: at least two sentences.
      expect(line.split('. ').length, name).toBeGreaterThanOrEqual(2);
    }
  });

  it('points a segment of an own grid to its rules', () => {
    expect(segmentGuide('Weekend Shoppers')).toMatch(/own grid/);
  });
});
