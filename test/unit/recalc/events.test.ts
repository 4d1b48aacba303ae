import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBridgePublisher } from '#adapters/events/eventbridge-publisher.ts';
import {
  createJsonlPublisher,
  localEventDirectory,
  readLocalEvents,
} from '#adapters/events/jsonl-publisher.ts';
import { hashCustomerId } from '#app/customer-id-hash.ts';
import {
  CHANGE_EVENT_DETAIL_TYPE,
  CHANGE_EVENT_SOURCE,
  type CustomerChangeEvent,
  toChangeEvent,
} from '#app/ports/change-events.ts';

const run = { runId: 'r2', previousRunId: 'r1', asOf: '2026-01-04', hashIds: false };
const change = (i: number) => ({
  customerId: `c${i}`,
  previousSegment: 'Champions',
  segment: 'At Risk',
  previousChurnRisk: 'low' as const,
  churnRisk: 'medium' as const,
});
const events = (count: number): CustomerChangeEvent[] =>
  Array.from({ length: count }, (_, i) => toChangeEvent(change(i), run));

describe('change events', () => {
  it('carry plain ids by default and the suppression-list hash when configured', () => {
    expect(toChangeEvent(change(1), run)).toMatchObject({
      customerId: 'c1',
      customerIdHashed: false,
      runId: 'r2',
    });
    const hashed = toChangeEvent(change(1), { ...run, hashIds: true });
    expect(hashed.customerId).toBe(hashCustomerId('c1'));
    expect(hashed.customerId).toMatch(/^[0-9a-f]{64}$/);
    expect(hashed.customerIdHashed).toBe(true);
  });

  it('carry an id that is the same for every delivery of a run’s change of a customer', () => {
    const id = toChangeEvent(change(1), run).eventId;
    expect(toChangeEvent(change(1), run).eventId).toBe(id);
    expect(toChangeEvent(change(1), { ...run, hashIds: true }).eventId).toBe(id);
    expect(toChangeEvent(change(2), run).eventId).not.toBe(id);
    expect(toChangeEvent(change(1), { ...run, runId: 'r3' }).eventId).not.toBe(id);
    // The id never spells the customer id: run id and a hash.
    expect(id).toMatch(/^r2:[0-9a-f]{32}$/);
  });
});

describe('EventBridge publisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterEach(() => eventBridge.reset());

  it('sends events in calls of at most ten entries to the configured bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const publisher = createEventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'cvm-bus');
    expect(await publisher.publishBatch('r2', 'part-00000', events(23))).toBe(23);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    const entry = calls[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({
      EventBusName: 'cvm-bus',
      Source: CHANGE_EVENT_SOURCE,
      DetailType: CHANGE_EVENT_DETAIL_TYPE,
    });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ customerId: 'c0', segment: 'At Risk', runId: 'r2' });
  });

  it('resends exactly the entries EventBridge reports as failed', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: '1' },
          { ErrorCode: 'ThrottlingException' },
          { EventId: '3' },
          { ErrorCode: 'InternalFailure' },
        ],
      })
      .resolves({ FailedEntryCount: 0, Entries: [] });
    const publisher = createEventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'cvm-bus', {
      sleep: async () => {},
    });
    expect(await publisher.publishBatch('r2', 'part-00000', events(4))).toBe(4);
    const resent = eventBridge.commandCalls(PutEventsCommand)[1]!.args[0].input.Entries!;
    expect(resent.map((e) => JSON.parse(e.Detail!).customerId)).toEqual(['c1', 'c3']);
  });

  it('gives up with a clear error when entries keep failing', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    const publisher = createEventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'cvm-bus', {
      sleep: async () => {},
      maxAttempts: 3,
    });
    await expect(publisher.publishBatch('r2', 'part-00000', events(1))).rejects.toThrow(
      /cvm-bus: 1 change events still failing after 3 attempts/,
    );
  });
});

describe('JSON Lines publisher', () => {
  it('writes one file per batch under <home>/events/<runId>/ and replaces a batch sent again', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cvm-events-'));
    try {
      const publisher = createJsonlPublisher(home);
      expect(await publisher.publishBatch('r2', 'part-00001', events(3).slice(2))).toBe(1);
      expect(await publisher.publishBatch('r2', 'part-00000', events(3))).toBe(3);
      expect(await publisher.publishBatch('r2', 'part-00000', events(2))).toBe(2);
      expect(readdirSync(localEventDirectory(home, 'r2')).sort()).toEqual([
        'part-00000.jsonl',
        'part-00001.jsonl',
      ]);
      expect(readLocalEvents(home, 'r2').map((event) => event.customerId)).toEqual(['c0', 'c1', 'c2']);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
