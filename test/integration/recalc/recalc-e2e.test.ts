import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexShardOf, segmentPartition } from '#adapters/dynamo/keys.ts';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { readLocalEvents } from '#adapters/events/jsonl-publisher.ts';
import { pipelineStepNames } from '#app/recalc/pipeline.ts';
import { GONE_COLUMN, migrationRowSums, NEW_CUSTOMERS_ROW } from '#domain/migration.ts';
import { fitBgNbd } from '#domain/models/bgnbd.ts';
import { indexShardCount } from '#domain/recalc/index-shards.ts';
import { compressSummary, summarizeTransactions } from '#domain/rfm-summary.ts';
import { runRecordSchema } from '#domain/run.ts';
import { customerScoreSchema } from '#domain/score.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample, sampleTransactions, scoresOfRun } from './sample.ts';

const AS_OF = '1998-06-30';

// Each full run writes ~2,350 items to dynalite (~500 items/s in-process): allow minutes, not seconds.
describe('weekly recalculation end to end (ingest → recalc → DynamoDB)', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  let first: Awaited<ReturnType<typeof runLocalRecalculation>>;
  const summary = summarizeTransactions(sampleTransactions(), { observationEnd: AS_OF, unit: 'weeks' });

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
    first = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: { currency: 'USD', holdoutWeeks: 39 },
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('ran the steps of the pipeline definition in its order', () => {
    expect(Object.keys(first.timings)).toEqual(pipelineStepNames());
  });

  it('fits BG/NBD parameters equal to the engine on the same summary', () => {
    const engine = fitBgNbd(compressSummary(summary));
    expect(first.record.model?.name).toBe('bgnbd');
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      expect(first.record.model!.params[name]).toBeCloseTo(engine.params[name], 6);
    }
    expect(first.record.model!.logLikelihood).toBeCloseTo(engine.logLikelihood, 6);
    expect(first.record.customers).toBe(summary.customerIds.length);
    expect(first.record.spendModel?.name).toBe('gammagamma');
  });

  it('publishes a valid run record with holdout accuracy and the CLV settings it used', async () => {
    const store = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const stored = await store.getRunRecord(first.record.runId);
    expect(runRecordSchema.parse(stored)).toEqual(first.record);
    expect(stored?.status).toBe('published');
    expect(stored?.clvSettings).toMatchObject({ horizonMonths: 12, annualDiscountRate: 0.1, margin: 1 });
    const holdout = stored!.holdout!;
    expect(holdout).toMatchObject({ calibrationEnd: '1997-09-30', holdoutEnd: AS_OF, model: 'bgnbd' });
    // Actual holdout repeat purchase days of the CDNOW calibration customers, by the engine's rules.
    const split = summarizeTransactions(sampleTransactions(), {
      observationEnd: AS_OF,
      calibrationEnd: '1997-09-30',
      unit: 'weeks',
    });
    expect(holdout.actualRepeatPurchases).toBe(split.holdout!.frequency.reduce((s, v) => s + v, 0));
    const holdoutWeeks = holdout.weekly.filter((w) => w.period === 'holdout');
    expect(holdoutWeeks).toHaveLength(39);
    expect(holdoutWeeks.reduce((s, w) => s + w.actual, 0)).toBe(holdout.actualRepeatPurchases);
    expect(Math.abs(holdout.aggregateErrorPct!)).toBeLessThan(20);
    expect(await store.getCurrentRunId()).toBe(first.record.runId);
  });

  it('gives every customer exactly one valid score in the current run, and segment counts sum to the customers', async () => {
    const names = first.record.segments.map((s) => s.segment);
    const items = await scoresOfRun(stack, first.record.runId, names);
    const ids = items.map((item) => item.customerId as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(summary.customerIds));
    expect(first.record.segments.reduce((s, seg) => s + seg.customers, 0)).toBe(summary.customerIds.length);
    for (const item of items.slice(0, 200)) {
      const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, expiresAt, ...score } = item;
      expect(customerScoreSchema.parse(score).runId).toBe(first.record.runId);
      expect(expiresAt).toBeGreaterThan(Date.now() / 1000);
    }
    // The run chose its index shards from its size and wrote every customer under its shard's key.
    expect(first.record.indexShards).toBe(
      indexShardCount({ customers: summary.customerIds.length, scoreConcurrency: 4 }),
    );
    expect(first.record.indexShards).toBeGreaterThan(1);
    for (const item of items) {
      const shard = indexShardOf(item.customerId as string, first.record.indexShards!);
      expect(item.gsi1pk).toBe(`${segmentPartition(first.record.runId, item.segment as string)}#${shard}`);
    }
    const shares = first.record.segments.reduce((s, seg) => s + seg.shareOfValue, 0);
    expect(shares).toBeCloseTo(1, 9);
    // Value tiers follow the CLV thresholds: about 1 % of customers are top1.
    const top1 = items.filter((item) => item.valueTier === 'top1').length;
    expect(top1).toBeGreaterThanOrEqual(Math.ceil(0.01 * ids.length));
    expect(top1).toBeLessThan(0.02 * ids.length);
  });

  it('scores a customer as the engine predicts (spot check of one CDNOW customer)', async () => {
    const store = createScoreReadModel(stack.clients, stack.config.table);
    const score = await store.getScore('0001', first.record.runId);
    expect(score).not.toBeNull();
    // Customer 0001 bought on 4 days up to the as-of date: 1997-01-01 (first), 01-18, 08-02, 12-12.
    expect(score).toMatchObject({ frequency: 3, historicOrders: 4, currency: 'USD', asOf: AS_OF });
    expect(score!.historicRevenue).toBeCloseTo(29.33 + 29.73 + 14.96 + 26.48, 2);
    expect(score!.recency).toBeCloseTo(
      (Date.parse('1997-12-12') - Date.parse('1997-01-01')) / 86_400_000 / 7,
      9,
    );
  });

  it('a second run produces a migration matrix whose rows sum to the previous run sizes, and change events', async () => {
    const second = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      model: 'mbgnbd',
      config: { currency: 'USD', holdoutWeeks: 39, churnBands: { lowRiskMin: 0.8, mediumRiskMin: 0.4 } },
    });
    expect(second.record.previousRunId).toBe(first.record.runId);
    const sums = migrationRowSums(second.record.migration!);
    for (const segment of first.record.segments) {
      if (segment.customers > 0) expect(sums[segment.segment]).toBe(segment.customers);
    }
    expect(sums[NEW_CUSTOMERS_ROW]).toBeUndefined();
    expect(Object.values(second.record.migration!).every((row) => row[GONE_COLUMN] === undefined)).toBe(true);
    // Same data, same RFM scores: nobody changes segment; the stricter churn bands move some customers.
    for (const [from, row] of Object.entries(second.record.migration!))
      expect(Object.keys(row)).toEqual([from]);
    expect(second.events).toBeGreaterThan(0);
    expect(existsSync(second.eventsDirectory!)).toBe(true);
    const events = readLocalEvents(stack.config.home!, second.record.runId);
    expect(events).toHaveLength(second.events);
    const event = events[0]!;
    expect(event).toMatchObject({
      runId: second.record.runId,
      previousRunId: first.record.runId,
      customerIdHashed: false,
    });
    expect(event.churnRisk).not.toBe(event.previousChurnRisk);
  });
});
