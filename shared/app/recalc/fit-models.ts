/**
 * Step 3 of the recalculation: holdout check, model choice, full-period fits and the CLV thresholds
 * of the value tiers.
 */

import { fitBgBb } from '#domain/models/bgbb.ts';
import { FIT_ADVICE, ModelFitError } from '#domain/models/fit.ts';
import { fitGammaGamma } from '#domain/models/gamma-gamma.ts';
import { fitPurchaseModel, isIdentifiedFit, type ModelCandidate } from '#domain/models/purchase-models.ts';
import { fitSbg } from '#domain/models/sbg.ts';
import type { FitOptions, PurchaseModelName } from '#domain/models/types.ts';
import { familyModelOf } from '#domain/recalc/family-scoring.ts';
import { type HoldoutAccuracy, holdoutAccuracy } from '#domain/recalc/holdout-check.ts';
import { autoCandidates, chooseAutoModel, rankAutoModels } from '#domain/recalc/model-choice.ts';
import { type FittedModel, scoreSummaryRows, toFittedModel } from '#domain/recalc/scoring.ts';
import type { FamilyPeriod, ModelFamily } from '#domain/recalc-config.ts';
import { compressRfm } from '#domain/rfm-summary.ts';
import { valueTierThresholds } from '#domain/segments.ts';
import { hashCustomerId } from '../customer-id-hash.ts';
import type { Statement } from '../ports/warehouse.ts';
import { economicsGroupsOf } from './economics-scoring.ts';
import { renewLease } from './lease.ts';
import { playbookReferenceOf } from './playbook-reference.ts';
import { fitStatementsOf } from './run-statements.ts';
import { loggedStep } from './step-log.ts';
import { customerSummaryDecoder } from './summary-decoder.ts';
import { loadSuppressed } from './suppressed.ts';
import type { FittedRun, PreparedRun, RecalcDeps } from './types.ts';
import { readQueryRows } from './warehouse-results.ts';

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
    async () => {
      await renewLease(deps, prepared);
      return fitModels(deps, prepared);
    },
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
  // Every statement ran as a warehouse task before this step (Parquet under the run's prefixes):
  // this Lambda only reads the results, it never waits for a query.
  const statements = fitStatementsOf(deps, run);
  const rowsOf = <Row>(statement: Statement<Row>) => readQueryRows(deps, run.runId, statement);
  // Every fit of the run shares the configured budget, so a fit that cannot converge fails the run
  // in bounded time instead of running into the Lambda timeout.
  const fitOptions = { penalizer: config.penalizer, timeLimitMs: config.fitTimeLimitSeconds * 1000 };

  let model: FittedModel;
  let holdout: HoldoutAccuracy | null = null;
  let calibrationModel: FittedModel | null = null;
  const candidateErrors: Record<string, number | null> = {};
  if (config.family !== 'noncontractual-continuous') {
    const histogram = await rowsOf(statements.histogram);
    model = fitFamilyModel(run.runId, config.family, config.period, config.campaigns, histogram, fitOptions);
    if (run.subscriptions) model = { ...model, input: 'subscriptions' };
    messages.push(
      `holdout check not available for the ${config.family} family: the model is checked by its fit only`,
    );
  } else {
    // Holdout check: every candidate is fitted on the calibration period (with standard errors, so
    // that identification is checked) and predicts the holdout.
    let candidates: PurchaseModelName[] = [config.model === 'auto' ? 'bgnbd' : config.model];
    const holdouts = new Map<PurchaseModelName, HoldoutAccuracy>();
    const holdoutCandidates: ModelCandidate[] = [];
    // The calibration fits, kept for the playbook's backtest on the same split.
    const calibrationFits = new Map<string, FittedModel>();
    if (run.calibrationEnd && statements.calibrationHistogram && statements.holdout) {
      const [calibration, holdoutRows, tracking, cohorts] = await Promise.all([
        rowsOf(statements.calibrationHistogram),
        rowsOf(statements.holdout),
        rowsOf(statements.tracking!),
        rowsOf(statements.cohorts!),
      ]);
      const data = compressRfm(
        calibration.map((r) => r.frequency),
        calibration.map((r) => r.recency),
        calibration.map((r) => r.T),
        calibration.map((r) => r.customers),
      );
      if (config.model === 'auto') {
        const auto = autoCandidates(calibration);
        candidates = auto.models;
        if (auto.note) messages.push(auto.note);
      }
      const holdoutDays = (Date.parse(run.asOf) - Date.parse(run.calibrationEnd)) / 86_400_000;
      for (const candidate of candidates) {
        try {
          const fit = fitPurchaseModel(candidate, data, fitOptions);
          calibrationFits.set(candidate, toFittedModel(fit));
          const accuracy = holdoutAccuracy({
            model: candidate,
            params: fit.params,
            unit: config.timeUnit,
            calibrationEnd: run.calibrationEnd,
            holdoutEnd: run.asOf,
            holdoutDays,
            rows: holdoutRows,
            tracking,
            cohorts,
          });
          holdouts.set(candidate, accuracy);
          holdoutCandidates.push({ model: candidate, fit, holdoutError: accuracy.meanAbsoluteError });
          candidateErrors[candidate] = accuracy.meanAbsoluteError;
          if (!isIdentifiedFit(fit)) {
            messages.push(
              `holdout fit of ${candidate} is not identified (${fit.warnings.join('; ') || 'no proper maximum'})${config.model === 'auto' ? ': skipped by the model choice' : ''}`,
            );
          }
        } catch (error) {
          candidateErrors[candidate] = null;
          messages.push(`holdout check of ${candidate} failed: ${messageOf(error)}`);
        }
      }
    } else {
      messages.push(
        `holdout check skipped: no purchases before the calibration end (${config.holdoutWeeks} weeks before ${run.asOf})`,
      );
    }

    // Model choice: the configured model, or under `auto` the lowest per-customer holdout MAE among
    // the identified candidates; when that model's full-period fit fails, the next in rank.
    let ranked: PurchaseModelName[];
    if (config.model !== 'auto') ranked = [config.model];
    else {
      const choice = chooseAutoModel(holdoutCandidates);
      if (choice.note) messages.push(choice.note);
      const order = rankAutoModels(holdoutCandidates);
      ranked = order.length > 0 ? order : [choice.model];
    }

    const histogram = await rowsOf(statements.histogram);
    const full = compressRfm(
      histogram.map((r) => r.frequency),
      histogram.map((r) => r.recency),
      histogram.map((r) => r.T),
      histogram.map((r) => r.customers),
    );
    let fitted: FittedModel | null = null;
    let firstError: unknown = null;
    for (const candidate of ranked) {
      try {
        fitted = toFittedModel(
          fitOrExplain(run.runId, candidate, () =>
            fitWithShortageFallback(candidate, full, fitOptions, messages),
          ),
        );
        break;
      } catch (error) {
        if (!(error instanceof ModelFitError) || ranked.length === 1) throw error;
        firstError ??= error;
        messages.push(`model auto: ${messageOf(error).split('\n')[0]}; trying the next candidate`);
      }
    }
    if (!fitted) throw firstError;
    model = { ...fitted, family: config.family };
    holdout = holdouts.get(model.name as PurchaseModelName) ?? null;
    calibrationModel = calibrationFits.get(model.name) ?? null;
  }
  if (model.identified === false) {
    messages.push(
      `the ${model.name} fit is not identified: ${(model.warnings ?? []).join('; ') || 'no proper maximum'}; its predictions are not supported by the data (try a small penalizer, e.g. 0.01, or another model)`,
    );
  }

  // Spend: Gamma-Gamma on the repeat transactions (sBG uses each member's own payment instead).
  const spendRows = await rowsOf(statements.spend);
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
  if (config.family !== 'contractual') {
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
  }

  const fitted: FittedRun = {
    ...run,
    model,
    spendModel,
    fallbackSpend,
    holdout,
    candidates: candidateErrors,
    tierThresholds: { top1: 0, top10: 0, top25: 0 },
    messages,
  };
  fitted.tierThresholds = await tierThresholdsOf(deps, fitted);
  const economicsGroups = await economicsGroupsOf(deps, fitted);
  if (economicsGroups) fitted.economicsGroups = economicsGroups;
  fitted.playbook = await playbookReferenceOf(deps, fitted, calibrationModel);
  return fitted;
}

