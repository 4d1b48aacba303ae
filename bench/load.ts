/**
 * `npm run bench -- load`: the local API (`serveLocalApi`, as `cvm serve` runs it) on a stack seeded
 * with scores, at 1,000 requests/s for 60 s (smoke: 3 s) with a read mix over every read route, measured
 * with autocannon. Reports p50/p95/p99 latency, errors (target 0) and CPU per request of each process.
 *
 * Three processes, as in `bench/api.ts`: the stand-ins (started through `bench/api.ts --stack`, which
 * seeds them), the API server (`bench/load.ts --serve`) and the load generator (this process); harness
 * and pacing: bench/autocannon.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveLocalApi } from '../infra/cli/commands/serve.ts';
import type { LocalStack } from '../infra/local/stack.ts';
import { createAwsClients } from '../shared/adapters/aws-clients.ts';
import { configFromEnv, configToEnv } from '../shared/adapters/config.ts';
import {
  answerCpuUsageRequests,
  cpuBudget,
  type LoadRequest,
  measureLoad,
  startBenchChild,
  stopBenchChild,
} from './autocannon.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const API_KEY = 'load-bench-key';
const SEGMENTS = ['Champions', 'Loyal Customers', 'At Risk', 'Hibernating', 'Lost'];
const customerId = (index: number) => `C${String(index).padStart(6, '0')}`;

/** The read mix: mostly single-customer lookups, as a CRM integration would send. */
function nextRequest(n: number, customers: number): LoadRequest {
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
      headers: { 'content-type': 'application/json' },
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
  answerCpuUsageRequests();
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

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const rate = 1_000;
  const duration = options.smoke ? 3 : 60;
  const customers = options.smoke ? 500 : 5_000;
  const connections = 50;
  let stackChild: ChildProcess | undefined;
  let apiChild: ChildProcess | undefined;
  try {
    // The seeded stand-ins of the API benchmark (run `bench-run` with `customers` scores).
    const stack = await startBenchChild<{ env: Record<string, string> }>(
      fileURLToPath(new URL('./api.ts', import.meta.url)),
      ['--stack', String(customers)],
    );
    stackChild = stack.child;
    const api = await startBenchChild<{ url: string }>(
      fileURLToPath(import.meta.url),
      ['--serve'],
      stack.ready.env,
    );
    apiChild = api.child;
    let n = 0;
    const load = {
      url: api.ready.url,
      headers: { 'x-api-key': API_KEY },
      nextRequest: () => nextRequest(n++, customers),
    };
    const { result, cpuPerRequest } = await measureLoad(
      { ...load, connections, durationSeconds: duration, rate },
      { api: apiChild, stack: stackChild },
    );
    const generatorCpuPerRequest = cpuPerRequest.generator;
    const how = `${rate} req/s target for ${duration} s, at most ${connections} in flight, spread evenly over each second (bench/autocannon.ts), ${customers} customers; mix: 65 % GET /customers/{id}, 10 % history, 10 % batch-get of 10, 5 % segment page, 5 % /segments, 5 % /runs/current; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs at the end`;
    return [
      { name: 'API load p50 latency', value: result.latency.p50, unit: 'ms', note: how },
      {
        name: 'API load p95 latency',
        value: result.latency.p95,
        unit: 'ms',
        note: 'per response, as measured by the client',
      },
      { name: 'API load p99 latency', value: result.latency.p99, unit: 'ms' },
      { name: 'API load max latency', value: result.latency.max, unit: 'ms' },
      {
        name: 'API load throughput',
        value: result.throughput,
        unit: 'req/s',
        target: { op: '≥', value: rate * 0.98 },
        note: `${result.requests} requests; status codes ${JSON.stringify(result.statuses)}. ${cpuBudget(
          rate,
          [
            ['API process', cpuPerRequest.api],
            ['dynalite', cpuPerRequest.stack],
            ['load generator', generatorCpuPerRequest],
          ],
        )}`,
      },
      {
        name: 'API load errors',
        value: result.errors,
        unit: 'responses',
        target: { op: '≤', value: 0 },
        note: 'connection errors + timeouts + non-2xx',
      },
      {
        name: 'API load CPU per request, API process',
        value: cpuPerRequest.api,
        unit: 'ms',
        note: 'user + system CPU of the API server process over the run / requests; independent of machine load',
      },
      {
        name: 'API load CPU per request, stand-in process (dynalite)',
        value: cpuPerRequest.stack,
        unit: 'ms',
      },
      {
        name: 'API load CPU per request, load generator (autocannon)',
        value: generatorCpuPerRequest,
        unit: 'ms',
      },
    ];
  } finally {
    await stopBenchChild(apiChild);
    await stopBenchChild(stackChild);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--serve') {
  await serveApi();
}
