/**
 * Scores customer summary rows with a run's fitted models: one function shared by `fitModels` (CLV
 * sample for the value-tier thresholds) and `scorePart` (the published scores), so both see exactly
 * the same CLV for a customer; and the published score items built from those figures.
 */
import { type CustomerScores, customerScoreAt, scoreCustomers } from '../clv.ts';
import { isPurchaseModelName } from '../models/purchase-models.ts';
import type { FitResult, GammaGammaParams } from '../models/types.ts';
import type { RecalcConfig } from '../recalc-config.ts';
import { parseEpochDay } from '../rfm-summary.ts';
import type { RunRecord } from '../run.ts';
import type { CustomerScore } from '../score.ts';
import { rfmSegment, type ValueTierThresholds, valueTier } from '../segments.ts';
import {
  type FamilyModelName,
  type FamilyValueFactors,
  familyValueFactors,
  isFamilyModelName,
  scoreBgBb,
  scoreSbg,
} from './family-scoring.ts';

/** Horizon of the "expected purchases" figure of a score. */
export const EXPECTED_PURCHASES_DAYS = 90;

/** A fitted model as the run record stores it. */
export type FittedModel = NonNullable<RunRecord['model']>;

/** What scoring needs to know of a run (a subset of the fitted run state). */
export interface ScoringRun {
  runId: string;
  asOf: string;
  config: RecalcConfig & { currency: string };
  model: FittedModel;
  spendModel: RunRecord['spendModel'];
  /** Mean spend per purchase used for customers without a spend estimate (no Gamma-Gamma fit). */
  fallbackSpend: number;
  tierThresholds: ValueTierThresholds;
}

/** One customer's full-period summary as the warehouse delivers it (the fields scoring reads). */
export interface SummaryRow {
  customerId: string;
  frequency: number;
  recency: number;
  T: number;
  monetaryValue: number;
  historicRevenue: number;
  historicOrders: number;
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
}

/** A fit as the run record stores it (JSON has no NaN: undefined standard errors become null). */
export function toFittedModel(fit: FitResult<object>): FittedModel {
  const finite = (value: number) => (Number.isFinite(value) ? value : null);
  return {
    name: fit.model,
    params: { ...(fit.params as Record<string, number>) },
    logLikelihood: fit.logLikelihood,
    standardErrors: Object.fromEntries(
      Object.entries(fit.standardErrors as Record<string, number>).map(([k, v]) => [k, finite(v)]),
    ),
    converged: fit.converged,
    customers: fit.customers,
    identified: fit.identified,
    warnings: [...fit.warnings],
  };
}

export function scoreSummaryRows(
  run: Pick<ScoringRun, 'model' | 'spendModel' | 'fallbackSpend' | 'config' | 'asOf'>,
  rows: readonly Pick<SummaryRow, 'frequency' | 'recency' | 'T' | 'monetaryValue'>[],
): CustomerScores {
  const model = run.model.name;
  if (isFamilyModelName(model)) return scoreFamilyRows(model, run, rows);
  if (!isPurchaseModelName(model)) throw new Error(`run model '${model}' is not a purchase model`);
  const n = rows.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const monetary = new Float64Array(n);
  const spend = run.spendModel ? (run.spendModel.params as unknown as GammaGammaParams) : null;
  rows.forEach((row, i) => {
    x[i] = row.frequency;
    tx[i] = row.recency;
    T[i] = row.T;
    // Without a spend model every customer without a repeat-purchase mean gets the run-wide mean,
    // the same in every part (the engine's own fallback would average within the part only).
    monetary[i] = spend || row.monetaryValue > 0 ? row.monetaryValue : run.fallbackSpend;
  });
  const unitDays = run.config.timeUnit === 'weeks' ? 7 : 1;
  return scoreCustomers(
    model,
    run.model.params,
    spend,
    { x, tx, T, monetaryValue: monetary },
    {
      unit: run.config.timeUnit,
      horizonMonths: run.config.clv.horizonMonths,
      annualDiscountRate: run.config.clv.annualDiscountRate,
      margin: run.config.clv.margin,
      expectedPurchasesHorizon: EXPECTED_PURCHASES_DAYS / unitDays,
      churnBands: run.config.churnBands,
      observationEnd: parseEpochDay(run.asOf),
    },
  );
}

