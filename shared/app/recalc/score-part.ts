/**
 * Step 4 of the recalculation, one Distributed Map item per summary part: scores, segments, value
 * tiers, migration counts and changes of the part's customers; writes their score items.
 */

import { partAudienceRowsKey, partChangesKey, partName, partResultKey } from '#domain/bucket-layout.ts';
import {
  addMigration,
  addToSegment,
  type CustomerChange,
  detectChange,
  NEW_CUSTOMERS_ROW,
} from '#domain/migration.ts';
import { buildScores } from '#domain/recalc/scoring.ts';
import { expiresAfterWeeks } from '#domain/recalc/settings.ts';
import { periodLengthDays } from '#domain/recalc-config.ts';
import { createReportAccumulator } from '#domain/report/aggregates.ts';
import { assertStorableScores } from '#domain/storable-numbers.ts';
import { hashCustomerId } from '../customer-id-hash.ts';
import type { PreviousScore } from '../ports/score-repository.ts';
import { createEconomicsScoring } from './economics-scoring.ts';
import { renewLease } from './lease.ts';
import { recordPartFailure } from './part-check.ts';
import { createPlaybookPart, highValueDetractorRowOf, withPlaybookChange } from './playbook.ts';
import { runRetentionWeeks } from './run-settings.ts';
import { loggedStep } from './step-log.ts';
import { customerSummaryDecoder } from './summary-decoder.ts';
import { loadSuppressed } from './suppressed.ts';
import type { PartResult, RecalcDeps, ScorePartInput } from './types.ts';

/**
 * Step 4 (one Distributed Map item): scores the customers of one summary part, writes their score
 * items under the run id, and stores the part's segment totals, migration counts and changed
 * customers for `finalize`. Repeating it for a part rewrites the same items and files.
 */
export function scorePartStep(deps: RecalcDeps, input: ScorePartInput): Promise<PartResult> {
  return loggedStep(
    deps.logger,
    'scorePart',
    input.run.runId,
    async () => {
      await renewLease(deps, input.run);
      // A resumed run keeps the parts its earlier attempt scored (same fitted state, same items).
      if (input.run.attempt) {
        const done = (await deps.files.getJson(partResultKey(input.run.runId, input.partKey))) as
          | PartResult
          | undefined;
        if (done?.partKey === input.partKey) return { ...done, resumed: true };
      }
      try {
        return await scorePart(deps, input);
      } catch (error) {
        // The part check names the part with this error; a timeout or kill leaves none.
        await recordPartFailure(deps, input.run.runId, input.partKey, error);
        throw error;
      }
    },
    (r) => ({
      part: partName(r.partKey),
      skipped: r.resumed === true,
      customers: r.customers,
      suppressed: r.suppressed,
      changes: r.changes,
      writeCalls: r.writes.calls,
      writeRetries: r.writes.retries,
    }),
  );
}

async function scorePart(deps: RecalcDeps, input: ScorePartInput): Promise<PartResult> {
  const { run, partKey } = input;
  const computedAt = deps.now().toISOString();
  const expiresAt = expiresAfterWeeks(new Date(run.startedAt), runRetentionWeeks(deps, run.config));
  const suppressedHashes = await loadSuppressed(deps, run);
  const decode = customerSummaryDecoder(deps, run);

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
  // Report distributions are in weeks; period families summarize in periods (a year, a month).
  const toWeeks =
    run.config.family === 'noncontractual-continuous'
      ? run.config.timeUnit === 'weeks'
        ? 1
        : 1 / 7
      : periodLengthDays(run.config) / 7;
  const changes: CustomerChange[] = [];
  const economics = createEconomicsScoring(run);
  const playbook = createPlaybookPart(run);
  const audienceRows: string[] = [];
  // A part key is an exact object key; reading it "as a prefix" yields just that part.
  for await (const batch of deps.files.readParts(partKey, decode)) {
    const rows = batch.filter(
      (row) => suppressedHashes.size === 0 || !suppressedHashes.has(hashCustomerId(row.customerId)),
    );
    result.suppressed += batch.length - rows.length;
    const scores = buildScores(run, rows, computedAt);
    economics.score(rows, scores);
    assertStorableScores(`Run ${run.runId}, part ${partName(partKey)}: scores`, scores);
    const previous = run.previousRunId
      ? await deps.scores.getPreviousScores(
          scores.map((s) => s.customerId),
          run.previousRunId,
        )
      : new Map<string, PreviousScore>();
    for (const [i, built] of scores.entries()) {
      const evaluated = playbook.evaluate(built, previous.get(built.customerId));
      const score = evaluated.score;
      scores[i] = score;
      // A listed customer's row also carries what the high-value detractors file needs (finalize
      // writes the list from these rows, so it is ranked across parts like the audiences).
      audienceRows.push(
        JSON.stringify(
          score.economics?.highValueDetractor
            ? { ...evaluated.row, highValueDetractor: highValueDetractorRowOf(score) }
            : evaluated.row,
        ),
      );
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
      const change = withPlaybookChange(detectChange(score.customerId, before, score), before, score);
      if (change) changes.push(change);
    }
    const stats = await deps.scores.writeScores(scores, expiresAt, run.indexShards ?? 1);
    result.customers += scores.length;
    result.writes.calls += stats.calls;
    result.writes.retries += stats.retries;
  }
  result.changes = changes.length;
  result.report = report.result();
  const economicsSums = economics.result();
  if (economicsSums) result.economics = economicsSums;
  result.playbook = playbook.result();
  await deps.files.putText(
    partAudienceRowsKey(run.runId, partKey),
    audienceRows.join('\n'),
    'application/x-ndjson',
  );
  await deps.files.putText(
    partChangesKey(run.runId, partKey),
    changes.map((change) => JSON.stringify(change)).join('\n'),
    'application/x-ndjson',
  );
  await deps.files.putJson(partResultKey(run.runId, partKey), result);
  return result;
}
