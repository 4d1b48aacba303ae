/**
 * Customer economics in the recalculation (docs/economics.md): the run-wide group priors of the net
 * ratios (fitModels, over every customer), and per score batch the net CLV, cost to serve, CLV/CAC
 * and satisfaction of each customer plus the report's sums (scorePart). Runs without economics
 * (no `economics` on the run, or summaries without economics columns) pass through untouched.
 */
import { DEFAULT_ECONOMICS_CONFIG } from '#domain/economics/economics-config.ts';
import {
  addEconomicsCustomer,
  type EconomicsAggregates,
  emptyEconomicsAggregates,
} from '#domain/economics/economics-report.ts';
import { customerEconomicsScore } from '#domain/economics/economics-score.ts';
import {
  addToNetRatioGroup,
  discountedExpectedPurchases,
  emptyNetRatioGroups,
  type NetRatioGroups,
} from '#domain/economics/net-contribution.ts';
import { isHighValueDetractor } from '#domain/economics/satisfaction.ts';
import {
  type CustomerEconomicsInput,
  netRatioGroupOf,
  netRatioGroupsOf,
  scoreEconomics,
} from '#domain/economics/score-economics.ts';
import { isPurchaseModelName } from '#domain/models/purchase-models.ts';
import { isFamilyModelName } from '#domain/recalc/family-scoring.ts';
import { familyValueFactorsOf, scoreSummaryRows } from '#domain/recalc/scoring.ts';
import type { CustomerScore } from '#domain/score.ts';
import { hashCustomerId } from '../customer-id-hash.ts';
import type { CustomerSummaryRow } from '../ports/warehouse.ts';
import { customerSummaryDecoder } from './summary-decoder.ts';
import { loadSuppressed } from './suppressed.ts';
import type { FittedRun, RecalcDeps } from './types.ts';

const economicsInputOf = (row: CustomerSummaryRow): CustomerEconomicsInput => ({
  customerId: row.customerId,
  observed: row.economics?.observed ?? null,
  attributes: row.economics?.attributes ? { customerId: row.customerId, ...row.economics.attributes } : null,
  primarySource: row.economics?.primarySource ?? null,
});

/**
 * The groups' observed economics over every (not suppressed) customer of the run: the priors of the
 * customers' net ratios, the same in every part. Undefined for runs without economics.
 */
export async function economicsGroupsOf(
  deps: RecalcDeps,
  run: FittedRun,
): Promise<NetRatioGroups | undefined> {
  if (!run.economics) return undefined;
  const suppressed = await loadSuppressed(deps, run);
  const decode = customerSummaryDecoder(deps, run);
  // Added up as the parts stream by: nothing here grows with the number of customers.
  const groups = emptyNetRatioGroups();
  for await (const batch of deps.files.readParts(run.summaryPrefix, decode)) {
    for (const row of batch) {
      if (!row.economics?.observed) continue;
      if (suppressed.size > 0 && suppressed.has(hashCustomerId(row.customerId))) continue;
      addToNetRatioGroup(groups, netRatioGroupOf(economicsInputOf(row)), row.economics.observed);
    }
  }
  return groups;
}

/** Per-part economics: fills `economics` on each score of a batch and sums the report's figures. */
export function createEconomicsScoring(run: FittedRun) {
  const aggregates = emptyEconomicsAggregates();
  const config = run.config.economics ?? DEFAULT_ECONOMICS_CONFIG;
  const model = run.model.name;
  let used = false;
  return {
    /** `rows` and `scores` as `buildScores` paired them (same order). */
    score(rows: readonly CustomerSummaryRow[], scores: CustomerScore[]): void {
      if (!run.economics || rows.length === 0) return;
      if (rows.some((row) => row.economics === undefined)) return;
      // The period families discount per period and charge service per period alive; the purchase
      // models per month of the horizon with today's P(alive) (docs/economics.md §3).
      let discounted: ArrayLike<number>;
      let aliveMonths: ArrayLike<number> | undefined;
      if (isFamilyModelName(model)) {
        const family = familyValueFactorsOf(run, rows);
        discounted = family.discountedTransactions;
        aliveMonths = family.discountedAliveMonths;
      } else if (isPurchaseModelName(model)) {
        discounted = discountedExpectedPurchases(
          model,
          run.model.params,
          { x: rows.map((r) => r.frequency), tx: rows.map((r) => r.recency), T: rows.map((r) => r.T) },
          {
            unit: run.config.timeUnit,
            horizonMonths: run.config.clv.horizonMonths,
            annualDiscountRate: run.config.clv.annualDiscountRate,
          },
        );
      } else return;
      used = true;
      const columns = scoreSummaryRows(run, rows);
      const customers = rows.map(economicsInputOf);
      const economics = scoreEconomics({
        scores: columns,
        discountedExpectedPurchases: discounted,
        ...(aliveMonths ? { discountedAliveMonths: aliveMonths } : {}),
        customers,
        groups: run.economicsGroups ?? netRatioGroupsOf([]),
        config,
        clvMargin: run.config.clv.margin,
      });
      economics.forEach((e, i) => {
        const score = scores[i]!;
        const attributes = customers[i]!.attributes;
        // The domain rule, on the published tier and the net CLV before rounding.
        const highValueDetractor = isHighValueDetractor(
          {
            customerId: score.customerId,
            valueTier: score.valueTier,
            netClv: e.netClv,
            satisfaction: attributes?.satisfaction ?? null,
          },
          config.highValue,
        );
        score.economics = customerEconomicsScore(e, attributes, highValueDetractor);
        addEconomicsCustomer(aggregates, {
          segment: score.segment,
          historicRevenue: score.historicRevenue,
          historicNetContribution: e.historicNetContribution,
          grossClv: e.grossClv,
          netClv: e.netClv,
          negativeNetContribution: e.negativeNetContribution,
          acquisitionChannel: e.acquisitionChannel,
          acquisitionCost: e.acquisitionCost,
          satisfaction: attributes?.satisfaction ?? null,
          pAlive: score.pAlive,
          purchasedInLastPeriod:
            run.calibrationEnd === null ? null : rows[i]!.lastPurchaseDate > run.calibrationEnd,
          highValueDetractor,
        });
      });
    },
    /** The part's sums; undefined when no batch had economics (the part result stays as before). */
    result(): EconomicsAggregates | undefined {
      return used ? aggregates : undefined;
    },
  };
}
