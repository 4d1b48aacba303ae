/**
 * `npm run bench -- start`: how long `npm start` (`cvm up`) keeps a new user waiting. Spawns the real
 * CLI (`node infra/cli/cvm.js up`) in a fresh CVM_HOME and times the readiness line
 * `serving http://…`; then starts again on the same home (state reused, no ingest, no recalculation).
 * The per-step times are read from the progress lines the CLI prints (`✔ <step> — … (1.2 s)`).
 * Smoke mode (CI): one fresh start, nothing else.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { COMMANDS } from '../infra/cli/commands.ts';
import { CVM_BIN, freePort, PROJECT_ROOT, startCvmUp, tempCvmHome } from '../test/support/cvm-up.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

const READY_TARGET_MS = 15_000;
const READY_TIMEOUT_MS = 180_000;
const HELP_TARGET_MS = 300;

interface StartSample {
  readyMs: number;
  /** Step label → seconds, as printed by the CLI. */
  steps: Map<string, number>;
}

/** `✔ recalculation: score and write customers — 2357 customers scored in 1 parts (6.9 s)` */
const STEP_LINE = /^✔ (.+?)(?: — .*)? \((\d+(?:\.\d+)?) s\)$/gm;

function parseSteps(stderr: string): Map<string, number> {
  const steps = new Map<string, number>();
  for (const match of stderr.matchAll(STEP_LINE)) {
    steps.set(match[1]!, Number(match[2]));
  }
  return steps;
}

async function timeStart(home: string): Promise<StartSample> {
  const port = await freePort();
  const { cvm } = await startCvmUp({ home, port, readyTimeoutMs: READY_TIMEOUT_MS });
  const readyMs = cvm.elapsedMs();
  const steps = parseSteps(cvm.stderr());
  const exit = await cvm.interrupt(60_000);
  if (exit.code !== 0) throw new Error(`cvm up exited with ${exit.code} on SIGINT\n${cvm.transcript()}`);
  return { readyMs, steps };
}

/** `cvm <command> --help`: process start + tsx + the command registry, without loading the command. */
function timeHelp(command: string): Promise<number> {
  return new Promise((resolveTime, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CVM_BIN, command, '--help'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolveTime(performance.now() - started)
        : reject(new Error(`cvm ${command} --help exited with ${code}`)),
    );
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const range = (values: number[]) =>
  values.length > 1 ? `, range ${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))} ms` : '';

export async function run(options: BenchOptions): Promise<BenchFigure[]> {
  const rounds = options.smoke ? 1 : 3;
  const fresh: StartSample[] = [];
  const reuse: StartSample[] = [];
  const help = new Map<string, number[]>(Object.keys(COMMANDS).map((command) => [command, []]));
  const load = () => loadavg()[0]!.toFixed(1);
  const loadBefore = load();

  for (let round = 0; round < rounds; round++) {
    const home = await tempCvmHome('cvm-bench-start-');
    try {
      fresh.push(await timeStart(home));
      if (!options.smoke) reuse.push(await timeStart(home));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
    if (!options.smoke) {
      for (const [command, times] of help) times.push(await timeHelp(command));
    }
  }
  const loadAfter = load();
  const machineLoad = `1-min load average ${loadBefore} before, ${loadAfter} after`;

  // Where the time goes: the printed steps, the slowest one, and (full runs) the module loading floor.
  const stepTotals = fresh.map((s) => [...s.steps.values()].reduce((sum, v) => sum + v, 0) * 1000);
  const labels = [...new Set(fresh.flatMap((s) => [...s.steps.keys()]))];
  const stepSeconds = labels.map((label) => {
    const seconds = fresh.map((s) => s.steps.get(label)).filter((v): v is number => v !== undefined);
    return { label, median: median(seconds), samples: seconds.length };
  });
  const slowest = [...stepSeconds].sort((a, b) => b.median - a.median)[0];
  const breakdown =
    `steps printed by the CLI add up to ${Math.round(median(stepTotals))} ms` +
    (slowest ? ` (slowest: ${slowest.label}, ${slowest.median} s)` : '');
  const figures: BenchFigure[] = [
    {
      name: `cvm up, fresh home → ready (sample ingest + first recalculation)`,
      value: median(fresh.map((s) => s.readyMs)),
      unit: 'ms',
      target: { op: '≤', value: READY_TARGET_MS },
      note: `median of ${fresh.length}${range(fresh.map((s) => s.readyMs))}; spawn of node infra/cli/cvm.js up to the line 'serving http://…'; ${breakdown}; ${machineLoad}`,
    },
  ];
  if (reuse.length > 0) {
    figures.push({
      name: 'cvm up, second start on the same home → ready (run reused)',
      value: median(reuse.map((s) => s.readyMs)),
      unit: 'ms',
      target: { op: '≤', value: READY_TARGET_MS },
      note: `median of ${reuse.length}${range(reuse.map((s) => s.readyMs))}`,
    });
  }
  for (const [command, times] of help) {
    if (times.length === 0) continue;
    figures.push({
      name: `cvm ${command} --help`,
      value: median(times),
      unit: 'ms',
      target: { op: '≤', value: HELP_TARGET_MS },
      note: `median of ${times.length}${range(times)}; node + tsx + the command registry, the command itself is not loaded`,
    });
  }
  // Steps as the CLI reports them (its own clock, 0.1 s resolution), median over the fresh starts.
  for (const step of stepSeconds) {
    figures.push({
      name: `fresh start step: ${step.label}`,
      value: step.median * 1000,
      unit: 'ms',
      note: `as printed by cvm up, median of ${step.samples}`,
    });
  }
  return figures;
}
