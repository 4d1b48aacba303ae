/**
 * `npm run bench -- api`: `GET /customers/{id}` at a fixed 1,000 requests/s for 30 s (smoke: 200/s for
 * 3 s) over loopback against the local API server backed by dynalite, measured with autocannon.
 *
 * The stand-ins and the API server run in child processes so the load generator shares neither event
 * loop; autocannon corrects latencies for coordinated omission.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApiHandler } from '../functions/api/handler.ts';
import { startApiServer } from '../infra/local/api-server.ts';
import { startLocalStack } from '../infra/local/stack.ts';
import { createAwsClients } from '../shared/adapters/aws-clients.ts';
import { configFromEnv } from '../shared/adapters/config.ts';
import { seedRun, syntheticRun } from '../test/support/seed-scores.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

interface AutocannonResult {
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  overallRate: number;
  headers?: Record<string, string>;
  requests: Array<{ setupRequest: (request: AutocannonRequest) => AutocannonRequest }>;
}) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const API_KEY = 'bench-api-key';
const customerPath = (index: number) => `/customers/C${String(index).padStart(6, '0')}`;

/**
 * Child processes: the stand-ins (`--stack`, as `cvm up` runs them) and the API server (`--api`, as
 * `cvm serve` runs it against a running stack), each on its own event loop like DynamoDB and Lambda
 * are in AWS. Each prints one JSON line when ready and stops on SIGTERM.
 */
/** Children report their CPU time on request, so the benchmark can state CPU per request. */
function answerCpuUsageRequests() {
  process.on('message', (message) => {
    if (message === 'cpu-usage') process.send?.(process.cpuUsage());
  });
}

function cpuMillis(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (usage) => {
      const { user, system } = usage as NodeJS.CpuUsage;
      resolve((user + system) / 1_000);
    });
    child.send('cpu-usage');
  });
}

async function serveStack(customers: number) {
  answerCpuUsageRequests();
  const stack = await startLocalStack();
  await seedRun(
    { dynamo: stack.clients.dynamo, table: stack.config.table },
    syntheticRun({
      runId: 'bench-run',
      asOf: '2026-10-31',
      startedAt: '2026-11-01T00:00:00.000Z',
      customers,
    }),
  );
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

function startChild<T>(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`benchmark child ${args[0]} exited early (code ${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((candidate) => candidate.startsWith('{"ready"'));
      if (line) resolve({ child, ready: JSON.parse(line) as T });
    });
  });
}

async function stopChild(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const rate = options.smoke ? 200 : 1_000;
  const duration = options.smoke ? 3 : 30;
  const customers = options.smoke ? 500 : 5_000;
  let stackChild: ChildProcess | undefined;
  let apiChild: ChildProcess | undefined;
  try {
    const stack = await startChild<{ env: Record<string, string> }>(['--stack', String(customers)]);
    stackChild = stack.child;
    const api = await startChild<{ url: string }>(['--api'], stack.ready.env);
    apiChild = api.child;
    const url = api.ready.url;
    let next = 0;
    // Warm-up: JIT, connection pool, pointer cache.
    await autocannon({
      url,
      connections: 10,
      duration: 1,
      overallRate: 100,
      headers: { 'x-api-key': API_KEY },
      requests: [{ setupRequest: (request) => ({ ...request, path: customerPath(next++ % customers) }) }],
    });
    const cpuBefore = [await cpuMillis(apiChild), await cpuMillis(stackChild)];
    const result = await autocannon({
      url,
      connections: 50,
      duration,
      overallRate: rate,
      headers: { 'x-api-key': API_KEY },
      // A different customer on each request, so no layer can serve a repeated answer.
      requests: [{ setupRequest: (request) => ({ ...request, path: customerPath(next++ % customers) }) }],
    });
    const cpuAfter = [await cpuMillis(apiChild), await cpuMillis(stackChild)];
    const apiCpuPerRequest = (cpuAfter[0]! - cpuBefore[0]!) / Math.max(1, result.requests.total);
    const dynamoCpuPerRequest = (cpuAfter[1]! - cpuBefore[1]!) / Math.max(1, result.requests.total);
    const errors = result.errors + result.timeouts + result.non2xx;
    // Other work on the machine shows directly in loopback latencies; the load average says how much.
    const load = loadavg()[0]!.toFixed(1);
    const how = `${rate} req/s for ${duration} s, 50 connections, ${customers} customers, loopback, latency corrected for coordinated omission; load average ${load} on ${cpus().length} CPUs at the end`;
    return [
      { name: 'GET /customers/{id} p50 latency', value: result.latency.p50, unit: 'ms', note: how },
      {
        name: 'GET /customers/{id} p99 latency',
        value: result.latency.p99,
        unit: 'ms',
        target: { op: '≤', value: 10 },
        note: 'pointer from a 3 s in-memory cache + one GetItem on dynalite (LevelDB in memory)',
      },
      { name: 'GET /customers/{id} max latency', value: result.latency.max, unit: 'ms' },
      {
        name: 'GET /customers/{id} throughput',
        value: result.requests.average,
        unit: 'req/s',
        target: { op: '≥', value: rate * 0.98 },
      },
      { name: 'GET /customers/{id} requests', value: result.requests.total, unit: 'requests' },
      {
        name: 'GET /customers/{id} errors',
        value: errors,
        unit: 'responses',
        target: { op: '≤', value: 0 },
        note: 'connection errors + timeouts + non-2xx',
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
    ];
  } finally {
    await stopChild(apiChild);
    await stopChild(stackChild);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--stack') await serveStack(Number(process.argv[3] ?? 5_000));
  if (process.argv[2] === '--api') await serveApi();
}
