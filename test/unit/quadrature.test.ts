// The adaptive Gauss–Legendre rule behind the likelihood fallbacks: exact on polynomials, accurate
// on smooth integrands, and bounded work on a step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { integrate } from '#domain/quadrature.ts';

describe('integrate', () => {
  it('is exact (to rounding) on polynomials up to degree 31', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.double({ min: 0.1, max: 5, noNaN: true }), (k, b) => {
        const value = integrate((x) => x ** k, 0, b);
        const exact = b ** (k + 1) / (k + 1);
        expect(Math.abs(value - exact)).toBeLessThanOrEqual(1e-12 * exact);
      }),
    );
  });

  it('integrates smooth and peaked functions to 1e-12', () => {
    expect(integrate(Math.sin, 0, Math.PI)).toBeCloseTo(2, 12);
    expect(integrate((x) => Math.exp(-1e4 * x), 0, 1)).toBeCloseTo(1e-4 * -Math.expm1(-1e4), 15);
    expect(integrate((x) => 1 / (1 + x * x), -1e3, 1e3)).toBeCloseTo(2 * Math.atan(1e3), 10);
  });

  it('ends on a discontinuity with a bounded number of evaluations and a bounded error', () => {
    let calls = 0;
    const value = integrate(
      (x) => {
        calls++;
        return x < Math.SQRT1_2 ? 0 : 1;
      },
      0,
      1,
    );
    expect(Math.abs(value - (1 - Math.SQRT1_2))).toBeLessThan(1e-6);
    expect(calls).toBeLessThanOrEqual(256 * 48 * 2);
  });

  it('returns 0 on an empty interval', () => {
    expect(integrate(() => 1, 1, 1)).toBe(0);
  });
});
