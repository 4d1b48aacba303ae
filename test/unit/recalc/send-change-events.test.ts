/**
 * Sending a run's change events from its change files (the outbox): file by file with a checkpoint,
 * stopping before the time runs out and resuming where it stopped, every event with a stable id.
 */
import { describe, expect, it } from 'vitest';
import type { CustomerChangeEvent } from '#app/ports/change-events.ts';
import { sendChangeEventsStep } from '#app/recalc/send-change-events.ts';
import type { FittedRun, RecalcDeps } from '#app/recalc/types.ts';
import { changesPrefix, changesSentKey } from '#domain/bucket-layout.ts';

const RUN_ID = 'r2';
const change = (i: number) =>
  JSON.stringify({
    customerId: `c${i}`,
    previousSegment: 'Champions',
    segment: 'At Risk',
    previousChurnRisk: 'low',
    churnRisk: 'medium',
  });

/** In-memory run files with three change files of 2, 3 and 1 changes, and a recording publisher. */
function fixture() {
  const files = new Map<string, string>([
    [`${changesPrefix(RUN_ID)}part-00000.jsonl`, `${change(0)}\n${change(1)}\n`],
    [`${changesPrefix(RUN_ID)}part-00001.jsonl`, `${change(2)}\n${change(3)}\n${change(4)}\n`],
    [`${changesPrefix(RUN_ID)}part-00002.jsonl`, `${change(5)}\n`],
  ]);
  const sent: Array<{ batchId: string; events: readonly CustomerChangeEvent[] }> = [];
  let failNext = false;
  const deps = {
    files: {
      listKeys: async (prefix: string) => [...files.keys()].filter((k) => k.startsWith(prefix)).sort(),
      getText: async (key: string) => files.get(key)!,
      getJson: async (key: string) => (files.has(key) ? JSON.parse(files.get(key)!) : undefined),
      putJson: async (key: string, value: unknown) => void files.set(key, JSON.stringify(value)),
    },
    publisher: {
      async publishBatch(_runId: string, batchId: string, events: readonly CustomerChangeEvent[]) {
        if (failNext) {
          failNext = false;
          throw new Error('bus unavailable');
        }
        sent.push({ batchId, events });
        return events.length;
      },
    },
    lock: { acquire: async () => ({}) },
    logger: { info() {}, warn() {}, error() {} },
    now: () => new Date('2026-01-05T06:00:00Z'),
  } as unknown as RecalcDeps;
  const run = {
    runId: RUN_ID,
    previousRunId: 'r1',
    asOf: '2026-01-04',
    config: { hashIdsInEvents: false },
  } as unknown as FittedRun;
  return { deps, run, files, sent, failOnce: () => (failNext = true) };
}

describe('sending change events', () => {
  it('sends every change file as one batch, each event with a stable id', async () => {
    const { deps, run, sent, files } = fixture();
    expect(await sendChangeEventsStep(deps, run)).toEqual({ done: true, events: 6, filesSent: 3, files: 3 });
    expect(sent.map((b) => b.batchId)).toEqual(['part-00000', 'part-00001', 'part-00002']);
    const ids = sent.flatMap((b) => b.events.map((e) => e.eventId));
    expect(new Set(ids).size).toBe(6);
    expect(JSON.parse(files.get(changesSentKey(RUN_ID))!).events).toBe(6);
  });

  it('stops when time runs short and resumes where it stopped, without sending a file twice', async () => {
    const { deps, run, sent } = fixture();
    // Plenty of time for the first file, then less than the safety margin.
    const times = [600_000, 30_000];
    const first = await sendChangeEventsStep(deps, run, () => times.shift() ?? 0);
    expect(first).toEqual({ done: false, events: 2, filesSent: 1, files: 3 });
    const second = await sendChangeEventsStep(deps, run);
    expect(second).toEqual({ done: true, events: 6, filesSent: 3, files: 3 });
    expect(sent.map((b) => b.batchId)).toEqual(['part-00000', 'part-00001', 'part-00002']);
  });

  it('after a failed send, a retry resends only the files not yet in the checkpoint', async () => {
    const { deps, run, sent, failOnce } = fixture();
    const publisher = deps.publisher;
    let calls = 0;
    deps.publisher = {
      publishBatch: async (...args) => {
        if (++calls === 2) failOnce();
        return publisher.publishBatch(...args);
      },
    };
    await expect(sendChangeEventsStep(deps, run)).rejects.toThrow(/bus unavailable/);
    expect(await sendChangeEventsStep(deps, run)).toMatchObject({ done: true, events: 6 });
    expect(sent.map((b) => b.batchId)).toEqual(['part-00000', 'part-00001', 'part-00002']);
  });

  it('sends nothing for a first run (no previous scores to change from)', async () => {
    const { deps, run, sent } = fixture();
    expect(await sendChangeEventsStep(deps, { ...run, previousRunId: null })).toMatchObject({
      done: true,
      events: 0,
    });
    expect(sent).toEqual([]);
  });
});
