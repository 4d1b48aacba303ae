/**
 * `cvm up` (what `npm start` runs): the whole pipeline on this machine. Starts the embedded stack in
 * CVM_HOME, ingests the bundled sample when the bucket is empty, recalculates, serves the API and the
 * run report, prints what a new user needs to go on, and watches an inbox folder: a dropped export is
 * ingested and a recalculation follows. Ctrl-C stops cleanly; the next start reuses the state.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { deletePrefix, putTextObject } from '#adapters/s3/objects.ts';
import { listCleanSources } from '#adapters/warehouse/clean-sources.ts';
import type { RunRepository } from '#app/ports/run-repository.ts';
import { BUCKET_PREFIXES, cleanSourcePrefix, reportKey, sourceConfigKey } from '#domain/bucket-layout.ts';
import { parseSourceConfigText } from '#domain/ingest/source-config.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import { describeDataSelection, SAMPLE_SOURCE } from '#domain/recalc/data-selection.ts';
import { holdoutErrorText } from '#domain/recalc/holdout-check.ts';
import { indexShardsOf, type RunRecord } from '#domain/run.ts';
import type { ApiServer } from '../../local/api-server.ts';
import { cvmHome } from '../../local/home.ts';
import { type InboxWatcher, watchInbox } from '../../local/inbox.ts';
import { ingestFile } from '../../local/ingest-file.ts';
import { createProgressReporter, type ProgressStep } from '../../local/progress.ts';
import { type LocalRecalcResult, type RecalcStepName, runLocalRecalculation } from '../../local/recalc.ts';
import { advertiseLocalStack, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { dateOption, parseCommandLine, portOption } from '../command-line.ts';
import { usageOf } from '../commands.ts';
import { serveLocalApi } from './serve.ts';

const USAGE = usageOf('up');

const DEFAULT_PORT = 3000;
const SAMPLE_DIR = fileURLToPath(new URL('../../../data/sample', import.meta.url));

const STEP_LABELS: Record<RecalcStepName, string> = {
  acquireLock: 'recalculation: take the run lock',
  prepare: 'recalculation: read settings, list sources',
  profileSources: 'recalculation: profile the sources (DuckDB)',
  selectData: 'recalculation: select the data',
  profileRun: 'recalculation: profile the data (DuckDB)',
  planRun: 'recalculation: render the queries',
  unloadSummaries: 'recalculation: summarize customers (DuckDB)',
  fitModels: 'recalculation: holdout check and model fit',
  scoreParts: 'recalculation: score and write customers',
  finalize: 'recalculation: segments, migration, publish',
  sendChangeEvents: 'recalculation: send change events',
  releaseLock: 'recalculation: release the lock',
};

interface UpOptions {
  port: number;
  home: string;
  inbox: string;
  asOf?: string;
  debounceMs: number;
  /** Never ingest the bundled sample, remove its clean data if it was ingested, and leave it out of runs. */
  noSample: boolean;
}

/** Options of `cvm up`, validated; null when the command should end with `exitCode`. */
function parseOptions(argv: string[]): { ok: true; options: UpOptions } | { ok: false; exitCode: 0 | 2 } {
  const parsed = parseCommandLine({
    command: 'cvm up',
    usage: USAGE,
    argv,
    options: {
      port: { type: 'string' },
      inbox: { type: 'string' },
      'as-of': { type: 'string' },
      debounce: { type: 'string' },
      'no-sample': { type: 'boolean' },
    },
    schema: z.object({
      port: portOption(DEFAULT_PORT),
      inbox: z.string().optional(),
      'as-of': dateOption.optional(),
      debounce: z.coerce.number().min(0, 'expected milliseconds ≥ 0').default(2000),
      'no-sample': z.boolean().default(false),
    }),
    positionals: { count: 0, what: 'no arguments' },
  });
  if (!parsed.ok) return parsed;
  const values = parsed.options;
  const home = cvmHome();
  return {
    ok: true,
    options: {
      port: values.port,
      home,
      inbox: resolve(values.inbox ?? join(home, 'inbox')),
      debounceMs: values.debounce,
      noSample: values['no-sample'],
      ...(values['as-of'] ? { asOf: values['as-of'] } : {}),
    },
  };
}

