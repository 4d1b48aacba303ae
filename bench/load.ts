/**
 * `npm run bench -- load`: the local API (`serveLocalApi`, as `cvm serve` runs it) on a stack seeded
 * with scores, at a fixed 1,000 requests/s for 60 s (smoke: 3 s) with a read mix over every read
 * route, measured with autocannon. Reports p50/p95/p99 latency and errors (target 0).
 *
 * Three processes, as in `bench/api.ts`: the stand-ins (started through `bench/api.ts --stack`, which
 * seeds them), the API server (`bench/load.ts --serve`) and the load generator (this process).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveLocalApi } from '../infra/local/cli/commands/serve.ts';
import type { LocalStack } from '../infra/local/stack.ts';
import { createAwsClients } from '../shared/adapters/aws-clients.ts';
import { configFromEnv, configToEnv } from '../shared/adapters/config.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

interface AutocannonResult {
  latency: { p50: number; p99: number; max: number };
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}
interface AutocannonRun extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  overallRate: number;
  headers?: Record<string, string>;
  requests: Array<{ setupRequest: (request: AutocannonRequest) => AutocannonRequest }>;
}) => AutocannonRun;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const API_KEY = 'load-bench-key';
const SEGMENTS = ['Champions', 'Loyal Customers', 'At Risk', 'Hibernating', 'Lost'];
const customerId = (index: number) => `C${String(index).padStart(6, '0')}`;

/** The read mix: mostly single-customer lookups, as a CRM integration would send. */
function nextRequest(n: number, customers: number): AutocannonRequest {
  const slot = n % 20;
  const id = customerId((n * 7919) % customers);
  if (slot < 13) return { method: 'GET', path: `/customers/${id}` };
  if (slot < 15) return { method: 'GET', path: `/customers/${id}/history` };
  if (slot < 17) {
    const ids = Array.from({ length: 10 }, (_, i) => customerId((n * 31 + i * 97) % customers));
    return {
      method: 'POST',
      path: '/customers/batch-get',
      body: JSON.stringify({ customerIds: ids }),
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    };
  }
  if (slot === 17)
    return {
      method: 'GET',
      path: `/segments/${encodeURIComponent(SEGMENTS[n % SEGMENTS.length]!)}/customers?limit=25`,
    };
  if (slot === 18) return { method: 'GET', path: '/segments' };
  return { method: 'GET', path: '/runs/current' };
}

/** Child: the API server over the stand-ins whose environment it was given. */
async function serveApi() {
  const config = configFromEnv();
  const clients = createAwsClients(config);
  const stack: LocalStack = {
    config,
    clients,
    env: configToEnv(config),
    onObjectCreated() {
      throw new Error('not used by the load benchmark');
    },
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
  const server = await serveLocalApi(stack, { port: 0, apiKey: API_KEY });
  process.stdout.write(`${JSON.stringify({ ready: true, url: server.url })}\n`);
  process.once('SIGTERM', () => {
    void server.close().finally(() => process.exit(0));
  });
}

function startChild<T>(script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  return new Promise<{ child: ChildProcess; ready: T }>((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) =>
      reject(new Error(`benchmark child ${script} ${args[0]} exited early (code ${code})`)),
    );
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const rate = 1_000;
  const duration = options.smoke ? 3 : 60;
  const customers = options.smoke ? 500 : 5_000;
  let stackChild: ChildProcess | undefined;
  let apiChild: ChildProcess | undefined;
  try {
    // The seeded stand-ins of the API benchmark (run `bench-run` with `customers` scores).
    const stack = await startChild<{ env: Record<string, string> }>(
      fileURLToPath(new URL('./api.ts', import.meta.url)),
      ['--stack', String(customers)],
    );
    stackChild = stack.child;
    const api = await startChild<{ url: string }>(
      fileURLToPath(import.meta.url),
      ['--serve'],
      stack.ready.env,
    );
    apiChild = api.child;
    let n = 0;
    const setupRequest = (request: AutocannonRequest) => {
      const next = nextRequest(n++, customers);
      return { ...request, ...next, headers: { ...request.headers, ...next.headers } };
    };
    await autocannon({
      url: api.ready.url,
      connections: 10,
      duration: 1,
      overallRate: 100,
      headers: { 'x-api-key': API_KEY },
      requests: [{ setupRequest }],
    });
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const load = autocannon({
      url: api.ready.url,
      connections: 50,
      duration,
      overallRate: rate,
      headers: { 'x-api-key': API_KEY },
      requests: [{ setupRequest }],
    });
    load.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    const result = await load;
    latencies.sort((a, b) => a - b);
    const errors = result.errors + result.timeouts + result.non2xx;
    const how = `${rate} req/s target for ${duration} s, 50 connections, ${customers} customers; mix: 65 % GET /customers/{id}, 10 % history, 10 % batch-get of 10, 5 % segment page, 5 % /segments, 5 % /runs/current; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs at the end`;
    return [
      { name: 'API load p50 latency', value: percentile(latencies, 50), unit: 'ms', note: how },
      {
        name: 'API load p95 latency',
        value: percentile(latencies, 95),
        unit: 'ms',
        note: 'per response, as measured by the client',
      },
      { name: 'API load p99 latency', value: percentile(latencies, 99), unit: 'ms' },
      {
        name: 'API load p99 latency (corrected for coordinated omission)',
        value: result.latency.p99,
        unit: 'ms',
      },
      { name: 'API load max latency', value: result.latency.max, unit: 'ms' },
      {
        name: 'API load throughput',
        value: result.requests.average,
        unit: 'req/s',
        target: { op: '≥', value: rate * 0.98 },
        note: `${result.requests.total} requests; status codes ${JSON.stringify(statuses)}`,
      },
      {
        name: 'API load errors',
        value: errors,
        unit: 'responses',
        target: { op: '≤', value: 0 },
        note: 'connection errors + timeouts + non-2xx',
      },
    ];
  } finally {
    await stopChild(apiChild);
    await stopChild(stackChild);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--serve') {
  await serveApi();
}
