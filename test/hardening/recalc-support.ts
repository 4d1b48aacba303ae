/**
 * A small real data set for recalculation hardening tests: the first 300 customers of the CDNOW-derived
 * sample (`data/sample/orders.csv`), ingested through the real ingest. Small enough that a run takes
 * seconds on the stand-ins, large enough for the models to fit.
 */
import { readFileSync } from 'node:fs';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import type { LocalStack } from '#infra/local/stack.ts';
import { upload } from '../integration/ingest/support.ts';

export const SAMPLE_FILE = new URL('../../data/sample/orders.csv', import.meta.url);
export const RUN_SETTINGS = { asOf: '1998-06-30', config: { currency: 'USD', holdoutWeeks: 39 } };

/** The sample's rows of customers `0001`–`0300`, as CSV text with the sample's header. */
export function smallSample(): { text: string; customers: string[] } {
  const [header, ...lines] = readFileSync(SAMPLE_FILE, 'utf8').trim().split('\n');
  const kept = lines.filter((line) => (line.split(',')[1] ?? '') <= '0300');
  const customers = [...new Set(kept.map((line) => line.split(',')[1]!))];
  return { text: `${header}\n${kept.join('\n')}\n`, customers };
}

export async function ingestSmallSample(stack: LocalStack): Promise<string[]> {
  const { text, customers } = smallSample();
  const ref = await upload(stack, 'incoming/cdnow/small.csv', text);
  const report = await ingestObject({ config: stack.config, clients: stack.clients }, ref);
  if (report.status !== 'succeeded') throw new Error(`sample ingest ${report.status}: ${report.message}`);
  return customers;
}

/**
 * Reads the way the API does, in a loop, until stopped: pointer → run record → scores of a few
 * customers in that run. Every read must find a published run whose scores are all there.
 */
export function watchReaders(stack: LocalStack, customers: readonly string[]) {
  const store = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
  const readModel = createScoreReadModel(stack.clients, stack.config.table);
  const violations: string[] = [];
  const runsSeen = new Set<string>();
  let reads = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const runId = await store.getCurrentRunId();
      if (runId !== null) {
        runsSeen.add(runId);
        const record = await store.getRunRecord(runId);
        if (record?.status !== 'published')
          violations.push(`pointer names run ${runId} with status ${record?.status}`);
        for (const customer of customers) {
          if (!(await readModel.getScore(customer, runId)))
            violations.push(`run ${runId} has no score for ${customer}`);
        }
        reads++;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { violations, reads, runsSeen: [...runsSeen] };
    },
  };
}