/**
 * The penalizer a run falls back to when the data are too short for an unpenalized fit but a
 * penalized one is meaningful (a single repeat buyer, say): lifetimes' usual range is 0.001–0.1,
 * and this little information needs the strong end of it.
 */
export const SHORT_DATA_PENALIZER = 0.1;

/**
 * A full-period purchase-model fit; when the data are too short for it without a penalizer, the fit
 * is made again with {@link SHORT_DATA_PENALIZER} (the engine itself refuses data a penalizer cannot
 * help, e.g. no repeat buyer at all) and the run says so, rather than publishing nothing.
 */
function fitWithShortageFallback(
  model: PurchaseModelName,
  data: Parameters<typeof fitPurchaseModel>[1],
  options: { penalizer: number; timeLimitMs: number },
  messages: string[],
) {
  try {
    return fitPurchaseModel(model, data, options);
  } catch (error) {
    if (!(error instanceof ModelFitError) || error.code !== 'insufficient-data' || options.penalizer > 0) {
      throw error;
    }
    const fit = fitPurchaseModel(model, data, { ...options, penalizer: SHORT_DATA_PENALIZER });
    messages.push(
      `${error.message.replace(/^[^:]+: /, '')} The ${model} fit was made with penalizer ${SHORT_DATA_PENALIZER} instead: treat these scores as a rough prior until more repeat purchases come in.`,
    );
    return fit;
  }
}

