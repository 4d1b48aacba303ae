/** Numbers bound for DynamoDB are range-checked; a failure names the field and the customer count. */
import { describe, expect, it } from 'vitest';
import {
  assertStorableRecord,
  assertStorableScores,
  UnstorableNumberError,
  unstorableNumbers,
} from '#domain/storable-numbers.ts';
import { sampleRunRecord } from '#test-support/sample-run.ts';

describe('storable numbers', () => {
  it('finds NaN, ∞ and magnitudes beyond 2^53 − 1 with their paths', () => {
    expect(
      unstorableNumbers({ a: 1, b: [2, Number.NaN], c: { d: 3.72e46, e: -1e16, f: 9_007_199_254_740_991 } }),
    ).toEqual([
      { path: 'b.1', value: Number.NaN },
      { path: 'c.d', value: 3.72e46 },
      { path: 'c.e', value: -1e16 },
    ]);
  });

  it('a run record with a runaway parameter fails with the field and the customer count, not an SDK error', () => {
    const record = sampleRunRecord();
    record.model!.params['r'] = 3.72e46;
    expect(() => assertStorableRecord('Run x: run record', record, 301)).toThrow(UnstorableNumberError);
    expect(() => assertStorableRecord('Run x: run record', record, 301)).toThrow(
      /model\.params\.r = 3\.72e\+46 is outside ±9\.01e\+15 \(computed from 301 customers\)/,
    );
    expect(() => assertStorableRecord('Run x: run record', sampleRunRecord(), 301)).not.toThrow();
  });

  it('scores with an enormous CLV name the field, how many customers and an example', () => {
    const scores = [
      { customerId: 'a', clv: 12.5, pAlive: 1 },
      { customerId: 'b', clv: 3.72e46, pAlive: 1 },
      { customerId: 'c', clv: Number.POSITIVE_INFINITY, pAlive: 1 },
    ];
    expect(() => assertStorableScores('scores', scores)).toThrow(
      /clv of 2 of 3 customers \(e\.g\. customer b: 3\.72e\+46\)/,
    );
    expect(() => assertStorableScores('scores', scores.slice(0, 1))).not.toThrow();
  });
});
