/**
 * The HTTP load harness of the `api` and `load` suites: the benchmarked servers run in child processes
 * (each on its own event loop, as DynamoDB and Lambda are in AWS), and autocannon drives them from the
 * benchmark's own process.
 *
 * Pacing. autocannon 9 splits `overallRate` into a per-connection budget per second, and each connection
 * sends back to back until its budget is spent; all connections of a run start together. One run with 50
 * connections at 1,000 requests/s therefore starts every second with 50 requests in flight and ends it
 * idle (measured: 95 % of the requests reached the server within the same 0.4 s of each second, and a
 * server answering after a 2 ms timer, without CPU work, measured p99 20–46 ms). That is a burst test,
 * not a steady 1,000 requests/s. So each connection here is its own autocannon run with an equal share
 * of the rate, and the runs start `1 s / connections` apart: the per-second budgets are spread evenly over
 * the second, and at most `connections` requests are ever in flight.
 *
 * Latencies. autocannon's coordinated-omission correction assumes a 1 ms send interval
 * (`ceil(1 / per-connection rate)`) and adds synthetic samples below each response time; the
 * percentiles here are those of the response times the client saw.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';

export interface LoadRequest {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonRun extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  overallRate: number;
  ignoreCoordinatedOmission: boolean;
  headers?: Record<string, string>;
  requests: Array<{ setupRequest: (request: LoadRequest) => LoadRequest }>;
}) => AutocannonRun;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadOptions {
  url: string;
  /** Most requests in flight at once: one connection per staggered autocannon run (see above). */
  connections: number;
  durationSeconds: number;
  /** Requests per second over all connections; at least one per connection. */
  rate: number;
  /** Sent with every request; a request's own headers are added to them. */
  headers?: Record<string, string>;
  /** The next request to send; called once per request. */
  nextRequest(): LoadRequest;
}

export interface LoadResult {
  /** Responses received, of any status. */
  requests: number;
  /** Completed requests per second: each run's responses over its own duration, summed. */
  throughput: number;
  /** Response times the client measured, in ms. */
  latency: { p50: number; p95: number; p99: number; max: number };
  /** Connection errors + timeouts + non-2xx responses. */
  errors: number;
  /** Responses per HTTP status. */
  statuses: Record<string, number>;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.rate < options.connections) {
    throw new Error(`runLoad: rate ${options.rate}/s is below one request per second per connection`);
  }
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const setupRequest = (request: LoadRequest): LoadRequest => {
    const next = options.nextRequest();
    return { ...request, ...next, headers: { ...request.headers, ...next.headers } };
  };
  const spacingMs = 1_000 / options.connections;
  const runs = Array.from({ length: options.connections }, async (_, index) => {
    await new Promise((resolve) => setTimeout(resolve, index * spacingMs));
    // An equal share of the rate; the remainder goes to the first runs.
    const share =
      Math.floor(options.rate / options.connections) + (index < options.rate % options.connections ? 1 : 0);
    const started = performance.now();
    let responses = 0;
    const load = autocannon({
      url: options.url,
      connections: 1,
      duration: options.durationSeconds,
      overallRate: share,
      // Percentiles come from the response times below; autocannon's own synthetic samples are not needed.
      ignoreCoordinatedOmission: true,
      ...(options.headers ? { headers: options.headers } : {}),
      requests: [{ setupRequest }],
    });
    load.on('response', (_client, status, _bytes, ms) => {
      responses++;
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    const result = await load;
    return { result, throughput: responses / ((performance.now() - started) / 1_000) };
  });
  const finished = await Promise.all(runs);
  latencies.sort((a, b) => a - b);
  let throughput = 0;
  let errors = 0;
  for (const { result, throughput: runThroughput } of finished) {
    throughput += runThroughput;
    errors += result.errors + result.timeouts + result.non2xx;
  }
  return {
    requests: latencies.length,
    throughput,
    latency: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? Number.NaN,
    },
    errors,
    statuses,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Starts `node --import tsx <script> <args>` and resolves with the JSON line it prints when ready
 * (`{"ready": true, ...}`). The child gets an IPC channel so it can report its CPU time.
 */
export function startBenchChild<T>(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) =>
      reject(new Error(`benchmark child ${script} ${args.join(' ')} exited early (code ${code})`)),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((candidate) => candidate.startsWith('{"ready"'));
      if (line) resolve({ child, ready: JSON.parse(line) as T });
    });
  });
}

export async function stopBenchChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** In a child: answer `cpu-usage` messages with `process.cpuUsage()`. */
export function answerCpuUsageRequests(): void {
  process.on('message', (message) => {
    if (message === 'cpu-usage') process.send?.(process.cpuUsage());
  });
}

/** User + system CPU time a child has used so far, in ms (the child must answer, see above). */
export function childCpuMillis(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (usage) => {
      const { user, system } = usage as NodeJS.CpuUsage;
      resolve((user + system) / 1_000);
    });
    child.send('cpu-usage');
  });
}

/**
 * What limits a latency figure on this machine: the CPU the processes of the run need at `rate`
 * (CPU per request × rate, in cores) against the cores there are. Above ~70 % of a core a
 * single-threaded server queues requests, and its tail latency is that queue.
 */
export function cpuBudget(rate: number, processes: ReadonlyArray<readonly [string, number]>): string {
  const parts = processes.map(
    ([name, msPerRequest]) => `${name} ${((msPerRequest * rate) / 1000).toFixed(2)}`,
  );
  const total = processes.reduce((sum, [, msPerRequest]) => sum + (msPerRequest * rate) / 1000, 0);
  // Each process is one event loop: past one core it cannot keep up at all, whatever the machine has.
  const saturated = processes
    .filter(([, msPerRequest]) => msPerRequest * rate > 1000)
    .map(
      ([name, msPerRequest]) =>
        `; the ${name} is one thread and tops out at ${Math.floor(1000 / msPerRequest)} req/s`,
    );
  return `Limited by CPU: at ${rate} req/s the processes need ${parts.join(' + ')} = ${total.toFixed(2)} cores of ${cpus().length}${saturated.join('')}`;
}

/** CPU milliseconds per request of each process of a measured run. */
export interface CpuPerRequest {
  api: number;
  stack: number;
  generator: number;
}

/**
 * A warm-up (1 s at 100 req/s: JIT, connection pools, caches) and then the measured run, with the CPU
 * each process spent on it per request: the API server child, the stand-ins child and this process.
 */
export async function measureLoad(
  options: LoadOptions,
  children: { api: ChildProcess; stack: ChildProcess },
): Promise<{ result: LoadResult; cpuPerRequest: CpuPerRequest }> {
  await runLoad({ ...options, connections: 10, durationSeconds: 1, rate: 100 });
  const before = [await childCpuMillis(children.api), await childCpuMillis(children.stack)];
  const generatorBefore = process.cpuUsage();
  const result = await runLoad(options);
  const generator = process.cpuUsage(generatorBefore);
  const after = [await childCpuMillis(children.api), await childCpuMillis(children.stack)];
  const requests = Math.max(1, result.requests);
  return {
    result,
    cpuPerRequest: {
      api: (after[0]! - before[0]!) / requests,
      stack: (after[1]! - before[1]!) / requests,
      generator: (generator.user + generator.system) / 1_000 / requests,
    },
  };
}
