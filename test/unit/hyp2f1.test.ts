/**
 * The Gauss hypergeometric function 2F1 against closed forms, high-precision reference values near z = 1
 * and its own transformations (property-based).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hyp2f1, hyp2f1Series, logHyp2f1, signedLogHyp2f1 } from '#domain/hyp2f1.ts';
import { gammaln } from '#domain/special.ts';

/** |actual − expected| ≤ tolerance · max(1, |expected|) */
function expectClose(actual: number, expected: number, tolerance: number): void {
  expect(Number.isFinite(actual), `expected a finite value near ${expected}, got ${actual}`).toBe(true);
  const error = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  expect(error, `got ${actual}, expected ${expected}`).toBeLessThanOrEqual(tolerance);
}

function expectRelative(actual: number, expected: number, tolerance: number): void {
  const error = Math.abs(actual - expected) / Math.abs(expected);
  expect(error, `got ${actual}, expected ${expected}`).toBeLessThanOrEqual(tolerance);
}

describe('hyp2f1: closed forms', () => {
  // Covers the direct series (|z| small), Pfaff (z < 0, down to −1e8), and the logarithmic
  // connection formula (c − a − b = 0) up to 1 − 1e−12, where the plain series would need 1e13 terms.
  const zs = [-1e8, -1e6, -50, -3, -0.5, -1e-9, 1e-9, 0.3, 0.5, 0.75, 0.9, 0.95, 0.999, 0.9999999, 1 - 1e-12];

  it('2F1(1, 1; 2; z) = −ln(1 − z)/z', () => {
    for (const z of zs) expectRelative(hyp2f1(1, 1, 2, z), -Math.log1p(-z) / z, 1e-13);
  });

  it('2F1(1, 2; 3; z) = 2(−ln(1 − z) − z)/z²', () => {
    // Cancellation in the closed form itself below |z| ~ 1e−3, so only larger |z| here.
    for (const z of zs.filter((v) => Math.abs(v) > 1e-3)) {
      expectRelative(hyp2f1(1, 2, 3, z), (2 * (-Math.log1p(-z) - z)) / (z * z), 1e-12);
    }
  });

  it('2F1(1/2, 1/2; 3/2; z²) = asin(z)/z, including z² within 1e−10 of 1', () => {
    for (const z of [0.1, 0.5, 0.9, 0.97, 0.999, 0.99999, 1 - 1e-10]) {
      expectRelative(hyp2f1(0.5, 0.5, 1.5, z * z), Math.asin(z) / z, 1e-12);
    }
  });

  it('2F1(1/2, 1; 3/2; −z²) = atan(z)/z for z up to 1e4 (argument −1e8)', () => {
    for (const z of [0.01, 0.7, 1, 3, 100, 1e4]) {
      expectRelative(hyp2f1(0.5, 1, 1.5, -z * z), Math.atan(z) / z, 1e-12);
    }
  });

  it('2F1(a, b; b; z) = (1 − z)^−a', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -20, max: 20, noNaN: true }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.double({ min: -100, max: 0.999, noNaN: true }),
        (a, b, z) => {
          expectRelative(hyp2f1(a, b, b, z), (1 - z) ** -a, 1e-12);
        },
      ),
    );
  });

  it("Gauss's theorem at z = 1, and continuity into it from z = 1 − 1e−12", () => {
    const gauss = (a: number, b: number, c: number) =>
      Math.exp(gammaln(c) + gammaln(c - a - b) - gammaln(c - a) - gammaln(c - b));
    for (const [a, b, c] of [
      [0.5, 0.7, 2.4],
      [2.5, 1.2, 5.1],
      [1, 1, 3],
      [0.3, 12.5, 14.2],
    ] as const) {
      expectRelative(hyp2f1(a, b, c, 1), gauss(a, b, c), 1e-13);
      // F(1) − F(z) is O((1 − z)^min(1, c−a−b)), below 1e−8 here.
      expectRelative(hyp2f1(a, b, c, 1 - 1e-12), gauss(a, b, c), 1e-8);
    }
  });

  it('Chu–Vandermonde: 2F1(−n, b; c; 1) = (c − b)_n / (c)_n', () => {
    const pochhammer = (x: number, n: number) => {
      let p = 1;
      for (let k = 0; k < n; k++) p *= x + k;
      return p;
    };
    for (const [n, b, c] of [
      [3, 2.5, 7.1],
      [10, 0.4, 3.3],
      [25, 1.5, 30.5],
    ] as const) {
      expectRelative(hyp2f1(-n, b, c, 1), pochhammer(c - b, n) / pochhammer(c, n), 1e-12);
    }
  });
});

