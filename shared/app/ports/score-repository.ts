/**
 * The score repository port: a run's score items (batch writes with retries), the previous run's
 * segment and churn band of given customers (migration, change events), and deletes.
 */
import type { LadderState } from '#domain/playbook/playbook-config.ts';
import type { ChurnRisk, CustomerScore } from '#domain/score.ts';

export interface BatchWriteStats {
  items: number;
  /** BatchWriteItem calls, retries included. */
  calls: number;
  /** Calls repeated because of UnprocessedItems or throttling. */
  retries: number;
}

/** The part of a previous score that migration and change detection need. */
export interface PreviousScore {
  segment: string;
  churnRisk: ChurnRisk;
  /** The previous run's playbook fields, for ladder movement; absent on scores without a playbook. */
  clv?: number;
  rung?: string;
  ladderState?: LadderState;
  action?: string;
}

export interface ScoreRepository {
  /**
   * Writes score items with their TTL (epoch seconds); unprocessed items and throttling are retried.
   * `indexShards` is the run's shard count of its segment and audience listings (1 when absent).
   */
  writeScores(
    scores: readonly CustomerScore[],
    expiresAt: number,
    indexShards?: number,
  ): Promise<BatchWriteStats>;
  /** Segment and churn band of each customer in `runId` (absent when the customer had no score). */
  getPreviousScores(customerIds: readonly string[], runId: string): Promise<Map<string, PreviousScore>>;
  /** Deletes the given customers' items of one run. */
  deleteScores(customerIds: readonly string[], runId: string): Promise<BatchWriteStats>;
}
