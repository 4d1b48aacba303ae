/**
 * Ingest benchmark: the ingest pipeline (streaming parse → staged rows → DuckDB rules → Parquet)
 * against DuckDB's own `COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)` on the same
 * generated CSV, in the same run. Each side runs in a child process so its peak RSS is its own.
 * Both sides give DuckDB one thread: the target is a third of DuckDB's rows/s on one core, so the
 * target figure divides rows by each process's CPU time; wall-clock rates are listed beside it. Each
 * side runs a few times, alternating, and its run with the least CPU counts.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { openDuckDb, sqlLiteral } from '../shared/adapters/duckdb.ts';
import { finishWithDuckDb } from '../shared/adapters/ingest/finish-with-duckdb.ts';
import { stageExport } from '../shared/adapters/ingest/stage-export.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const execFile$ = promisify(execFile);
const RSS_TARGET_MB = 300;

/** Writes `rows` order lines (5 columns, ISO dates, 2-decimal amounts) with bounded memory. */
async function generateCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve));
  await write('customer_id,order_id,order_date,amount,currency\n');
  const day0 = Date.UTC(2023, 0, 1);
  let batch: string[] = [];
  for (let i = 0; i < rows; i++) {
    const customer = (i * 7919) % Math.max(1, Math.floor(rows / 4));
    const date = new Date(day0 + ((i * 104729) % (730 * 86_400)) * 1000).toISOString().slice(0, 19);
    const cents = 100 + ((i * 2654435761) % 99_900);
    batch.push(
      `C${customer},O${i},${date}Z,${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')},EUR\n`,
    );
    if (batch.length === 10_000) {
      await write(batch.join(''));
      batch = [];
    }
  }
  if (batch.length > 0) await write(batch.join(''));
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

interface ChildResult {
  rows: number;
  /** Wall-clock time. */
  ms: number;
  /** CPU time of the whole process (all threads): the one-core cost, independent of machine load. */
  cpuMs: number;
  maxRssMb: number;
  parseMs?: number;
  finishMs?: number;
}

/** Child: the ingest pipeline on a local file, without S3/DynamoDB (their cost is network, not CPU). */
async function childPipeline(file: string, workDir: string): Promise<ChildResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const staged = await stageExport({
    stored: createReadStream(file, { highWaterMark: 256 * 1024 }),
    fileName: 'bench.csv',
    config: {},
    defaultCurrency: 'EUR',
    workDir,
  });
  const finished = await finishWithDuckDb({
    acceptedPath: staged.acceptedPath,
    stagedRows: staged.counts.accepted,
    emptyAmountRows: staged.counts.emptyAmountRows,
    dedupeExactRows: true,
    ingestId: 'bench',
    ingestedAt: new Date(),
    workDir,
  });
  if (finished.accepted !== staged.rowsRead) {
    throw new Error(`bench: expected every row accepted, got ${finished.accepted} of ${staged.rowsRead}`);
  }
  return {
    rows: staged.rowsRead,
    ms: performance.now() - started,
    cpuMs: cpuMs(cpu),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    parseMs: staged.parseMs,
    finishMs: finished.finishMs,
  };
}

/** Child: DuckDB's own CSV → Parquet COPY, one thread, the same memory limit as the pipeline's DuckDB. */
async function childDuckDb(file: string, workDir: string): Promise<ChildResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const db = await openDuckDb({ threads: 1, memoryLimit: '96MB', tempDirectory: join(workDir, 'spill') });
  try {
    const out = join(workDir, 'duckdb.parquet');
    await db.connection.run(
      `COPY (SELECT * FROM read_csv(${sqlLiteral(file)})) TO ${sqlLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const reader = await db.connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlLiteral(out)})`);
    const rows = Number(reader.getRowsJson()[0]?.[0]);
    return {
      rows,
      ms: performance.now() - started,
      cpuMs: cpuMs(cpu),
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    db.close();
  }
}

const leastCpu = (runs: ChildResult[]): ChildResult =>
  runs.reduce((best, run) => (run.cpuMs < best.cpuMs ? run : best));

const microsPerRow = (ms: number, rows: number) => ((ms * 1000) / rows).toFixed(2);

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/**
 * Bundles this file the way the Lambda is bundled (plain JS, no TypeScript loader in the process), so
 * the children's RSS is the function's and not the loader's (tsx alone adds ~70 MB). The bundle goes
 * under the project so `@duckdb/node-api` resolves from its node_modules.
 */
async function bundleChild(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'ingest-bench-child.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['@duckdb/node-api', 'esbuild'],
    logLevel: 'error',
  });
  return outfile;
}