/** Fails fast, before minutes of work, when the port is taken. */
async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is in use (another 'cvm up' or 'cvm serve'?). Stop it, or choose another port: npm start -- --port ${port + 1}`
            : `cannot listen on 127.0.0.1:${port}: ${error.message}`,
        ),
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

async function bucketHasIngests(stack: LocalStack): Promise<boolean> {
  // ListObjects (v1), not V2: a truncated V2 page makes s3rver encrypt a continuation token with DES,
  // which OpenSSL 3 (Node ≥ 17) refuses, so on a second start (two or more ingested files) s3rver
  // answered 500 InternalError. A v1 page without a delimiter carries no token.
  const listed = await stack.clients.s3.send(
    new ListObjectsCommand({ Bucket: stack.config.bucket, Prefix: BUCKET_PREFIXES.incoming, MaxKeys: 1 }),
  );
  return (listed.Contents?.length ?? 0) > 0;
}

function describeIngest(report: IngestReport, bucket: string): string {
  const parts = [
    `${report.accepted} accepted`,
    `${report.rejected} rejected`,
    `${report.duplicates} duplicates`,
  ];
  const status =
    report.status === 'succeeded' ? '' : ` — ${report.status}${report.message ? `: ${report.message}` : ''}`;
  const rejects = report.rejectedKey ? ` (rejected rows: s3://${bucket}/${report.rejectedKey})` : '';
  return `${report.key}: ${report.rowsRead} rows, ${parts.join(', ')}${status}${report.rejected > 0 ? rejects : ''}`;
}

