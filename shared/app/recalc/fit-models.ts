/**
 * Step 3 of the recalculation: holdout check, model choice, full-period fits and the CLV thresholds
 * of the value tiers.
 */

import { fitGammaGamma } from '../../domain/models/gamma-gamma.ts';
import { fitPurchaseModel, PURCHASE_MODEL_NAMES } from '../../domain/models/purchase-models.ts';
import type { PurchaseModelName } from '../../domain/models/types.ts';
import { type HoldoutAccuracy, holdoutAccuracy } from '../../domain/recalc/holdout-check.ts';
import { type FittedModel, scoreSummaryRows, toFittedModel } from '../../domain/recalc/scoring.ts';
import { compressRfm } from '../../domain/rfm-summary.ts';
import { valueTierThresholds } from '../../domain/segments.ts';
import { hashCustomerId } from '../customer-id-hash.ts';
import { selectionQueryParams } from './query-params.ts';
import { loggedStep } from './step-log.ts';
import { loadSuppressed } from './suppressed.ts';
import type { FittedRun, PreparedRun, RecalcDeps } from './types.ts';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Step 3: holdout check (fit on the calibration period, predict the holdout), model choice, fit on
 * the full period (purchase model + Gamma-Gamma spend), and the CLV thresholds of the value tiers.
 */
export function fitModelsStep(deps: RecalcDeps, prepared: PreparedRun): Promise<FittedRun> {
  return loggedStep(
    deps.logger,
    'fitModels',
    prepared.runId,
    () => fitModels(deps, prepared),
    (f) => ({
      model: f.model.name,
      converged: f.model.converged,
      spendModel: f.spendModel?.name ?? null,
      holdoutCheck: f.holdout !== null,
      summaryParts: f.summaryPartKeys.length,
      messages: f.messages.length,
    }),
  );
}

async function fitModels(deps: RecalcDeps, prepared: PreparedRun): Promise<FittedRun> {
  const run = { ...prepared, summaryPartKeys: await summaryPartKeysOf(deps, prepared) };
  const { config } = run;
  const messages: string[] = [];
  const warehouse = await deps.warehouse();
  const statements = deps.queries.statements({
    asOf: run.asOf,
    ...(run.calibrationEnd ? { calibrationEnd: run.calibrationEnd } : {}),
    timeUnit: config.timeUnit,
    currency: config.currency,
    sources: run.sources,
    ...selectionQueryParams(run),
  });
  const fitOptions = { penalizer: config.penalizer };

  // Holdout check: every candidate is fitted on the calibration period and predicts the holdout.
  const candidates: PurchaseModelName[] =
    config.model === 'auto' ? [...PURCHASE_MODEL_NAMES] : [config.model];
  const holdouts = new Map<PurchaseModelName, HoldoutAccuracy>();
  const candidateErrors: Record<string, number | null> = {};
  if (run.calibrationEnd && statements.calibrationHistogram && statements.holdout) {
    const [calibration, holdoutRows, tracking, cohorts] = await Promise.all([
      warehouse.query(statements.calibrationHistogram),
      warehouse.query(statements.holdout),
      warehouse.query(statements.tracking!),
      warehouse.query(statements.cohorts!),
    ]);
    const data = compressRfm(
      calibration.map((r) => r.frequency),
      calibration.map((r) => r.recency),
      calibration.map((r) => r.T),
      calibration.map((r) => r.customers),
    );
    const holdoutDays = (Date.parse(run.asOf) - Date.parse(run.calibrationEnd)) / 86_400_000;
    for (const model of candidates) {
      try {
        const fit = fitPurchaseModel(model, data, { ...fitOptions, skipStandardErrors: true });
        const accuracy = holdoutAccuracy({
          model,
          params: fit.params,
          unit: config.timeUnit,
          calibrationEnd: run.calibrationEnd,
          holdoutEnd: run.asOf,
          holdoutDays,
          rows: holdoutRows,
          tracking,
          cohorts,
        });
        holdouts.set(model, accuracy);
        candidateErrors[model] = accuracy.meanAbsoluteError;
      } catch (error) {
        candidateErrors[model] = null;
        messages.push(`holdout check of ${model} failed: ${messageOf(error)}`);
      }
    }
  } else {
    messages.push(
      `holdout check skipped: no purchases before the calibration end (${config.holdoutWeeks} weeks before ${run.asOf})`,
    );
  }

  // Model choice: the configured model, or under `auto` the lowest per-customer holdout MAE.
  let chosen: PurchaseModelName;
  if (config.model !== 'auto') chosen = config.model;
  else {
    const ranked = [...holdouts.entries()].sort((a, b) => a[1].meanAbsoluteError - b[1].meanAbsoluteError);
    chosen = ranked[0]?.[0] ?? 'bgnbd';
    if (ranked.length === 0) messages.push('model auto: no holdout result, BG/NBD chosen');
  }

  // Full-period fits.
  const [histogram, spendRows] = await Promise.all([
    warehouse.query(statements.histogram),
    warehouse.query(statements.spend),
  ]);
  const full = compressRfm(
    histogram.map((r) => r.frequency),
    histogram.map((r) => r.recency),
    histogram.map((r) => r.T),
    histogram.map((r) => r.customers),
  );
  const model = toFittedModel(fitPurchaseModel(chosen, full, fitOptions));

  let spendModel: FittedModel | null = null;
  let spendCustomers = 0;
  let spendTotal = 0;
  for (const row of spendRows) {
    if (row.monetaryValue > 0) {
      spendCustomers += row.customers;
      spendTotal += row.customers * row.monetaryValue;
    }
  }
  const fallbackSpend = spendCustomers > 0 ? spendTotal / spendCustomers : 0;
  try {
    const fit = fitGammaGamma(
      spendRows.map((r) => r.frequency),
      spendRows.map((r) => r.monetaryValue),
      { ...fitOptions, weights: spendRows.map((r) => r.customers) },
    );
    if (fit.params.q > 1) spendModel = { ...toFittedModel(fit), name: 'gammagamma' };
    else
      messages.push(
        `Gamma-Gamma fit has q = ${fit.params.q} ≤ 1 (infinite mean spend); using observed mean spend`,
      );
  } catch (error) {
    messages.push(`Gamma-Gamma fit failed (${messageOf(error)}); using observed mean spend`);
  }

  const fitted: FittedRun = {
    ...run,
    model,
    spendModel,
    fallbackSpend,
    holdout: holdouts.get(chosen) ?? null,
    candidates: candidateErrors,
    tierThresholds: { top1: 0, top10: 0, top25: 0 },
    messages,
  };
  fitted.tierThresholds = await tierThresholdsOf(deps, fitted);
  return fitted;
}

