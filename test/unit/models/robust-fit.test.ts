// Robust fitting: likelihoods stay finite over the whole parameter range, fits end within budgets
// with typed errors, identification is checked, and the penalizer is lifetimes' (unit-independent).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSummaryFile, readTransactions } from '#adapters/csv-file.ts';
import { betaGeometricCustomerLogLikelihood, fitBgNbd } from '#domain/models/bgnbd.ts';
import { LOG_PARAM_LIMIT, logSpaceObjective, ModelFitError } from '#domain/models/fit.ts';
import { gammaGammaLogLikelihood } from '#domain/models/gamma-gamma.ts';
import {
  fitParetoNbd,
  paretoNbdCustomerLogLikelihood,
  paretoNbdNoRepeatLogProbability,
  paretoNbdProblem,
} from '#domain/models/pareto-nbd.ts';
import { fitPurchaseModel } from '#domain/models/purchase-models.ts';
import { compressRfm, rfmColumns, summarizeTransactions } from '#domain/rfm-summary.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/cdnow/${name}`, import.meta.url));
const weeks = readSummaryFile(fixture('cdnow_customers_summary.csv'));
const cdnowWeeks = compressRfm(weeks.x, weeks.tx, weeks.T);
const daysSummary = summarizeTransactions(readTransactions(fixture('CDNOW_sample.txt'), 'cdnow'), {
  observationEnd: '1997-09-30',
  unit: 'days',
});
const cdnowDays = compressRfm(daysSummary.frequency, daysSummary.recency, daysSummary.T);
const repeatPurchases = weeks.x.reduce((s, v) => s + v, 0);

/** Parameter grid from 1e-300 to 1e300. */
const GRID = [1e-300, 1e-8, 1e-3, 1, 1e3, 1e8, 1e300];
const ROWS: [number, number, number][] = [
  [0, 0, 10],
  [1, 3, 30],
  [5, 20, 40],
  [100, 40, 40],
];

function* grid4(): Generator<[number, number, number, number]> {
  for (const a of GRID) for (const b of GRID) for (const c of GRID) for (const d of GRID) yield [a, b, c, d];
}