/** Dispatch to the period families: `frequency`, `recency` and `T` are x, t_x and n in periods. */
function scoreFamilyRows(
  model: FamilyModelName,
  run: Pick<ScoringRun, 'model' | 'spendModel' | 'fallbackSpend' | 'config'>,
  rows: readonly Pick<SummaryRow, 'frequency' | 'recency' | 'T' | 'monetaryValue'>[],
): CustomerScores {
  const columns = {
    x: rows.map((r) => r.frequency),
    tx: rows.map((r) => r.recency),
    n: rows.map((r) => r.T),
    monetaryValue: rows.map((r) => r.monetaryValue),
  };
  const options = {
    period: run.config.period,
    campaigns: run.config.campaigns,
    horizonMonths: run.config.clv.horizonMonths,
    annualDiscountRate: run.config.clv.annualDiscountRate,
    margin: run.config.clv.margin,
    churnBands: run.config.churnBands,
    unit: run.config.timeUnit,
  };
  const params = run.model.params;
  if (model === 'sbg') return scoreSbg({ gamma: params.gamma!, delta: params.delta! }, columns, options);
  const spend = run.spendModel ? (run.spendModel.params as unknown as GammaGammaParams) : null;
  return scoreBgBb(
    { alpha: params.alpha!, beta: params.beta!, gamma: params.gamma!, delta: params.delta! },
    spend,
    run.fallbackSpend,
    columns,
    options,
  );
}

/**
 * The period families' discounted expected transactions and months alive of a batch (what their net
 * CLV needs besides the scores); `frequency`, `recency` and `T` are x, t_x and n as in scoring.
 */
export function familyValueFactorsOf(
  run: Pick<ScoringRun, 'model' | 'config'>,
  rows: readonly Pick<SummaryRow, 'frequency' | 'recency' | 'T'>[],
): FamilyValueFactors {
  const model = run.model.name;
  if (!isFamilyModelName(model)) throw new Error(`run model '${model}' is not a period-family model`);
  return familyValueFactors(
    model,
    run.model.params,
    { x: rows.map((r) => r.frequency), tx: rows.map((r) => r.recency), n: rows.map((r) => r.T) },
    {
      period: run.config.period,
      horizonMonths: run.config.clv.horizonMonths,
      annualDiscountRate: run.config.clv.annualDiscountRate,
    },
  );
}

const roundTo = (value: number, digits: number) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The published scores of a batch of summary rows (suppressed customers already removed). */
export function buildScores(
  run: ScoringRun,
  rows: readonly SummaryRow[],
  computedAt: string,
): CustomerScore[] {
  const scores = scoreSummaryRows(run, rows);
  return rows.map((row, i) => {
    const s = customerScoreAt(scores, i);
    const rfm = { r: row.recencyScore, f: row.frequencyScore, m: row.monetaryScore };
    const clv = roundTo(s.clv, 2);
    return {
      customerId: row.customerId,
      runId: run.runId,
      computedAt,
      asOf: run.asOf,
      currency: run.config.currency,
      clv,
      expectedPurchases90d: roundTo(s.expectedPurchases, 4),
      pAlive: Math.min(1, Math.max(0, roundTo(s.probabilityAlive, 6))),
      expectedOrderValue: roundTo(s.expectedSpend, 2),
      expectedNextPurchaseDate: s.expectedNextPurchaseDate,
      churnRisk: s.churnRisk,
      historicRevenue: roundTo(row.historicRevenue, 2),
      historicOrders: row.historicOrders,
      timeUnit: run.config.timeUnit,
      frequency: row.frequency,
      recency: row.recency,
      T: row.T,
      rfm,
      segment: rfmSegment(rfm, run.config.segments),
      valueTier: valueTier(clv, run.tierThresholds),
    };
  });
}
