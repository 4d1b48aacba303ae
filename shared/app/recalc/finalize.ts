/**
 * Step 5 of the recalculation: merges the parts' results, stores the run record and report, flips
 * the current-run pointer, then sends the change events.
 */

import { reportKey } from '#domain/bucket-layout.ts';
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
import { checkScoredParts } from './part-check.ts';
import { finalizePlaybook } from './playbook-finalize.ts';
import { OTHER_FAMILY_PROFILE_NAME } from './prepare.ts';
import { runRetentionWeeks } from './run-settings.ts';
import { runQueryParams } from './run-statements.ts';
import { loggedStep } from './step-log.ts';
import type { FinalizeResult, FittedRun, RecalcDeps } from './types.ts';
import { deleteAggregateResults } from './warehouse-results.ts';

/**
 * Step 5: merges the parts' results into segment summaries and the migration matrix, stores the run
 * record, flips the current-run pointer (only now do readers see the new scores). The change events
 * (already in the run's change files) are sent by the next step. Refuses to publish when more summary
 * parts have no result than the run tolerates (part-check.ts).
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
      failedParts: f.record.failedParts?.length ?? 0,
    }),
  );
}

async function finalize(deps: RecalcDeps, run: FittedRun): Promise<FinalizeResult> {
  // Every part ran to its end (the Map tolerates item failures): the check decides whether the run
  // may publish with the parts that failed, and names them either way.
  const { results: relevant, failed, customersWithoutNewScore } = await checkScoredParts(deps, run);
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
  if (failed.length > 0) {
    messages.push(
      `${failed.length} of ${run.summaryPartKeys.length} summary parts failed to score (within the tolerated ${run.config.toleratedFailedPartsPercent} %): ${customersWithoutNewScore} customers have no new score in this run and are served from their latest published score`,
    );
  }
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
    ...(failed.length > 0 ? { failedParts: failed, customersWithoutNewScore } : {}),
    ...(run.attempt ? { attempts: run.attempt.number, resumedAt: run.attempt.resumedAt } : {}),
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
  // The profiles' output names as the queries port renders them (the statements are not run again).
  const profiles = [
    deps.queries.sourceProfile({ asOf: run.asOf, sources: run.sources }).name,
    deps.queries.runProfile(runQueryParams(run)).name,
    OTHER_FAMILY_PROFILE_NAME,
  ];
  await deleteAggregateResults(deps, run, profiles);

  return { record };
}
