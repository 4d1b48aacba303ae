/**
 * Step 5 of the recalculation: merges the parts' results, stores the run record and report, flips
 * the current-run pointer, then sends the change events.
 */

import { partResultsPrefix, reportKey } from '#domain/bucket-layout.ts';
import {
  completeMigration,
  type MigrationMatrix,
  mergeMigrations,
  mergeSegmentTotals,
  type SegmentTotals,
  summarizeSegments,
} from '#domain/migration.ts';
import { clvSettingsOf, expiresAfterWeeks } from '#domain/recalc/settings.ts';
import { createReportAccumulator } from '#domain/report/aggregates.ts';
import type { RunRecord } from '#domain/run.ts';
import { assertStorableRecord } from '#domain/storable-numbers.ts';
import { mergedEconomics } from './economics-finalize.ts';
import { renewLease } from './lease.ts';
import { finalizePlaybook } from './playbook-finalize.ts';
import { runRetentionWeeks } from './run-settings.ts';
import { loggedStep } from './step-log.ts';
import type { FinalizeResult, FittedRun, PartResult, RecalcDeps } from './types.ts';

/**
 * Step 5: merges the parts' results into segment summaries and the migration matrix, stores the run
 * record, flips the current-run pointer (only now do readers see the new scores). The change events
 * (already in the run's change files) are sent by the next step. Refuses to publish when a summary part has no result (its customers would be
 * missing from the snapshot).
 */
export function finalizeStep(deps: RecalcDeps, run: FittedRun): Promise<FinalizeResult> {
  return loggedStep(
    deps.logger,
    'finalize',
    run.runId,
    async () => {
      await renewLease(deps, run);
      return finalize(deps, run);
    },
    (f) => ({
      customers: f.record.customers,
      segments: f.record.segments.length,
      parts: run.summaryPartKeys.length,
    }),
  );
}

async function finalize(deps: RecalcDeps, run: FittedRun): Promise<FinalizeResult> {
  const resultKeys = await deps.files.listKeys(partResultsPrefix(run.runId));
  const results = (await Promise.all(resultKeys.map((key) => deps.files.getJson(key)))) as PartResult[];
  const scored = new Set(results.map((result) => result.partKey));
  const missing = run.summaryPartKeys.filter((key) => !scored.has(key));
  if (missing.length > 0) {
    throw new Error(
      `Run ${run.runId} cannot be published: ${missing.length} of ${run.summaryPartKeys.length} summary parts were not scored (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}). Score them, then finalize again.`,
    );
  }
  const relevant = results.filter((result) => run.summaryPartKeys.includes(result.partKey));
  let totals: SegmentTotals = {};
  let migration: MigrationMatrix = {};
  let customers = 0;
  const report = createReportAccumulator();
  const economics = mergedEconomics(relevant);
  for (const result of relevant) {
    // Part results written before the report existed carry no aggregates.
    if (result.report) report.merge(result.report);
    totals = mergeSegmentTotals(totals, result.segments);
    migration = mergeMigrations(migration, result.migration);
    customers += result.customers;
  }

  const messages = [...run.messages];
  let completeMatrix: MigrationMatrix | null = null;
  let previousRecord: RunRecord | null = null;
  if (run.previousRunId) {
    const previous = await deps.runs.getRunRecord(run.previousRunId);
    previousRecord = previous;
    if (previous) {
      const sizes = Object.fromEntries(previous.segments.map((s) => [s.segment, s.customers]));
      completeMatrix = completeMigration(migration, sizes);
    } else {
      messages.push(`previous run ${run.previousRunId} has expired: no migration matrix`);
    }
  }

  const playbook = await finalizePlaybook(deps, run, relevant, previousRecord, messages);
  const now = deps.now();
  const record: RunRecord = {
    runId: run.runId,
    status: 'published',
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: now.toISOString(),
    timeUnit: run.config.timeUnit,
    currency: run.config.currency,
    customers,
    model: run.model,
    spendModel: run.spendModel,
    clvSettings: clvSettingsOf(run.config),
    holdout: run.holdout,
    segments: summarizeSegments(
      totals,
      run.config.segments.map((rule) => rule.name),
    ),
    previousRunId: run.previousRunId,
    migration: completeMatrix,
    playbook,
    ...(messages.length > 0 ? { message: messages.join('; ') } : {}),
    ...run.dataSelection,
    ...(economics ? { economics } : {}),
    // Readers query as many index shards as the parts wrote under.
    ...(run.indexShards !== undefined ? { indexShards: run.indexShards } : {}),
  };
  // Checked before anything is written: a run that cannot be stored must fail with the field's name.
  assertStorableRecord(`Run ${run.runId}: run record`, record, customers);
  await deps.runs.putRunRecord(
    record,
    expiresAfterWeeks(new Date(run.startedAt), runRetentionWeeks(deps, run.config)),
  );
  // The report is stored before the pointer flips, so the current run always has one.
  await deps.files.putText(
    reportKey(run.runId),
    await deps.renderReport({ run: record, aggregates: report.result() }),
    'text/html; charset=utf-8',
  );
  await deps.runs.flipCurrentRun(run.runId, run.previousRunId, now);

  return { record };
}
