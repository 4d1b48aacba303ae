/**
 * The change-event port: the event a CRM gets when a customer changes segment or churn-risk band in a
 * published run, and the publisher interface both adapters implement.
 */
import type { CustomerChange } from '#domain/migration.ts';
import { hashCustomerId } from '../customer-id-hash.ts';

/**
 * A customer moved to another segment or churn-risk band in a published run: what a CRM acts on.
 * Sent as the `detail` of an EventBridge event (source {@link CHANGE_EVENT_SOURCE}, detail type
 * {@link CHANGE_EVENT_DETAIL_TYPE}) in AWS, and as one JSON line locally.
 */
export interface CustomerChangeEvent extends CustomerChange {
  type: 'customer.value-changed';
  /**
   * The same for every delivery of this change (run and customer): events are sent at least once
   * (a resumed step may send a batch again), so consumers de-duplicate on it.
   */
  eventId: string;
  runId: string;
  previousRunId: string;
  asOf: string;
  /** True when `customerId` is the SHA-256 hex of the id (the suppression-list hash), not the id. */
  customerIdHashed: boolean;
}

export const CHANGE_EVENT_SOURCE = 'cvm.recalc';
export const CHANGE_EVENT_DETAIL_TYPE = 'Customer value changed';

/**
 * Where change events go. A run's events are sent in batches (one per change file of the run);
 * sending a batch again is safe: a file publisher replaces it, EventBridge consumers de-duplicate on
 * `eventId`.
 */
export interface ChangeEventPublisher {
  /** Publishes one batch of a run's events; returns how many were delivered. */
  publishBatch(runId: string, batchId: string, events: readonly CustomerChangeEvent[]): Promise<number>;
}

export function toChangeEvent(
  change: CustomerChange,
  run: { runId: string; previousRunId: string; asOf: string; hashIds: boolean },
): CustomerChangeEvent {
  return {
    type: 'customer.value-changed',
    eventId: `${run.runId}:${hashCustomerId(change.customerId).slice(0, 32)}`,
    runId: run.runId,
    previousRunId: run.previousRunId,
    asOf: run.asOf,
    ...change,
    customerId: run.hashIds ? hashCustomerId(change.customerId) : change.customerId,
    customerIdHashed: run.hashIds,
  };
}
