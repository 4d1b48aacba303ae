/**
 * Scores customer summary rows with the run's fitted models: one function shared by `fitModels`
 * (CLV sample for the value-tier thresholds) and `scorePart` (the published scores), so both see
 * exactly the same CLV for a customer.
 */
import type { CustomerSummaryRow } from '../../../shared/app/ports/warehouse.ts';
import { type CustomerScores, scoreCustomers } from '../../../shared/domain/clv.ts';
import { isPurchaseModelName } from '../../../shared/domain/models/purchase-models.ts';
import type { GammaGammaParams } from '../../../shared/domain/models/types.ts';
import { parseEpochDay } from '../../../shared/domain/rfm-summary.ts';
import type { FittedRun } from './types.ts';

/** Horizon of the "expected purchases" figure of a score. */
export const EXPECTED_PURCHASES_DAYS = 90;

export function scoreSummaryRows(
  run: Pick<FittedRun, 'model' | 'spendModel' | 'fallbackSpend' | 'config' | 'asOf'>,
  rows: readonly CustomerSummaryRow[],
): CustomerScores {
  const model = run.model.name;
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
