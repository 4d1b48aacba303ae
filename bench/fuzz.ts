/**
 * `npm run bench -- fuzz`: the ingest fuzzing soak. Generates 10,000 export files from the model in
 * `test/support/export-generator.ts` (smoke: 40) and runs each through the real ingest on one local
 * stack, a few at a time, checking every invariant of `test/hardening/ingest-case.ts`. Reports cases
 * per second and the number of failing cases (target 0); the first failures are printed in full.
 */
import fc from 'fast-check';
import { startLocalStack } from '../infra/local/stack.ts';
import { runIngestCase } from '../test/hardening/ingest-case.ts';
import { exportFileArbitrary } from '../test/support/export-generator.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

/** Cases in flight at once: S3/DynamoDB round trips overlap with another case's DuckDB work. */
const CONCURRENCY = 4;
/** Cases generated per batch (bounded memory: files are small, but 10,000 of them are not). */
const BATCH = 200;

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const total = options.smoke ? 40 : 10_000;
  const seed = Number(process.env.CVM_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const stack = await startLocalStack();
  const failures: string[] = [];
  const statuses: Record<string, number> = {};
  let rows = 0;
  let done = 0;
  const started = performance.now();
  try {
    for (let offset = 0; offset < total; offset += BATCH) {
      const size = Math.min(BATCH, total - offset);
      const cases = fc.sample(exportFileArbitrary({ maxRows: 25 }), { numRuns: size, seed: seed + offset });
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < cases.length) {
            const index = offset + next;
            const generated = cases[next++]!;
            const { report, violations } = await runIngestCase(stack, generated, `soak-${index}`);
            if (report) {
              statuses[report.status] = (statuses[report.status] ?? 0) + 1;
              rows += report.rowsRead;
            }
            if (violations.length > 0) {
              failures.push(...violations);
              if (failures.length <= 5)
                console.error(`  case ${index} (seed ${seed}): ${violations.join('\n    ')}`);
            }
            done++;
            if (done % 500 === 0) {
              const rate = done / ((performance.now() - started) / 1000);
              console.log(
                `  ${done}/${total} cases, ${rate.toFixed(1)} cases/s, ${failures.length} failures`,
              );
            }
          }
        }),
      );
    }
  } finally {
    await stack.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const mix = Object.entries(statuses)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return [
    {
      name: 'ingest fuzz cases',
      value: done,
      unit: 'cases',
      target: { op: '≥', value: total },
      note: `generated exports (seed ${seed}; CVM_FUZZ_SEED repeats it): ${mix}; ${rows} rows read in total`,
    },
    {
      name: 'ingest fuzz failing cases',
      value: failures.length,
      unit: 'cases',
      target: { op: '≤', value: 0 },
      note: failures.slice(0, 3).join(' | ').slice(0, 600) || 'every invariant held in every case',
    },
    {
      name: 'ingest fuzz throughput',
      value: done / seconds,
      unit: 'cases/s',
      note: `${CONCURRENCY} cases in flight, one local stack (s3rver + dynalite), DuckDB per case`,
    },
  ];
}