describe('hyp2f1: large parameters and z near 1 (reference: mpmath 1.3 hyp2f1 at 50 digits on the same doubles)', () => {
  // [a, b, c, z, ln 2F1]
  const reference: readonly (readonly [number, number, number, number, number])[] = [
    // Pareto/NBD in its published form, x = 10,000: 2F1(r+s+x, s+1; r+s+x+1; z).
    [10000.5, 1.6, 10001.5, 0.999, 10.914587933487729],
    [201.159, 1.606, 202.159, 0.9, 3.6314466950518147],
    [201.159, 200.553, 202.159, 0.4, 101.93997472664444],
    // The Euler-transformed form the model uses: 2F1(1, r+x; r+s+x+1; z) with z within 1e−6 of 1.
    [1, 200.55, 201.16, 0.999999, 9.40248104577402],
    // BG/NBD conditional expectation 2F1(r+x, b+x; a+b+x−1; t/(α+T+t)), x = 1,000 and 10,000.
    [1000.24, 1002.43, 1002.22, 0.6, 916.7028135695934],
    [1000.24, 1002.43, 1002.22, 0.97, 3508.1354454009206],
    [10000.2426, 10002.4259, 10002.2188, 0.38727, 4898.5292295619893],
    [10000.5, 10000.2, 10002.1, 0.3, 3566.2501856528147],
    [200.5, 180.3, 400.2, 0.95, 169.05813121145755],
    [30.5, 2.5, 40.2, -3, -2.949512373405913],
    [0.5, 0.3, 1.2, -1000000, -3.3845099288061125],
    [2.5, 1.2, 3.1, 0.97, 2.887753398708903],
    // c − a − b = 3 (logarithmic connection formula with a finite part) and c − a − b ≈ 1e−6.
    [3, 2, 8, 0.96, 1.1463391530644562],
    [0.3, 0.7, 1.000001, 0.95, 0.5311309698597859],
    // BG/NBD's Euler form 2F1(a+b−1−r, a−1; a+b+x−1; z) for a = 20, b = 980 and a = 45, b = 2205,
    // x = 30: c − a − b < 0 and the connection formula lost every digit (it returned 0).
    [998.76, 19, 999, 0.96, 61.069141982100014],
    [2249.76, 44, 2280, 0.9059233449477352, 99.09069197762656],
  ];

  it.each(reference)('ln 2F1(%d, %d; %d; %d) = %d', (a, b, c, z, expected) => {
    // Absolute error on the log = relative error on the value; lnΓ of arguments near 1e4 carries ~1e−12.
    expect(Math.abs(logHyp2f1(a, b, c, z) - expected)).toBeLessThan(1e-11 * Math.max(1, Math.abs(expected)));
  });

  it('keeps 8 digits where c − a − b is within 1e−3..1e−8 of an integer and z is within 1e−7 of 1', () => {
    // Here the two terms of the connection formula nearly cancel and the series would need 1e5–1e7
    // terms; the derivatives of the Pareto/NBD gradient land here whenever s or r + x is an integer.
    const band: readonly (readonly [number, number, number, number, number])[] = [
      [1, 1, 2.000001, 0.999999, 2.625786887664192],
      [1, 1, 2.00000001, 0.9999999, 2.779942622724904],
      [1, 150.3, 152.30100000000002, 0.99999, 5.009346451653983],
      [1, 150.3, 152.29998, 0.99999, 5.010330848878625],
      [0.7, 1.3, 3.0000003, 0.9999999, 0.6347639049916578],
    ];
    for (const [a, b, c, z, expected] of band)
      expect(Math.abs(logHyp2f1(a, b, c, z) - expected)).toBeLessThan(1e-8);
  });

  it('stays finite in log space where the value overflows a double', () => {
    expect(hyp2f1(10000.5, 10000.2, 10002.1, 0.3)).toBe(Number.POSITIVE_INFINITY);
    expect(signedLogHyp2f1(10000.5, 10000.2, 10002.1, 0.3)).toEqual({
      logAbs: expect.closeTo(3566.2501856528147, 8),
      sign: 1,
    });
  });

  it('reports negative values through the sign and NaN where 2F1 is undefined', () => {
    // 2F1(−3, 2.5; 3/2; z) = (1 − z)²(1 − 3z): negative on (1/3, 1).
    const cubic = (z: number) => (1 - z) ** 2 * (1 - 3 * z);
    for (const z of [-5, 0.2, 0.9, 1]) expectClose(hyp2f1(-3, 2.5, 1.5, z), cubic(z), 1e-13);
    expect(signedLogHyp2f1(-3, 2.5, 1.5, 0.9).sign).toBe(-1);
    expect(logHyp2f1(-3, 2.5, 1.5, 0.9)).toBeNaN();
    expect(hyp2f1(1, 1, 2, 1.5)).toBeNaN();
    expect(hyp2f1(1, 1, -2, 0.5)).toBeNaN();
    expect(hyp2f1(1, 1, 2, 1)).toBeNaN(); // diverges: c − a − b = 0
    expect(hyp2f1(2, 3, 4, 0)).toBe(1);
  });
});