/** What the run read and left out, one line each (empty for runs recorded without it). */
function dataLines(run: RunRecord): string {
  const lines = describeDataSelection(run);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function segmentTable(run: RunRecord): string {
  const rows = [...run.segments].sort((a, b) => b.totalClv - a.totalClv);
  const width = Math.max(7, ...rows.map((s) => s.segment.length));
  const lines = [
    `${'Segment'.padEnd(width)}  ${'Customers'.padStart(9)}  ${`Total CLV (${run.currency})`.padStart(18)}  ${'Mean CLV'.padStart(9)}  Share`,
  ];
  for (const s of rows) {
    lines.push(
      `${s.segment.padEnd(width)}  ${String(s.customers).padStart(9)}  ${s.totalClv.toFixed(2).padStart(18)}  ${s.meanClv.toFixed(2).padStart(9)}  ${(s.shareOfValue * 100).toFixed(1).padStart(5)} %`,
    );
  }
  return lines.join('\n');
}

function holdoutLine(run: RunRecord): string {
  const h = run.holdout;
  if (!h) return 'Holdout check: not enough history for a holdout period.';
  if (h.aggregateErrorPct === null) {
    return `Holdout check (${h.model}, calibration to ${h.calibrationEnd}, holdout to ${h.holdoutEnd}): ${holdoutErrorText(h)}`;
  }
  return (
    `Holdout check (${h.model}, calibration to ${h.calibrationEnd}, holdout to ${h.holdoutEnd}): ` +
    `predicted ${h.predictedRepeatPurchases.toFixed(1)} vs actual ${h.actualRepeatPurchases} repeat purchases ` +
    `(${h.aggregateErrorPct.toFixed(1)} % off), per-customer MAE ${h.meanAbsoluteError.toFixed(3)}` +
    (h.correlation === null ? '' : `, correlation ${h.correlation.toFixed(3)}`)
  );
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (!parsed.ok) return parsed.exitCode;
  const { options } = parsed;
  try {
    await assertPortFree(options.port);
  } catch (error) {
    console.error(`cvm up: ${(error as Error).message}`);
    return 2;
  }

  const progress = createProgressReporter();
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolveStop) => {
    requestStop = () => resolveStop();
  });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ home: options.home });
  } catch (error) {
    console.error(
      `cvm up: cannot open the local state in ${options.home}: ${(error as Error).message}\n` +
        'Is another cvm process using it? Stop it, or set CVM_HOME to another folder.',
    );
    return 1;
  }
  const unadvertise = advertiseLocalStack(stack);
  const runStore = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
  let server: ApiServer | undefined;
  let inbox: InboxWatcher | undefined;
  let stopping = false;
  let debounceTimer: NodeJS.Timeout | undefined;

  // One recalculation at a time; drops during a run schedule exactly one follow-up run.
  let recalcRunning: Promise<void> | null = null;
  let recalcAgain = false;
  const recalculate = async (): Promise<RunRecord | null> => {
    const sources = await listCleanSources(stack.clients.s3, stack.config.bucket);
    if (sources.filter((source) => !options.noSample || source !== SAMPLE_SOURCE).length === 0) {
      progress.line('Nothing ingested yet: drop an export into the inbox to start.');
      return null;
    }
    let current: ProgressStep | undefined;
    try {
      // Sources, currency and as-of date are the recalculation's own decision (its prepare step), the
      // same as for `cvm recalc` and the weekly schedule; the run record says what it chose.
      const result: LocalRecalcResult = await runLocalRecalculation(stack, {
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.noSample ? { config: { includeSample: 'never' as const } } : {}),
        onProgress(p) {
          if (p.status === 'started') current = progress.step(STEP_LABELS[p.step]);
          else current?.done(p.detail);
        },
      });
      return result.record;
    } catch (error) {
      current?.fail((error as Error).message);
      throw error;
    }
  };
  const scheduleRecalc = () => {
    if (recalcRunning) {
      recalcAgain = true;
      return;
    }
    recalcRunning = (async () => {
      do {
        recalcAgain = false;
        try {
          const record = await recalculate();
          if (record) {
            progress.line(
              `\nNew run ${record.runId} published.\n${dataLines(record)}${segmentTable(record)}\n${holdoutLine(record)}`,
            );
            if (server) progress.line(`Report: ${server.url}/report`);
          }
        } catch (error) {
          progress.line(`Recalculation failed: ${(error as Error).message}`);
        }
      } while (recalcAgain && !stopping);
      recalcRunning = null;
    })();
  };

  /** Recalculates once no file has arrived for `--debounce` ms (a batch of drops gives one run). */
  const requestRecalc = () => {
    if (stopping) return;
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => {
      debounceTimer = undefined;
      scheduleRecalc();
    }, options.debounceMs);
  };

  const shutdown = async () => {
    stopping = true;
    // The ingest in progress finishes (its file is moved out of the inbox); queued files stay.
    await inbox?.close();
    let notRecalculated = debounceTimer !== undefined;
    clearTimeout(debounceTimer);
    if (recalcRunning) await recalcRunning;
    // A file that arrived during the last recalculation would have had a follow-up run.
    notRecalculated ||= recalcAgain;
    if (notRecalculated) {
      progress.line(
        'Dropped data was ingested but not yet recalculated: run `cvm recalc` (or drop another file after the next start).',
      );
    }
    await server?.close();
    unadvertise();
    await stack.stop();
  };

  try {
    if (options.noSample) {
      const removed = await deletePrefix(
        stack.clients.s3,
        stack.config.bucket,
        cleanSourcePrefix(SAMPLE_SOURCE),
      );
      if (removed > 0) progress.line(`Removed the bundled sample's clean data (${removed} files).`);
    } else if (!(await bucketHasIngests(stack))) {
      const samples = readdirSync(SAMPLE_DIR).filter((f) => /\.(csv|jsonl|ndjson|gz)$/i.test(f));
      for (const file of samples) {
        const step = progress.step(`ingest bundled sample ${file}`);
        const report = await ingestFile(stack, SAMPLE_SOURCE, join(SAMPLE_DIR, file));
        step.done(describeIngest(report, stack.config.bucket));
      }
    }

    let current = await currentRun(runStore);
    if (!current) {
      current = await recalculate();
    } else {
      progress.line(`Reusing run ${current.runId} from ${options.home} (as of ${current.asOf}).`);
    }

    server = await serveLocalApi(stack, {
      port: options.port,
      ...(process.env.CVM_API_KEY ? { apiKey: process.env.CVM_API_KEY } : {}),
      ...(process.env.CVM_ADMIN_KEY ? { adminKey: process.env.CVM_ADMIN_KEY } : {}),
      ...(process.env.CVM_CORS_ORIGINS ? { corsOrigins: process.env.CVM_CORS_ORIGINS } : {}),
      extraRoutes: [
        {
          path: '/report',
          async handle(_request, response) {
            const html = await currentReportHtml(stack, runStore);
            response.writeHead(html ? 200 : 404, {
              'content-type': 'text/html; charset=utf-8',
              'cache-control': 'no-cache',
            });
            response.end(html ?? '<!doctype html><p>No run has been published yet.</p>');
          },
        },
      ],
    });

    inbox = watchInbox({
      dir: options.inbox,
      async onFile(file) {
        if (file.kind === 'mapping') {
          // A source's mapping config: validated (errors name the file and field), then stored where
          // the ingest reads it, like `cvm ingest --config`.
          const text = readFileSync(file.path, 'utf8');
          parseSourceConfigText(text, file.path);
          await putTextObject(stack.clients.s3, stack.config.bucket, sourceConfigKey(file.source), text);
          progress.line(`✔ mapping for source ${file.source} stored (${sourceConfigKey(file.source)})`);
          return 'done';
        }
        const step = progress.step(`ingest ${file.fileName} (source ${file.source})`);
        const report = await ingestFile(stack, file.source, file.path);
        if (report.status === 'failed' || report.status === 'quarantined') {
          step.fail(
            `${describeIngest(report, stack.config.bucket)} (moved to ${join(options.inbox, '.failed')})`,
          );
          return 'failed';
        }
        step.done(describeIngest(report, stack.config.bucket));
        if (report.status === 'succeeded' && report.accepted > 0) requestRecalc();
        return 'done';
      },
      onError(file, error) {
        progress.line(
          `✖ ${file.fileName}: ${(error as Error).message} (moved to ${join(options.inbox, '.failed')})`,
        );
      },
    });

    const key = process.env.CVM_API_KEY ? ` -H "x-api-key: $CVM_API_KEY"` : '';
    const exampleCustomer = current ? await firstCustomer(stack, current) : null;
    progress.line('');
    if (current) {
      progress.line(
        `Run ${current.runId} as of ${current.asOf}: ${current.customers} customers, model ${current.model?.name ?? '–'}`,
      );
      progress.line(dataLines(current) + segmentTable(current));
      progress.line(holdoutLine(current));
    }
    progress.line(
      [
        '',
        `Report:  ${server.url}/report`,
        `API:     ${server.url}   (OpenAPI: ${server.url}/openapi.json)`,
        'Try:',
        `  curl -s${key} ${server.url}/segments`,
        `  curl -s${key} ${server.url}/customers/${encodeURIComponent(exampleCustomer ?? '<customerId>')}`,
        `  curl -s${key} ${server.url}/runs/current`,
        `Drop exports (CSV, JSON Lines, .gz) into ${options.inbox} to ingest them; a recalculation follows.`,
        'Stop with Ctrl-C.',
      ].join('\n'),
    );
    // Handlers first, then the readiness line: a script may send SIGINT the moment it reads the line,
    // and a signal that arrives before a handler exists kills the process without cleaning up.
    process.once('SIGINT', requestStop);
    process.once('SIGTERM', requestStop);
    console.log(`serving ${server.url}`);
  } catch (error) {
    console.error(`cvm up: ${(error as Error).message}`);
    await shutdown();
    return 1;
  }

  await stopRequested;
  process.off('SIGINT', requestStop);
  process.off('SIGTERM', requestStop);
  progress.line('\nStopping…');
  await shutdown();
  return 0;
}

async function currentRun(runStore: RunRepository): Promise<RunRecord | null> {
  const runId = await runStore.getCurrentRunId();
  return runId ? runStore.getRunRecord(runId) : null;
}

async function currentReportHtml(stack: LocalStack, runStore: RunRepository) {
  const runId = await runStore.getCurrentRunId();
  if (!runId) return null;
  try {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(runId) }),
    );
    return (await object.Body?.transformToString('utf8')) ?? null;
  } catch {
    return null;
  }
}

/** A customer of the most valuable segment, for the printed curl example. */
async function firstCustomer(stack: LocalStack, run: RunRecord): Promise<string | null> {
  const top = [...run.segments].sort((a, b) => b.totalClv - a.totalClv)[0];
  if (!top) return null;
  const page = await createScoreReadModel(stack.clients, stack.config.table).listSegmentMembers({
    runId: run.runId,
    segment: top.segment,
    limit: 1,
    indexShards: indexShardsOf(run),
  });
  return page.items[0]?.customerId ?? null;
}
