// Property: fitting random small and degenerate summaries with any model returns within 5 s with
// either finite standard errors (identified), a flagged unidentified result, or a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitBgBb } from '#domain/models/bgbb.ts';
import { ModelFitError } from '#domain/models/fit.ts';
import { fitGammaGamma } from '#domain/models/gamma-gamma.ts';
import { fitPurchaseModel } from '#domain/models/purchase-models.ts';
import { fitSbg } from '#domain/models/sbg.ts';
import type { FitResult } from '#domain/models/types.ts';
import { compressRfm } from '#domain/rfm-summary.ts';

const row = fc
  .record({
    x: fc.integer({ min: 0, max: 30 }),
    T: fc.double({ min: 0, max: 1e5, noNaN: true }),
    u: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ x, T, u }) => ({ x, T, tx: x === 0 ? 0 : u * T }));
const summaries = fc.oneof(
  fc.array(row, { maxLength: 50 }),
  fc.array(
    row.map((r) => ({ ...r, x: 0, tx: 0 })),
    { maxLength: 50 },
  ),
  fc.tuple(row, fc.integer({ min: 1, max: 50 })).map(([r, n]) => new Array(n).fill(r)),
  fc.array(
    row.map((r) => ({ ...r, T: r.T * 1e6, tx: r.tx * 1e6 })),
    { maxLength: 20 },
  ),
  fc.array(
    row.map((r) => ({ ...r, T: r.T / 7, tx: r.tx / 7 })),
    { maxLength: 50 },
  ),
);

function check(run: () => FitResult<object>): void {
  const started = Date.now();
  try {
    const fit = run();
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
    const errors = Object.values(fit.standardErrors as Record<string, number>);
    if (fit.identified) for (const se of errors) expect(Number.isFinite(se)).toBe(true);
    else expect(fit.warnings.length).toBeGreaterThan(0);
    for (const v of Object.values(fit.params as Record<string, number>)) expect(v).toBeGreaterThan(0);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFitError);
  }
  expect(Date.now() - started).toBeLessThan(5000);
}

describe('fits of random and degenerate summaries end in a result or a typed error', () => {
  for (const model of ['bgnbd', 'mbgnbd', 'pareto'] as const) {
    it(model, () => {
      fc.assert(
        fc.property(summaries, (rows) => {
          const data = compressRfm(
            rows.map((r) => r.x),
            rows.map((r) => r.tx),
            rows.map((r) => r.T),
          );
          check(() => fitPurchaseModel(model, data, { timeLimitMs: 4000 }));
        }),
        { numRuns: 15, seed: 20261 },
      );
    }, 120_000);
  }

  it('gamma-gamma, bgbb and sbg', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 8 }),
            fc.integer({ min: 0, max: 8 }),
            fc.double({ min: 0.01, max: 1e4, noNaN: true }),
          ),
          { maxLength: 50 },
        ),
        (rows) => {
          const n = 8;
          const x = rows.map(([a]) => a);
          const tx = rows.map(([a, b]) => (a === 0 ? 0 : Math.max(a, b)));
          check(() => fitBgBb(compressRfm(x, tx, new Array(rows.length).fill(n)), { timeLimitMs: 4000 }));
          check(() =>
            fitSbg(
              compressRfm(
                new Array(rows.length).fill(0),
                rows.map(([, b]) => b),
                new Array(rows.length).fill(n),
              ),
              { timeLimitMs: 4000 },
            ),
          );
          check(() =>
            fitGammaGamma(
              x,
              rows.map(([, , z]) => z),
              { timeLimitMs: 4000 },
            ),
          );
        },
      ),
      { numRuns: 15, seed: 20262 },
    );
  }, 120_000);
});
