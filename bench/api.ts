/**
 * `npm run bench -- api`: `GET /customers/{id}` at a fixed 1,000 requests/s for 30 s (smoke: 200/s for
 * 3 s) over loopback against the local API server backed by dynalite, measured with autocannon.
 *
 * The stand-ins and the API server run in child processes so the load generator shares neither event
 * loop (harness and pacing: bench/autocannon.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApiHandler } from '../functions/api/app.ts';
import { startApiServer } from '../infra/local/api-server.ts';
import { createAwsClients } from '../shared/adapters/aws-clients.ts';
import { configFromEnv } from '../shared/adapters/config.ts';
import { startStackWithRun } from '../test/support/seed-scores.ts';
import {
  answerCpuUsageRequests,
  cpuBudget,
  measureLoad,
  startBenchChild,
  stopBenchChild,
} from './autocannon.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const API_KEY = 'bench-api-key';
const customerPath = (index: number) => `/customers/C${String(index).padStart(6, '0')}`;

/*
 * Child processes: the stand-ins (`--stack`, as `cvm up` runs them) and the API server (`--api`, as
 * `cvm serve` runs it against a running stack), each on its own event loop like DynamoDB and Lambda
 * are in AWS. Each prints one JSON line when ready, answers CPU-time requests (so the benchmark can
 * state CPU per request) and stops on SIGTERM.
 */
async function serveStack(customers: number) {
  answerCpuUsageRequests();
  const stack = await startStackWithRun({
    runId: 'bench-run',
    asOf: '2026-10-31',
    startedAt: '2026-11-01T00:00:00.000Z',
    customers,
  });
  process.stdout.write(`${JSON.stringify({ ready: true, env: stack.env })}\n`);
  process.once('SIGTERM', () => {
    void stack.stop().finally(() => process.exit(0));
  });
}

async function serveApi() {
  answerCpuUsageRequests();
  const config = configFromEnv();
  const clients = createAwsClients(config);
  const handler = createApiHandler({
    config,
    clients,
    admin: {
      startRecalculation: () => Promise.reject(new Error('not used by the benchmark')),
      forgetCustomer: () => Promise.reject(new Error('not used by the benchmark')),
    },
  });
  const server = await startApiServer({ handler, port: 0, apiKey: API_KEY });
  process.stdout.write(`${JSON.stringify({ ready: true, url: server.url })}\n`);
  process.once('SIGTERM', () => {
    void server.close().finally(() => process.exit(0));
  });
}

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const rate = options.smoke ? 200 : 1_000;
  const duration = options.smoke ? 3 : 30;
  const customers = options.smoke ? 500 : 5_000;
  const connections = 50;
  const script = fileURLToPath(import.meta.url);
  let stackChild: ChildProcess | undefined;
  let apiChild: ChildProcess | undefined;
  try {
    const stack = await startBenchChild<{ env: Record<string, string> }>(script, [
      '--stack',
      String(customers),
    ]);
    stackChild = stack.child;
    const api = await startBenchChild<{ url: string }>(script, ['--api'], stack.ready.env);
    apiChild = api.child;
    let next = 0;
    const load = {
      url: api.ready.url,
      headers: { 'x-api-key': API_KEY },
      // A different customer on each request, so no layer can serve a repeated answer.
      nextRequest: () => ({ path: customerPath(next++ % customers) }),
    };
    const { result, cpuPerRequest } = await measureLoad(
      { ...load, connections, durationSeconds: duration, rate },
      { api: apiChild, stack: stackChild },
    );
    const {
      api: apiCpuPerRequest,
      stack: dynamoCpuPerRequest,
      generator: generatorCpuPerRequest,
    } = cpuPerRequest;
    // Other work on the machine shows directly in loopback latencies; the load average says how much.
    const load1 = loadavg()[0]!.toFixed(1);
    const how = `${rate} req/s for ${duration} s, at most ${connections} in flight, spread evenly over each second (bench/autocannon.ts), ${customers} customers, loopback, response times as the client saw them; load average ${load1} on ${cpus().length} CPUs at the end`;
    return [
      { name: 'GET /customers/{id} p50 latency', value: result.latency.p50, unit: 'ms', note: how },
      {
        name: 'GET /customers/{id} p99 latency',
        value: result.latency.p99,
        unit: 'ms',
        target: { op: '≤', value: 10 },
        note: `pointer from a 3 s in-memory cache + one GetItem on dynalite (LevelDB in memory). ${cpuBudget(
          rate,
          [
            ['API process', apiCpuPerRequest],
            ['dynalite', dynamoCpuPerRequest],
            ['load generator', generatorCpuPerRequest],
          ],
        )}`,
      },
      { name: 'GET /customers/{id} max latency', value: result.latency.max, unit: 'ms' },
      {
        name: 'GET /customers/{id} throughput',
        value: result.throughput,
        unit: 'req/s',
        target: { op: '≥', value: rate * 0.98 },
        note: cpuBudget(rate, [
          ['API process', apiCpuPerRequest],
          ['dynalite', dynamoCpuPerRequest],
          ['load generator', generatorCpuPerRequest],
        ]),
      },
      { name: 'GET /customers/{id} requests', value: result.requests, unit: 'requests' },
      {
        name: 'GET /customers/{id} errors',
        value: result.errors,
        unit: 'responses',
        target: { op: '≤', value: 0 },
        note: `connection errors + timeouts + non-2xx; status codes ${JSON.stringify(result.statuses)}`,
      },
      {
        name: 'CPU per request, API process (handler + local gateway + SDK)',
        value: apiCpuPerRequest,
        unit: 'ms',
        note: 'user + system CPU of the API server process over the run / requests; independent of machine load',
      },
      {
        name: 'CPU per request, stand-in process (dynalite GetItem)',
        value: dynamoCpuPerRequest,
        unit: 'ms',
        note: 'the DynamoDB stand-in; in AWS this is the DynamoDB service, not Lambda time',
      },
      {
        name: 'CPU per request, load generator (autocannon)',
        value: generatorCpuPerRequest,
        unit: 'ms',
        note: 'the benchmark process; it shares the machine with the two above',
      },
    ];
  } finally {
    await stopBenchChild(apiChild);
    await stopBenchChild(stackChild);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--stack') await serveStack(Number(process.argv[3] ?? 5_000));
  if (process.argv[2] === '--api') await serveApi();
}
