import { expiresAfterWeeks } from '../../../shared/adapters/dynamo/keys.ts';
import { putTextObject } from '../../../shared/adapters/s3/objects.ts';
import { readParquetParts } from '../../../shared/adapters/warehouse/parquet-parts.ts';
import { customerSummariesStatement } from '../../../shared/adapters/warehouse/queries.ts';
import { hashCustomerId } from '../../../shared/app/customer-id-hash.ts';
import type { CustomerSummaryRow } from '../../../shared/app/ports/warehouse.ts';
import { partChangesKey, partResultKey } from '../../../shared/domain/bucket-layout.ts';
import { customerScoreAt } from '../../../shared/domain/clv.ts';
import {
  addMigration,
  addToSegment,
  type CustomerChange,
  detectChange,
  NEW_CUSTOMERS_ROW,
} from '../../../shared/domain/migration.ts';
import { createReportAccumulator } from '../../../shared/domain/report/aggregates.ts';
import type { CustomerScore } from '../../../shared/domain/score.ts';
import { rfmSegment, valueTier } from '../../../shared/domain/segments.ts';
import { loadSuppressed } from './fit-models.ts';
import { retentionWeeksOf } from './prepare.ts';
import { scoreSummaryRows } from './scoring.ts';
import type { FittedRun, PartResult, RecalcDeps, ScorePartInput } from './types.ts';

const roundTo = (value: number, digits: number) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The published scores of a batch of summary rows (suppressed customers already removed). */
export function buildScores(
  run: FittedRun,
  rows: readonly CustomerSummaryRow[],
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
      frequency: row.frequency,
      recency: row.recency,
      T: row.T,
      rfm,
      segment: rfmSegment(rfm, run.config.segments),
      valueTier: valueTier(clv, run.tierThresholds),
    };
  });
}

/**
 * Step 4 (one Distributed Map item): scores the customers of one summary part, writes their score
 * items under the run id, and stores the part's segment totals, migration counts and changed
 * customers for `finalize`. Repeating it for a part rewrites the same items and files.
 */
export async function scorePartStep(deps: RecalcDeps, input: ScorePartInput): Promise<PartResult> {
  const { run, partKey } = input;
  const bucket = deps.config.bucket;
  const computedAt = deps.now().toISOString();
  const expiresAt = expiresAfterWeeks(new Date(run.startedAt), retentionWeeksOf(deps, run.config));
  const suppressedHashes = await loadSuppressed(deps, run);
  const decode = customerSummariesStatement({
    asOf: run.asOf,
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
  }).decode;

  const result: PartResult = {
    partKey,
    customers: 0,
    suppressed: 0,
    segments: {},
    migration: {},
    changes: 0,
    writes: { calls: 0, retries: 0 },
    report: createReportAccumulator().result(),
  };
  const report = createReportAccumulator();
  const toWeeks = run.config.timeUnit === 'weeks' ? 1 : 1 / 7;
  const changes: CustomerChange[] = [];
  // A part key is an exact object key; reading it "as a prefix" yields just that part.
  for await (const batch of readParquetParts(deps.s3, bucket, partKey, decode)) {
    const rows = batch.filter(
      (row) => suppressedHashes.size === 0 || !suppressedHashes.has(hashCustomerId(row.customerId)),
    );
    result.suppressed += batch.length - rows.length;
    const scores = buildScores(run, rows, computedAt);
    const previous = run.previousRunId
      ? await deps.runStore.getPreviousScores(
          scores.map((s) => s.customerId),
          run.previousRunId,
        )
      : new Map();
    for (const score of scores) {
      addToSegment(result.segments, score.segment, score.clv);
      report.add({
        clv: score.clv,
        pAlive: score.pAlive,
        frequency: score.frequency,
        recencyWeeks: score.recency * toWeeks,
        TWeeks: score.T * toWeeks,
      });
      const before = previous.get(score.customerId);
      addMigration(result.migration, before?.segment ?? NEW_CUSTOMERS_ROW, score.segment);
      const change = detectChange(score.customerId, before, score);
      if (change) changes.push(change);
    }
    const stats = await deps.runStore.writeScores(scores, expiresAt);
    result.customers += scores.length;
    result.writes.calls += stats.calls;
    result.writes.retries += stats.retries;
  }
  result.changes = changes.length;
  result.report = report.result();
  await putTextObject(
    deps.s3,
    bucket,
    partChangesKey(run.runId, partKey),
    changes.map((change) => JSON.stringify(change)).join('\n'),
    'application/x-ndjson',
  );
  await putTextObject(deps.s3, bucket, partResultKey(run.runId, partKey), JSON.stringify(result));
  return result;
}