async function inChild(
  childScript: string,
  kind: 'pipeline' | 'duckdb',
  file: string,
  workDir: string,
): Promise<ChildResult> {
  mkdirSync(workDir, { recursive: true });
  const { stdout } = await execFile$(process.execPath, [childScript, '--child', kind, file, workDir], {
    maxBuffer: 1 << 20,
    env: { ...process.env, TZ: 'UTC' },
  });
  rmSync(workDir, { recursive: true, force: true });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as ChildResult;
}

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const sizes = options.smoke ? [20_000] : [1_000_000, 10_000_000];
  const dir = await mkdtemp(join(tmpdir(), 'cvm-bench-ingest-'));
  const bundleDir = join(dirname(fileURLToPath(import.meta.url)), 'results', 'tmp');
  const childScript = await bundleChild(bundleDir);
  const figures: BenchFigure[] = [];
  try {
    for (const rows of sizes) {
      const label = rows >= 1_000_000 ? `${rows / 1_000_000}M` : `${rows / 1000}k`;
      const file = join(dir, `orders-${label}.csv`);
      await generateCsv(file, rows);
      // Each side runs `repeats` times, alternating, and keeps its run with the least CPU: noise from
      // the rest of the machine only ever adds time, and it weighs on both sides alike.
      const repeats = options.smoke ? 1 : rows >= 10_000_000 ? 2 : 3;
      const duckRuns: ChildResult[] = [];
      const pipeRuns: ChildResult[] = [];
      for (let i = 0; i < repeats; i++) {
        duckRuns.push(await inChild(childScript, 'duckdb', file, join(dir, 'duckdb')));
        pipeRuns.push(await inChild(childScript, 'pipeline', file, join(dir, 'pipeline')));
      }
      const duck = leastCpu(duckRuns);
      const pipe = leastCpu(pipeRuns);
      const spread = (runs: ChildResult[]) => runs.map((r) => Math.round(r.cpuMs)).join(', ');
      rmSync(file, { force: true });
      if (pipe.rows !== rows || duck.rows !== rows) {
        throw new Error(
          `bench: row counts differ (pipeline ${pipe.rows}, DuckDB ${duck.rows}, expected ${rows})`,
        );
      }
      const duckCpuRate = (rows / duck.cpuMs) * 1000;
      const pipeCpuRate = (rows / pipe.cpuMs) * 1000;
      figures.push(
        {
          name: `ingest CSV → Parquet, ${label} rows, per CPU second`,
          value: pipeCpuRate,
          unit: 'rows/s',
          target: { op: '≥', value: duckCpuRate / 3 },
          baseline: { label: 'DuckDB COPY read_csv → parquet, 1 thread', value: duckCpuRate },
          note:
            `CPU time of each process (one core's worth of work, independent of machine load), the ` +
            `least of ${repeats} run${repeats > 1 ? 's' : ''}: pipeline ${Math.round(pipe.cpuMs)} ms ` +
            `(runs: ${spread(pipeRuns)}), DuckDB COPY ${Math.round(duck.cpuMs)} ms (runs: ${spread(duckRuns)}). ` +
            `Per row: JavaScript (read, validate, hash, stage) ${microsPerRow(pipe.parseMs ?? 0, rows)} µs, ` +
            `the pipeline's DuckDB stage (staged rows → rules → Parquet) ${microsPerRow(pipe.finishMs ?? 0, rows)} µs, ` +
            `DuckDB's whole COPY ${microsPerRow(duck.cpuMs, rows)} µs`,
        },
        {
          name: `ingest CSV → Parquet, ${label} rows, wall clock`,
          value: (rows / pipe.ms) * 1000,
          unit: 'rows/s',
          baseline: { label: 'DuckDB COPY read_csv → parquet, 1 thread', value: (rows / duck.ms) * 1000 },
          note:
            `JS parse+stage ${Math.round(pipe.parseMs ?? 0)} ms, DuckDB rules+Parquet ${Math.round(pipe.finishMs ?? 0)} ms; ` +
            `DuckDB COPY ${Math.round(duck.ms)} ms; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`,
        },
        {
          name: `ingest peak RSS, ${label} rows`,
          value: Math.max(...pipeRuns.map((r) => r.maxRssMb)),
          unit: 'MB',
          target: { op: '≤', value: RSS_TARGET_MB },
          baseline: {
            label: 'DuckDB COPY peak RSS',
            value: Math.max(...duckRuns.map((r) => r.maxRssMb)),
          },
          note: `maxRSS of the child process (Node + parser + DuckDB at memory_limit 96MB), the largest of ${repeats} run${repeats > 1 ? 's' : ''}`,
        },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(childScript, { force: true });
  }
  return figures;
}

if (process.argv[2] === '--child' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [, , , kind, file, workDir] = process.argv;
  const result =
    kind === 'pipeline' ? await childPipeline(file!, workDir!) : await childDuckDb(file!, workDir!);
  console.log(JSON.stringify(result));
}
