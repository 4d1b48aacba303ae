import { describe, expect, it } from 'vitest';
import { newRunId } from '#app/recalc/acquire-lock.ts';
import { partName } from '#domain/bucket-layout.ts';
import { defaultAsOf, failureMessage, mergeSettings } from '#domain/recalc/settings.ts';

describe('recalculation step helpers', () => {
  it('merge run overrides over stored settings field by field; arrays replace', () => {
    const stored = { model: 'auto', clv: { horizonMonths: 24, margin: 0.4 }, segments: [{ name: 'A' }] };
    expect(
      mergeSettings(stored, { clv: { margin: 0.3 }, segments: [{ name: 'B' }], currency: 'USD' }),
    ).toEqual({
      model: 'auto',
      clv: { horizonMonths: 24, margin: 0.3 },
      segments: [{ name: 'B' }],
      currency: 'USD',
    });
    expect(mergeSettings(stored, { model: undefined })).toEqual(stored);
  });

  it('scores up to yesterday (UTC) by default', () => {
    expect(defaultAsOf(new Date('2026-01-05T00:30:00Z'))).toBe('2026-01-04');
    expect(defaultAsOf(new Date('2026-03-01T23:59:59Z'))).toBe('2026-02-28');
  });

  it('makes sortable run ids from the start time', () => {
    expect(newRunId(new Date('2026-01-05T06:00:07.123Z'))).toMatch(/^20260105T060007Z-[0-9a-f]{4}$/);
  });

  it('reads the error message from a Step Functions Catch output', () => {
    expect(
      failureMessage({
        Error: 'RecalcLockedError',
        Cause: JSON.stringify({
          errorType: 'RecalcLockedError',
          errorMessage: 'Another recalculation is running',
        }),
      }),
    ).toBe('RecalcLockedError: Another recalculation is running');
    expect(failureMessage({ Error: 'States.Timeout', Cause: 'task timed out' })).toBe(
      'States.Timeout: task timed out',
    );
    expect(failureMessage({ Error: 'States.TaskFailed' })).toBe('States.TaskFailed');
    expect(failureMessage('plain text')).toBe('plain text');
  });

  it('names part files safely', () => {
    expect(partName('runs/r1/customer-summaries/data_0.parquet')).toBe('data_0');
    expect(partName('runs/r1/customer-summaries/20260105_000 1 a+b')).toBe('20260105_000_1_a_b');
    // Bucket folders repeat file names (DuckDB writes part-0 in each): the folder is kept.
    expect(partName('runs/r1/customer-summaries/part=3/part-0.parquet')).toBe('part_3_part-0');
    expect(partName('runs/r1/customer-summaries/part=12/part-0.parquet')).not.toBe(
      partName('runs/r1/customer-summaries/part=1/part-0.parquet'),
    );
  });
});