describe('hyp2f1: transformations agree with the direct series (property-based)', () => {
  const parameter = fc.double({ min: 0.1, max: 15, noNaN: true });
  const cParameter = fc.double({ min: 0.5, max: 20, noNaN: true });

  /**
   * Σ |terms| / |Σ terms| of the Gauss series: how many digits an alternating series loses to
   * cancellation. Tolerances scale with it so that a property only fails on a real disagreement.
   */
  function cancellation(a: number, b: number, c: number, z: number): number {
    let term = 1;
    let absolute = 1;
    for (let n = 0; n < 100_000; n++) {
      term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
      absolute += Math.abs(term);
      if (Math.abs(term) < 1e-17 * absolute && n > 10) break;
    }
    return absolute / Math.abs(hyp2f1Series(a, b, c, z));
  }
  const tolerance = (...conditions: number[]) => 1e-12 + 1e-14 * Math.max(...conditions);

  it('Euler: 2F1(a, b; c; z) = (1 − z)^(c−a−b) 2F1(c−a, c−b; c; z) for |z| ≤ 0.5', () => {
    fc.assert(
      fc.property(
        parameter,
        parameter,
        cParameter,
        fc.double({ min: -0.5, max: 0.5, noNaN: true }),
        (a, b, c, z) => {
          const direct = hyp2f1Series(a, b, c, z);
          const euler = (1 - z) ** (c - a - b) * hyp2f1Series(c - a, c - b, c, z);
          expectRelative(
            euler,
            direct,
            tolerance(cancellation(a, b, c, z), cancellation(c - a, c - b, c, z)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('Pfaff: 2F1(a, b; c; z) = (1 − z)^−a 2F1(a, c−b; c; z/(z−1)) for −0.5 ≤ z ≤ 0.4', () => {
    fc.assert(
      fc.property(
        parameter,
        parameter,
        cParameter,
        fc.double({ min: -0.5, max: 0.4, noNaN: true }),
        (a, b, c, z) => {
          const w = z / (z - 1);
          const direct = hyp2f1Series(a, b, c, z);
          const pfaff = (1 - z) ** -a * hyp2f1Series(a, c - b, c, w);
          expectRelative(pfaff, direct, tolerance(cancellation(a, b, c, z), cancellation(a, c - b, c, w)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the dispatcher (series, Euler, Pfaff or connection formula) matches the direct series for z in [−0.9, 0.99]', () => {
    fc.assert(
      fc.property(
        parameter,
        parameter,
        cParameter,
        fc.double({ min: -0.9, max: 0.99, noNaN: true }),
        (a, b, c, z) => {
          // The connection formula (z > 0.9) adds the rounding of lnΓ and of its two parts: 1e−10.
          expectRelative(
            hyp2f1(a, b, c, z),
            hyp2f1Series(a, b, c, z),
            1e-10 + tolerance(cancellation(a, b, c, z)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
