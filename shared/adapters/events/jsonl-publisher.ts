/**
 * Change-event publisher for local runs: a run's customer change events as JSON Lines files in place
 * of EventBridge, one file per batch under `<home>/events/<runId>/`.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangeEventPublisher, CustomerChangeEvent } from '#app/ports/change-events.ts';

/** Directory of a run's event files under the local state directory. */
export const localEventDirectory = (home: string, runId: string) => join(home, 'events', runId);

/** Every event a run published locally, in batch order. */
export function readLocalEvents(home: string, runId: string): CustomerChangeEvent[] {
  const directory = localEventDirectory(home, runId);
  let files: string[];
  try {
    files = readdirSync(directory)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
  } catch {
    return [];
  }
  return files.flatMap((file) =>
    readFileSync(join(directory, file), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as CustomerChangeEvent),
  );
}

/**
 * Local stand-in for EventBridge: writes each batch to `<home>/events/<runId>/<batchId>.jsonl`, one
 * JSON object per line. Written to a temporary file and renamed, so a reader never sees half a file
 * and sending a batch again replaces its file instead of duplicating lines.
 */
export function createJsonlPublisher(home: string): ChangeEventPublisher {
  return {
    async publishBatch(runId, batchId, events): Promise<number> {
      const directory = localEventDirectory(home, runId);
      mkdirSync(directory, { recursive: true });
      const target = join(directory, `${batchId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
      const temporary = `${target}.${process.pid}.tmp`;
      const lines = events.map((event) => JSON.stringify(event));
      writeFileSync(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '');
      renameSync(temporary, target);
      return lines.length;
    },
  };
}