/**
 * Runs a full-period fit; a ModelFitError keeps its code and gains the run, the model and what to
 * try, so the failed run record says which fit failed and how to get past it.
 */
function fitOrExplain<T>(runId: string, model: string, attempt: () => T): T {
  try {
    return attempt();
  } catch (error) {
    if (error instanceof ModelFitError) {
      // The engine's own advice names CLI flags; the budget is a run setting it does not know.
      const advice =
        error.code === 'time-limit'
          ? ' Give the fit more time with `fitTimeLimitSeconds` in config/recalc.json, or use weeks instead of days (`timeUnit`).'
          : /\bTry\b/i.test(error.message)
            ? ''
            : ` ${fitAdvice(error.code)}`;
      throw new ModelFitError(
        `Run ${runId}: the ${model} fit on the full period failed (${error.code}): ${error.message}${advice}`,
        error.details,
        error.code,
      );
    }
    throw error;
  }
}

/** What to try after a failed fit, by its error code (the run settings' names). */
export function fitAdvice(code: ModelFitError['code']): string {
  switch (code) {
    case 'no-customers':
    case 'insufficient-data':
      return 'Try: more history (a later as-of date, or exports reaching further back), every source of the business, or another family (`family` in config/recalc.json; e.g. noncontractual-discrete for yearly giving); and check that customer ids are stable across orders.';
    default:
      return `${FIT_ADVICE} In config/recalc.json these are \`model\`, \`timeUnit\` and \`penalizer\`.`;
  }
}

/** BG/BB or sBG on the period histogram (customers observed for at least one opportunity). */
function fitFamilyModel(
  runId: string,
  family: Exclude<ModelFamily, 'noncontractual-continuous'>,
  period: FamilyPeriod,
  campaigns: readonly string[] | undefined,
  histogram: readonly { frequency: number; recency: number; T: number; customers: number }[],
  fitOptions: FitOptions,
): FittedModel {
  // Customers whose first period is the last observed one had no opportunity yet: no information.
  const rows = histogram.filter((r) => r.T >= 1);
  const data = compressRfm(
    rows.map((r) => r.frequency),
    rows.map((r) => r.recency),
    rows.map((r) => r.T),
    rows.map((r) => r.customers),
  );
  const name = familyModelOf(family);
  const fit = fitOrExplain(runId, name, () =>
    name === 'sbg' ? fitSbg(data, fitOptions) : fitBgBb(data, fitOptions),
  );
  return {
    ...toFittedModel(fit),
    family,
    period,
    ...(period === 'campaign' && campaigns ? { campaigns: [...campaigns] } : {}),
  };
}

/** The summary parts the unload step wrote (listed: the Athena task returns no keys). */
async function summaryPartKeysOf(deps: RecalcDeps, run: PreparedRun): Promise<string[]> {
  if (run.summaryPartKeys.length > 0) return run.summaryPartKeys;
  const keys = await deps.files.listParts(run.summaryPrefix);
  if (keys.length === 0) {
    throw new Error(
      `Run ${run.runId}: no customer summaries under ${deps.files.location(run.summaryPrefix)} although ${run.profile.customersSummarized} customers were summarized; the customerSummaries query (queries.customerSummaries) must run between planRun and fitModels`,
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
  const decode = customerSummaryDecoder(deps, run);
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
