/**
 * `npx tsx bench/summary-parts.ts [customers]`: the customer summaries and the scoring Map at one
 * size (default 100k customers, ~1M transactions, the generator of bench/recalc.ts):
 * - the summaries statement on DuckDB (unload to Parquet), unsplit and in customer-bucket parts;
 * - one local recalculation with `partCustomers` = customers / 4, and each ScorePart's duration
 *   (its step log line), i.e. ScorePart seconds per 100k customers on the local stack.
 * Prints the figures; docs/scale.md quotes them. COMPARE_QUERIES=<module> also times that module's
 * customerSummariesStatement (e.g. a copy of an earlier queries.ts); SKIP_RUN=1 skips the recalculation.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { runLocalRecalculation } from '../infra/local/recalc.ts';
import { startLocalStack } from '../infra/local/stack.ts';
import { createDuckDbWarehouse } from '../shared/adapters/warehouse/duckdb-warehouse.ts';
import { listParquetParts } from '../shared/adapters/warehouse/parquet-parts.ts';
import { customerSummariesStatement } from '../shared/adapters/warehouse/queries.ts';
import { cleanTransactionKey } from '../shared/domain/bucket-layout.ts';
import { writeTransactions } from './recalc.ts';

const AS_OF = '2024-12-31';
const customers = Number(process.argv[2] ?? 100_000);
const compareWith = process.env.COMPARE_QUERIES; // a module with an earlier customerSummariesStatement

const work = await mkdtemp(join(tmpdir(), 'cvm-bench-parts-'));
const stack = await startLocalStack({ home: join(work, 'home') });
try {
  const file = join(work, 'transactions.parquet');
  const rows = await writeTransactions(file, customers);
  await stack.clients.s3.send(
    new PutObjectCommand({
      Bucket: stack.config.bucket,
      Key: cleanTransactionKey('bench', '2025-01-01', 'generated'),
      Body: await readFile(file),
    }),
  );
  console.log(`${customers} customers, ${rows} transactions`);

  const duck = await createDuckDbWarehouse({
    s3: stack.clients.s3,
    bucket: stack.config.bucket,
    cacheDirectory: join(work, 'cache'),
    duckDb: { memoryLimit: '1GB' },
  });
  try {
    const params = { asOf: AS_OF, timeUnit: 'weeks' as const, currency: 'EUR' };
    const variants: Array<[string, Parameters<typeof duck.unload>[0]]> = [
      ['unsplit', customerSummariesStatement(params)],
      [
        '4 parts',
        customerSummariesStatement({ ...params, customers, partCustomers: Math.ceil(customers / 4) }),
      ],
    ];
    if (compareWith) {
      const earlier = (await import(compareWith)) as {
        customerSummariesStatement: typeof customerSummariesStatement;
      };
      variants.unshift(['earlier statement (global windows)', earlier.customerSummariesStatement(params)]);
    }
    await duck.refresh();
    for (const [label, statement] of variants) {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await duck.unload(statement, { bucket: stack.config.bucket, prefix: `bench/${i}/` });
        times.push(performance.now() - started);
      }
      const best = Math.min(...times);
      console.log(
        `summaries ${label}: best of 3 ${Math.round(best)} ms (${times.map(Math.round).join(', ')}), ${Math.round(rows / (best / 1000)).toLocaleString('en-US')} transactions/s`,
      );
      const files = await listParquetParts(stack.clients.s3, stack.config.bucket, 'bench/2/');
      const bytes = files.reduce((sum, f) => sum + f.size, 0);
      console.log(
        `  ${files.length} file(s), ${(bytes / 1e6).toFixed(1)} MB in all, ${Math.round(bytes / customers)} bytes per customer`,
      );
    }
  } finally {
    await duck.close();
  }

  // SKIP_RUN=1: the statement timings only.
  if (!process.env.SKIP_RUN) {
    const parts: Array<{ ms: number; customers: number }> = [];
    const result = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: { currency: 'EUR', partCustomers: Math.ceil(customers / 4) },
      logger: {
        info: (_message, attributes) => {
          const a = attributes as { step?: string; durationMs?: number; customers?: number } | undefined;
          if (a?.step === 'scorePart') parts.push({ ms: a.durationMs ?? 0, customers: a.customers ?? 0 });
        },
        warn: () => {},
        error: () => {},
      },
    });
    console.log(
      `run ${result.record.status}, ${result.record.customers} customers, timings ${JSON.stringify(result.timings)}`,
    );
    for (const part of parts) {
      console.log(
        `ScorePart: ${part.customers} customers in ${Math.round(part.ms)} ms = ${((part.ms / 1000) * (100_000 / part.customers)).toFixed(1)} s per 100k customers`,
      );
    }
  }
} finally {
  await stack.stop();
  await rm(work, { recursive: true, force: true });
}