/** The summary parts the unload step wrote (listed: the Athena task returns no keys). */
async function summaryPartKeysOf(deps: RecalcDeps, run: PreparedRun): Promise<string[]> {
  if (run.summaryPartKeys.length > 0) return run.summaryPartKeys;
  const keys = await deps.files.listParts(run.summaryPrefix);
  if (keys.length === 0) {
    throw new Error(
      `Run ${run.runId}: no customer summaries under ${deps.files.location(run.summaryPrefix)} although ${run.profile.customersSummarized} customers were summarized; the customerSummaries query (queries.customerSummaries) must run between prepare and fitModels`,
    );
  }
  return keys;
}

/**
 * Value tiers rank customers by CLV over the whole base, but parts are scored independently; so the
 * thresholds are computed here from the CLV of every customer (or of every k-th one when the base is
 * larger than `statisticsSampleSize`: an evenly spaced sample, deterministic for a run).
 */
async function tierThresholdsOf(deps: RecalcDeps, run: FittedRun): Promise<FittedRun['tierThresholds']> {
  const suppressed = await loadSuppressed(deps, run);
  const stride = Math.max(1, Math.ceil(run.profile.customersSummarized / run.config.statisticsSampleSize));
  const decode = deps.queries.statements({
    asOf: run.asOf,
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
  }).customerSummaries.decode;
  const clvs: number[] = [];
  let seen = 0;
  for await (const batch of deps.files.readParts(run.summaryPrefix, decode)) {
    const sample = batch.filter(
      (row) =>
        seen++ % stride === 0 && (suppressed.size === 0 || !suppressed.has(hashCustomerId(row.customerId))),
    );
    const scores = scoreSummaryRows(run, sample);
    for (let i = 0; i < scores.length; i++) clvs.push(scores.clv[i]!);
  }
  return valueTierThresholds(clvs, run.config.valueTiers);
}
