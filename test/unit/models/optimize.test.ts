import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  invertSymmetricPositiveDefinite,
  minimize,
  numericGradient,
  numericHessian,
} from '#domain/optimize.ts';

function rosenbrock(x: Float64Array, gradient?: Float64Array): number {
  const [a, b] = [x[0]!, x[1]!];
  if (gradient) {
    gradient[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    gradient[1] = 200 * (b - a * a);
  }
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
}

describe('minimize (BFGS, strong Wolfe line search)', () => {
  it('finds the Rosenbrock minimum from the classic start', () => {
    const result = minimize(rosenbrock, [-1.2, 1]);
    expect(result.converged).toBe(true);
    expect(result.reason).toBe('gradient');
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.gradientNorm).toBeLessThanOrEqual(1e-7);
    expect(result.iterations).toBeGreaterThan(0);
    expect(result.evaluations).toBeGreaterThanOrEqual(result.iterations);
  });

  it('also converges with a numeric gradient', () => {
    const result = minimize((x) => rosenbrock(x), [-1.2, 1], {
      numericGradient: true,
      gradientTolerance: 1e-6,
    });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 4);
  });

  it('backs off from trial points where the objective is not finite', () => {
    // ln-barrier: undefined for x ≤ 0; minimum of x − 2 ln x at x = 2.
    const f = (x: Float64Array, g?: Float64Array) => {
      const v = x[0]!;
      if (g) g[0] = 1 - 2 / v;
      return v > 0 ? v - 2 * Math.log(v) : Number.NaN;
    };
    const result = minimize(f, [0.05]);
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(2, 6);
  });

  it('reports a non-finite start instead of throwing', () => {
    const result = minimize(() => Number.NaN, [1]);
    expect(result.converged).toBe(false);
    expect(result.reason).toBe('non-finite-start');
  });

  it('stops at the iteration limit without claiming convergence', () => {
    const result = minimize(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.reason).toBe('max-iterations');
    expect(result.iterations).toBe(3);
  });

  it('solves random positive-definite quadratics', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 9, maxLength: 9 }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (entries, target) => {
          // A = MᵀM + I is positive definite; f(x) = ½ (x − c)ᵀ A (x − c).
          const a = Array.from({ length: 3 }, (_, i) =>
            Float64Array.from({ length: 3 }, (_, j) => {
              let s = i === j ? 1 : 0;
              for (let k = 0; k < 3; k++) s += entries[k * 3 + i]! * entries[k * 3 + j]!;
              return s;
            }),
          );
          const f = (x: Float64Array, g?: Float64Array) => {
            let value = 0;
            for (let i = 0; i < 3; i++) {
              let row = 0;
              for (let j = 0; j < 3; j++) row += a[i]![j]! * (x[j]! - target[j]!);
              if (g) g[i] = row;
              value += 0.5 * (x[i]! - target[i]!) * row;
            }
            return value;
          };
          const result = minimize(f, [0, 0, 0], { gradientTolerance: 1e-9 });
          expect(result.converged).toBe(true);
          target.forEach((c, i) => {
            expect(Math.abs(result.x[i]! - c)).toBeLessThan(1e-4 * (1 + Math.abs(c)));
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('accepts an initial inverse Hessian and then converges in one Newton step on a quadratic', () => {
    const f = (x: Float64Array, g?: Float64Array) => {
      if (g) {
        g[0] = 4 * (x[0]! - 1);
        g[1] = 10 * (x[1]! + 2);
      }
      return 2 * (x[0]! - 1) ** 2 + 5 * (x[1]! + 2) ** 2;
    };
    const result = minimize(f, [5, 5], { initialInverseHessian: [0.25, 0, 0, 0.1] });
    expect(result.iterations).toBe(1);
    expect(result.x[0]).toBeCloseTo(1, 12);
    expect(result.x[1]).toBeCloseTo(-2, 12);
  });
});

describe('numeric derivatives and inversion', () => {
  it('numericGradient and numericHessian match analytic derivatives', () => {
    const x = Float64Array.of(0.3, -0.7);
    const g = new Float64Array(2);
    numericGradient((p) => rosenbrock(p), x, g);
    const exact = new Float64Array(2);
    rosenbrock(x, exact);
    expect(g[0]).toBeCloseTo(exact[0]!, 5);
    expect(g[1]).toBeCloseTo(exact[1]!, 5);
    const h = numericHessian((p, out) => rosenbrock(p, out), x);
    const [a, b] = [x[0]!, x[1]!];
    expect(h[0]![0]).toBeCloseTo(2 - 400 * (b - 3 * a * a), 3);
    expect(h[0]![1]).toBeCloseTo(-400 * a, 4);
    expect(h[1]![1]).toBeCloseTo(200, 4);
  });

  it('inverts positive-definite matrices and refuses indefinite ones', () => {
    const m = [Float64Array.of(4, 1), Float64Array.of(1, 3)];
    const inverse = invertSymmetricPositiveDefinite(m)!;
    expect(inverse[0]![0]).toBeCloseTo(3 / 11, 14);
    expect(inverse[0]![1]).toBeCloseTo(-1 / 11, 14);
    expect(inverse[1]![1]).toBeCloseTo(4 / 11, 14);
    expect(invertSymmetricPositiveDefinite([Float64Array.of(1, 2), Float64Array.of(2, 1)])).toBeNull();
  });
});
