/**
 * Seeds the single table with runs, scores and ingest reports through the same writers the pipeline
 * uses (the run store of the publish step, the ingest report repository), so API tests and benchmarks
 * read items exactly as production writes them.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expiresAfterWeeks } from '#adapters/dynamo/keys.ts';
import { createRecalcRepositories } from '#adapters/dynamo/recalc-repositories.ts';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import type { PlaybookSummary } from '#domain/playbook/summary.ts';
import { indexShardsOf, type RunRecord, type SegmentSummary } from '#domain/run.ts';
import { type CustomerScore, DEFAULT_SEGMENT_NAMES } from '#domain/score.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom } from './simulate.ts';

export interface SeedTarget {
  dynamo: DynamoDBDocumentClient;
  table: string;
}

export interface SyntheticRunOptions {
  runId: string;
  asOf: string;
  startedAt: string;
  customers: number;
  /** Segment names to spread customers over. @default DEFAULT_SEGMENT_NAMES */
  segments?: readonly string[];
  /** Customer id of the i-th customer. @default `C${i}` zero-padded to 6 digits */
  customerId?: (index: number) => string;
  /** Seed of the deterministic generator; the same seed gives the same scores. @default 1 */
  seed?: number;
  previousRunId?: string | null;
  /** Index shards the run records and its scores are written under. @default absent (unsharded, as before sharding) */
  indexShards?: number;
  /**
   * Playbook actions to spread customers over (with a value at stake, ties included) and to list in
   * a minimal playbook summary. @default none (no audiences, no playbook)
   */
  actions?: readonly string[];
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * A run record and its scores. About one customer in eight shares its CLV with the previous customer,
 * so listings exercise the tie-break by customer id.
 */
export function syntheticRun(options: SyntheticRunOptions): { run: RunRecord; scores: CustomerScore[] } {
  const random = createRandom(options.seed ?? 1);
  const segments = options.segments ?? DEFAULT_SEGMENT_NAMES;
  const idOf = options.customerId ?? ((index: number) => `C${String(index).padStart(6, '0')}`);
  const computedAt = options.startedAt;
  const scores: CustomerScore[] = [];
  let previousClv = 0;
  for (let index = 0; index < options.customers; index++) {
    const frequency = Math.floor(random() * 12);
    const T = round2(20 + random() * 50);
    const recency = frequency === 0 ? 0 : round2(random() * T);
    const pAlive = frequency === 0 ? 1 : round2(0.05 + random() * 0.95);
    const clv = index > 0 && random() < 0.125 ? previousClv : round2(random() * 500);
    previousClv = clv;
    const score = (n: number) => 1 + Math.floor(n * 5);
    scores.push({
      customerId: idOf(index),
      runId: options.runId,
      computedAt,
      asOf: options.asOf,
      currency: 'USD',
      clv,
      expectedPurchases90d: round2(random() * 3),
      pAlive,
      expectedOrderValue: round2(10 + random() * 90),
      expectedNextPurchaseDate: random() < 0.2 ? null : options.asOf,
      churnRisk: pAlive > 0.7 ? 'low' : pAlive > 0.3 ? 'medium' : 'high',
      historicRevenue: round2(random() * 1_000),
      historicOrders: frequency + 1,
      frequency,
      recency,
      T,
      rfm: { r: score(random()), f: score(random()), m: score(random()) },
      segment: segments[index % segments.length]!,
      valueTier: clv > 450 ? 'top1' : clv > 300 ? 'top10' : clv > 200 ? 'top25' : 'rest',
      ...(options.actions && options.actions.length > 0
        ? {
            action: options.actions[Math.floor(random() * options.actions.length)]!,
            // Few distinct values: audiences tie often and are ordered by customer id.
            valueAtStake: Math.floor(random() * 6) * 12.5,
          }
        : {}),
    });
  }
  const totalClv = scores.reduce((sum, s) => sum + s.clv, 0);
  const summaries: SegmentSummary[] = segments.map((segment) => {
    const members = scores.filter((s) => s.segment === segment);
    const segmentClv = members.reduce((sum, s) => sum + s.clv, 0);
    return {
      segment,
      customers: members.length,
      totalClv: round2(segmentClv),
      meanClv: members.length === 0 ? 0 : round2(segmentClv / members.length),
      shareOfValue: totalClv === 0 ? 0 : Math.min(1, segmentClv / totalClv),
    };
  });
  const run: RunRecord = {
    runId: options.runId,
    status: 'published',
    asOf: options.asOf,
    startedAt: options.startedAt,
    finishedAt: options.startedAt,
    timeUnit: 'weeks',
    currency: 'USD',
    customers: scores.length,
    model: {
      name: 'bgnbd',
      params: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 },
      logLikelihood: -9582.43,
      converged: true,
      customers: scores.length,
    },
    spendModel: {
      name: 'gammagamma',
      params: { p: 6.25, q: 3.74, v: 15.44 },
      logLikelihood: -4055.92,
      converged: true,
      customers: scores.length,
    },
    clvSettings: { horizonMonths: 12, annualDiscountRate: 0.1, margin: 1, periodDays: 365.25 / 12 },
    holdout: null,
    segments: summaries,
    previousRunId: options.previousRunId ?? null,
    migration: null,
    ...(options.indexShards !== undefined ? { indexShards: options.indexShards } : {}),
    ...(options.actions && options.actions.length > 0
      ? { playbook: minimalPlaybook(options.actions, scores) }
      : {}),
  };
  return { run, scores };
}

