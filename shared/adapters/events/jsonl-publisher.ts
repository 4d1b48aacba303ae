/**
 * Change-event publisher for local runs: a run's customer change events as one JSON Lines file per run,
 * in place of EventBridge.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangeEventPublisher, CustomerChangeEvent } from '#app/ports/change-events.ts';

/** Path of a run's event file under the local state directory. */
export const localEventFile = (home: string, runId: string) => join(home, 'events', `${runId}.jsonl`);

/**
 * Local stand-in for EventBridge: writes a run's events to `<home>/events/<runId>.jsonl`, one JSON
 * object per line. Written to a temporary file and renamed, so a reader never sees half a file and
 * publishing a run again replaces its file instead of duplicating lines.
 */
export function createJsonlPublisher(home: string): ChangeEventPublisher {
  return {
    async publishRun(runId: string, events: Iterable<CustomerChangeEvent>): Promise<number> {
      const target = localEventFile(home, runId);
      mkdirSync(join(home, 'events'), { recursive: true });
      const lines: string[] = [];
      for (const event of events) lines.push(JSON.stringify(event));
      const temporary = `${target}.${process.pid}.tmp`;
      writeFileSync(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '');
      renameSync(temporary, target);
      return lines.length;
    },
  };
}
