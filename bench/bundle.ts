/**
 * `npm run bench -- bundle`: bundles the API Lambda entry (`functions/api/handler.ts`, one bundle for both
 * the read and the admin function, which differ only in the exported handler they run) as the CDK app does
 * (esbuild, platform node, target node22, ESM, minified, module-first main fields, AWS SDK bundled) and
 * measures its size, the time a fresh Node process takes to load it, and the time to the first response
 * (`GET /openapi.json`, which needs no DynamoDB): the share of a cold start the code is responsible for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { BenchFigure, BenchOptions } from './types.ts';

const run_ = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** ESM bundles of CommonJS dependencies (the AWS SDK) need `require` for Node built-ins. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __cvmCreateRequire } from 'node:module'; const require = __cvmCreateRequire(import.meta.url);";

/** Runs in a fresh process: load the bundle, then answer one request; prints the two times in ms. */
const PROBE = `
const started = performance.now();
const { readHandler, adminHandler } = await import(process.argv[2]);
if (typeof adminHandler !== 'function') throw new Error('the bundle exports no adminHandler');
const loaded = performance.now();
const event = {
  httpMethod: 'GET', path: '/openapi.json', resource: '/{proxy+}', headers: {}, multiValueHeaders: {},
  queryStringParameters: null, multiValueQueryStringParameters: null, pathParameters: null,
  stageVariables: null, body: null, isBase64Encoded: false,
  requestContext: { requestId: 'bench', identity: {} },
};
const response = await readHandler(event, { awsRequestId: 'bench' });
if (response.statusCode !== 200) throw new Error('first response: ' + response.statusCode + ' ' + response.body);
console.log(JSON.stringify({ loadMs: loaded - started, firstResponseMs: performance.now() - started }));
`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'cvm-bundle-'));
  try {
    const outfile = join(outDir, 'index.mjs');
    const built = Date.now();
    await build({
      entryPoints: [join(root, 'functions/api/handler.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      // As the CDK app bundles: ESM builds of the AWS SDK tree-shake far better than its CommonJS ones.
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: false,
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: 'error',
    });
    const buildMs = Date.now() - built;
    const bytes = (await stat(outfile)).size;
    const probe = join(outDir, 'probe.mjs');
    await writeFile(probe, PROBE);

    const env = {
      ...process.env,
      CVM_BUCKET: 'bench-bucket',
      CVM_TABLE: 'bench-table',
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    const loads: number[] = [];
    const firstResponses: number[] = [];
    const processes: number[] = [];
    const runs = options.smoke ? 2 : 7;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const { stdout } = await run_(process.execPath, [probe, pathToFileURL(outfile).href], { env });
      processes.push(performance.now() - started);
      const times = JSON.parse(stdout.trim().split('\n').pop()!) as {
        loadMs: number;
        firstResponseMs: number;
      };
      loads.push(times.loadMs);
      firstResponses.push(times.firstResponseMs);
    }
    const how = `median of ${runs} fresh \`node\` processes, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`;
    return [
      {
        name: 'API bundle size (minified ESM, AWS SDK included)',
        value: Number((bytes / 1_000_000).toFixed(3)),
        unit: 'MB',
        target: { op: '≤', value: 1 },
        note: `esbuild ${buildMs} ms; the read and admin functions deploy this one bundle`,
      },
      {
        name: 'API bundle load time',
        value: median(loads),
        unit: 'ms',
        target: { op: '≤', value: 300 },
        note: `import() of the bundle, ${how}`,
      },
      {
        name: 'API first response (load + deps + GET /openapi.json)',
        value: median(firstResponses),
        unit: 'ms',
        note: how,
      },
      {
        name: 'API fresh process wall time',
        value: median(processes),
        unit: 'ms',
        note: 'node start to exit',
      },
    ];
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