/** A playbook summary that lists the actions and their audience sizes (what the audience routes read). */
function minimalPlaybook(actions: readonly string[], scores: readonly CustomerScore[]): PlaybookSummary {
  return {
    ladder: { name: 'test ladder', rungs: [], orderNoun: { singular: 'order', plural: 'orders' } },
    positions: [],
    rungStates: {},
    actions: actions.map((action) => {
      const members = scores.filter((score) => score.action === action);
      const valueAtStake = round2(members.reduce((sum, score) => sum + (score.valueAtStake ?? 0), 0));
      return {
        action,
        goal: action === 'let-go' ? 'let-go' : 'retain',
        channel: null,
        description: null,
        customers: members.length,
        valueAtStake,
        successRate: 0.1,
        maxCostPerCustomer: 1,
        totalCost: members.length,
        expectedNetGain: round2(valueAtStake * 0.1 - members.length),
        backtest: null,
        explanation: `${action} audience`,
      };
    }),
    valueAtStakeBasis: 'test',
    backtest: null,
    movement: null,
    previousActions: null,
  };
}

/**
 * Publishes a run the way the publish step does: scores first, then the run record, then (optionally)
 * the pointer flip that makes it current.
 */
export async function seedRun(
  target: SeedTarget,
  data: { run: RunRecord; scores: CustomerScore[] },
  options: { makeCurrent: boolean; expectedPreviousRunId?: string | null } = { makeCurrent: true },
): Promise<void> {
  const { runs, scores } = createRecalcRepositories({ dynamo: target.dynamo, table: target.table });
  const startedAt = new Date(data.run.startedAt);
  const expiresAt = expiresAfterWeeks(startedAt, 26);
  await scores.writeScores(data.scores, expiresAt, indexShardsOf(data.run));
  await runs.putRunRecord(data.run, expiresAt);
  if (options.makeCurrent) {
    const previous = options.expectedPreviousRunId ?? (await runs.getCurrentRunId());
    await runs.flipCurrentRun(data.run.runId, previous, startedAt);
  }
}

/** A succeeded ingest report with the given id and start time. */
export function syntheticIngestReport(ingestId: string, startedAt: string): IngestReport {
  return {
    ingestId,
    source: 'shop',
    key: `incoming/shop/${ingestId}.csv`,
    sha256: ingestId.padEnd(64, '0').slice(0, 64),
    status: 'succeeded',
    rowsRead: 10,
    accepted: 8,
    rejected: 1,
    duplicates: 1,
    rejectReasons: { invalid_amount: 1 },
    amountTotals: { USD: '123.45' },
    cleanKey: `clean/transactions/source=shop/ingest_date=${startedAt.slice(0, 10)}/${ingestId}.parquet`,
    rejectedKey: `rejected/shop/${ingestId}.jsonl`,
    startedAt,
    finishedAt: startedAt,
  };
}

/** Writes an ingest report as the ingest step does: claim (in progress), then the final save. */
export async function seedIngest(target: SeedTarget, report: IngestReport): Promise<void> {
  const repository = new IngestReportRepository(target.dynamo, target.table);
  const claim = await repository.claim(
    { ...report, status: 'in_progress', finishedAt: null },
    new Date(report.startedAt),
    60_000,
  );
  if (!claim.claimed) throw new Error(`Ingest ${report.ingestId} was already seeded`);
  await repository.save(report, claim.leaseToken, { final: true });
}

/** A fresh local stack whose current run is one synthetic run (API tests and the API benchmark). */
export async function startStackWithRun(options: SyntheticRunOptions): Promise<LocalStack> {
  const stack = await startLocalStack();
  await seedRun({ dynamo: stack.clients.dynamo, table: stack.config.table }, syntheticRun(options));
  return stack;
}
