/**
 * Change-event publisher for AWS: a run's customer change events to an EventBridge bus in batches,
 * resending entries EventBridge failed with backoff.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import {
  CHANGE_EVENT_DETAIL_TYPE,
  CHANGE_EVENT_SOURCE,
  type ChangeEventPublisher,
} from '#app/ports/change-events.ts';

export interface EventBridgePublisherOptions {
  /** Attempts per batch for entries EventBridge reports as failed (throttling). @default 8 */
  maxAttempts?: number;
  /** @default 100 */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** PutEvents takes at most 10 entries per call. */
const ENTRIES_PER_CALL = 10;

/**
 * Sends change events to an EventBridge bus. PutEvents can accept a call yet fail single entries
 * (FailedEntryCount, e.g. ThrottlingException): those entries are sent again with backoff.
 * Sending a batch again resends its events; consumers de-duplicate on `eventId`.
 */
export function createEventBridgePublisher(
  client: EventBridgeClient,
  eventBusName: string,
  options: EventBridgePublisherOptions = {},
): ChangeEventPublisher {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function send(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) {
        throw new Error(
          `EventBridge bus ${eventBusName}: ${pending.length} change events still failing after ${maxAttempts} attempts`,
        );
      }
      if (attempt > 0) await sleep(Math.random() * Math.min(5000, baseDelayMs * 2 ** attempt));
      const result = await client.send(new PutEventsCommand({ Entries: pending }));
      if (!result.FailedEntryCount) return;
      // Result entries are positional: an entry with an ErrorCode failed.
      pending = pending.filter((_, i) => result.Entries?.[i]?.ErrorCode !== undefined);
    }
  }

  return {
    // Each event names its run and carries its id in the detail; run and batch ids are for
    // publishers that file by run.
    async publishBatch(_runId, _batchId, events): Promise<number> {
      for (let start = 0; start < events.length; start += ENTRIES_PER_CALL) {
        await send(
          events.slice(start, start + ENTRIES_PER_CALL).map((event) => ({
            EventBusName: eventBusName,
            Source: CHANGE_EVENT_SOURCE,
            DetailType: CHANGE_EVENT_DETAIL_TYPE,
            Detail: JSON.stringify(event),
          })),
        );
      }
      return events.length;
    },
  };
}