describe('likelihoods over the whole parameter range (1e-300 … 1e300)', () => {
  // BG/NBD and MBG/NBD terms are densities of the x purchase times: their supremum over all
  // parameters is x·ln(x/t_x) − x (a Poisson process at rate x/t_x), which is ≤ 0 for these rows.
  for (const shift of [0, 1] as const) {
    it(`${shift === 0 ? 'BG/NBD' : 'MBG/NBD'}: every customer term is finite and ≤ 0`, () => {
      let checked = 0;
      for (const [r, alpha, a, b] of grid4()) {
        for (const [x, tx, T] of ROWS) {
          const ll = betaGeometricCustomerLogLikelihood(shift, { r, alpha, a, b }, x, tx, T);
          expect(Number.isFinite(ll), `r=${r} alpha=${alpha} a=${a} b=${b} x=${x}`).toBe(true);
          expect(ll).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ll)));
          checked++;
        }
      }
      expect(checked).toBe(GRID.length ** 4 * ROWS.length);
    });
  }

  it('Gamma-Gamma: the log-likelihood is never NaN or +∞', () => {
    const data = {
      x: Float64Array.of(1, 3, 10),
      zbar: Float64Array.of(5, 20, 0.5),
      weight: Float64Array.of(1, 1, 1),
      length: 3,
    };
    for (const p of GRID)
      for (const q of GRID)
        for (const v of GRID) {
          const ll = gammaGammaLogLikelihood([p, q, v], data);
          expect(Number.isNaN(ll) || ll === Number.POSITIVE_INFINITY, `p=${p} q=${q} v=${v}`).toBe(false);
        }
  });

  it('Pareto/NBD: the fit objective is finite or rejects the point (never NaN, never −∞)', () => {
    const data = rfmColumns(
      ROWS.map((r) => r[0]),
      ROWS.map((r) => r[1]),
      ROWS.map((r) => r[2]),
    );
    const objective = logSpaceObjective(paretoNbdProblem(data), 0);
    for (const params of [...grid4()].slice(0, 600)) {
      const value = objective(Float64Array.from(params, Math.log), new Float64Array(4));
      expect(Number.isNaN(value), params.join(',')).toBe(false);
      expect(value).toBeGreaterThan(Number.NEGATIVE_INFINITY);
    }
  });

  it('Pareto/NBD: every customer term is finite, and ≤ 0 where it is a probability (x = 0)', () => {
    // x = 0 rows are P(no repeat purchase in T); rows with purchases are densities in t_x.
    const rows: [number, number, number][] = [...ROWS, [0, 0, 272], [0, 0, 1e-3]];
    for (const [r, alpha, s, beta] of grid4())
      for (const [x, tx, T] of rows) {
        const ll = paretoNbdCustomerLogLikelihood({ r, alpha, s, beta }, x, tx, T);
        const at = `r=${r} alpha=${alpha} s=${s} beta=${beta} x=${x} t_x=${tx} T=${T}: ${ll}`;
        expect(Number.isNaN(ll) || ll === Number.POSITIVE_INFINITY, at).toBe(false);
        if (x === 0) {
          expect(Number.isFinite(ll), at).toBe(true);
          expect(ll, at).toBeLessThanOrEqual(0);
          // P(no purchase) is at least the chance of buying nothing while alive throughout.
          expect(ll, at).toBeGreaterThanOrEqual(-r * Math.log1p(T / alpha) * (1 + 1e-9) - 1e-300);
        }
      }
  });

  it('Pareto/NBD: the no-repeat quadrature agrees with the closed form at ordinary parameters (1e-10)', () => {
    const params: [number, number, number, number][] = [
      [0.5534, 10.5802, 0.6061, 11.6562],
      [0.5534, 74.06, 0.6061, 81.59],
      [2, 1, 0.1, 30],
      [0.1, 50, 3, 2],
      [5, 0.5, 5, 0.5],
    ];
    for (const [r, alpha, s, beta] of params)
      for (const T of [0.5, 1, 10, 39, 78, 272, 5000]) {
        const closed = paretoNbdCustomerLogLikelihood({ r, alpha, s, beta }, 0, 0, T);
        const quadrature = paretoNbdNoRepeatLogProbability(r, alpha, s, beta, T);
        expect(Math.abs(quadrature - closed), `${[r, alpha, s, beta]} T=${T}`).toBeLessThanOrEqual(
          1e-10 * Math.abs(closed),
        );
      }
  });

  it('the objective rejects log-parameters beyond ln(1e300)', () => {
    const objective = logSpaceObjective(paretoNbdProblem(cdnowWeeks), 0);
    expect(objective(Float64Array.of(0, LOG_PARAM_LIMIT + 1, 0, 0))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('fits end within their budgets', () => {
  it('Pareto/NBD on the CDNOW summary in days returns in < 2 s with the weeks log-likelihood', () => {
    const started = Date.now();
    const days = fitParetoNbd(cdnowDays);
    expect(Date.now() - started).toBeLessThan(2000);
    const inWeeks = fitParetoNbd(cdnowWeeks);
    // Same model, other unit: α, β scale by 7; the log-likelihood is a density over the x repeat
    // purchase times, so it differs by exactly Σx · ln 7.
    expect(days.params.alpha / inWeeks.params.alpha).toBeCloseTo(7, 3);
    expect(days.params.beta / inWeeks.params.beta).toBeCloseTo(7, 2);
    expect(days.params.r).toBeCloseTo(inWeeks.params.r, 4);
    // The published summary rounds T to 2 decimals of a week; the days summary is exact.
    expect(days.logLikelihood + repeatPurchases * Math.log(7)).toBeCloseTo(inWeeks.logLikelihood, 1);
    expect(days.identified).toBe(true);
  });

  it('a spent time budget ends with a typed error that says what to try', () => {
    let error: unknown;
    try {
      fitParetoNbd(cdnowDays, { timeLimitMs: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFitError);
    expect((error as ModelFitError).code).toBe('time-limit');
    expect((error as Error).message).toMatch(/another model.*weeks.*penalizer/s);
  });

  it('an exhausted iteration budget ends with code not-converged', () => {
    expect(() => fitBgNbd(cdnowWeeks, { maxIterations: 2 })).toThrow(
      expect.objectContaining({ code: 'not-converged' }),
    );
  });
});

describe('identification and minimum data', () => {
  const codeOf = (fn: () => unknown): string | null => {
    try {
      fn();
      return null;
    } catch (error) {
      if (error instanceof ModelFitError) return error.code;
      throw error;
    }
  };

  for (const model of ['bgnbd', 'mbgnbd', 'pareto'] as const) {
    it(`${model}: all one-time buyers, one customer and 300 identical rows are insufficient data`, () => {
      const oneTime = rfmColumns(new Array(50).fill(0), new Array(50).fill(0), new Array(50).fill(20));
      expect(codeOf(() => fitPurchaseModel(model, oneTime))).toBe('insufficient-data');
      expect(codeOf(() => fitPurchaseModel(model, rfmColumns([3], [10], [20])))).toBe('insufficient-data');
      const identical = compressRfm(new Array(300).fill(2), new Array(300).fill(5), new Array(300).fill(10));
      expect(codeOf(() => fitPurchaseModel(model, identical))).toBe('insufficient-data');
      try {
        fitPurchaseModel(model, oneTime);
      } catch (error) {
        expect((error as Error).message).toContain('one-time buyers');
      }
    });

    it(`${model}: 10 customers or T == recency give an identified fit or a typed error, never NaN`, () => {
      const ten = rfmColumns(
        [0, 1, 2, 0, 5, 1, 0, 3, 0, 1],
        [0, 4, 9, 0, 20, 2, 0, 15, 0, 30],
        [30, 30, 31, 32, 33, 34, 35, 36, 37, 38],
      );
      const atEnd = rfmColumns([1, 2, 3, 0, 4], [10, 20, 30, 0, 40], [10, 20, 30, 5, 40]);
      for (const data of [ten, atEnd]) {
        try {
          const fit = fitPurchaseModel(model, data, { timeLimitMs: 5000 });
          expect(Number.isFinite(fit.logLikelihood)).toBe(true);
          expect(typeof fit.identified).toBe('boolean');
          if (fit.identified) {
            for (const se of Object.values(fit.standardErrors)) expect(Number.isFinite(se)).toBe(true);
          } else expect(fit.warnings.length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(ModelFitError);
        }
      }
    });
  }

  it('CDNOW fits are identified with finite standard errors and no warnings', () => {
    const fit = fitBgNbd(cdnowWeeks);
    expect(fit.identified).toBe(true);
    expect(fit.warnings).toEqual([]);
  });

  it('requireIdentified turns an unidentified fit into a typed error', () => {
    // Two customers, one row each: four parameters cannot be identified.
    const data = rfmColumns([1, 0, 2], [5, 0, 8], [10, 10, 10]);
    try {
      const fit = fitBgNbd(data, { requireIdentified: true, timeLimitMs: 5000 });
      expect(fit.identified).toBe(true);
    } catch (error) {
      expect(['not-identified', 'not-converged']).toContain((error as ModelFitError).code);
    }
  });
});

describe('penalizer exactly as lifetimes 0.11.3', () => {
  it('BetaGeoFitter(penalizer_coef=0.01) on CDNOW (weeks): r 0.2429, alpha 4.4324, a 0.2856, b 0.6585 (±0.0002)', () => {
    const fit = fitBgNbd(cdnowWeeks, { penalizer: 0.01 });
    expect(Math.abs(fit.params.r - 0.2429)).toBeLessThan(2e-4);
    expect(Math.abs(fit.params.alpha - 4.4324)).toBeLessThan(2e-4);
    expect(Math.abs(fit.params.a - 0.2856)).toBeLessThan(2e-4);
    expect(Math.abs(fit.params.b - 0.6585)).toBeLessThan(2e-4);
  });

  it('is unit-independent: in days the same r, a, b and alpha × 7', () => {
    const inWeeks = fitBgNbd(cdnowWeeks, { penalizer: 0.01 });
    const inDays = fitBgNbd(cdnowDays, { penalizer: 0.01 });
    expect(inDays.params.a).toBeCloseTo(inWeeks.params.a, 3);
    expect(inDays.params.b).toBeCloseTo(inWeeks.params.b, 3);
    expect(inDays.params.r).toBeCloseTo(inWeeks.params.r, 3);
    expect(inDays.params.alpha / inWeeks.params.alpha).toBeCloseTo(7, 2);
  });

  it('Pareto/NBD at 0.01 (penalty on the total −LL, as lifetimes): alpha ≈ 10.58 (±0.01)', () => {
    const fit = fitParetoNbd(cdnowWeeks, { penalizer: 0.01 });
    expect(Math.abs(fit.params.alpha - 10.58)).toBeLessThan(0.01);
  });
});

describe('automatic model choice skips unidentified candidates', () => {
  it('picks the lowest holdout error among identified fits', async () => {
    const { chooseIdentifiedModel } = await import('#domain/models/purchase-models.ts');
    const ok = { converged: true, identified: true };
    const flat = { converged: true, identified: false };
    expect(
      chooseIdentifiedModel([
        { model: 'bgnbd', fit: ok, holdoutError: 0.5 },
        { model: 'pareto', fit: flat, holdoutError: 0.1 },
        { model: 'mbgnbd', fit: null, holdoutError: 0.05 },
      ]),
    ).toBe('bgnbd');
    expect(chooseIdentifiedModel([{ model: 'pareto', fit: flat, holdoutError: 0.1 }])).toBeNull();
  });
});
