/**
 * `npm run bench -- [suite...] [--smoke]`: runs benchmark suites (`bench/<suite>.ts`, each exporting
 * `run(options): Promise<BenchFigure[]>`), stores each suite's figures in `bench/results/<suite>.json`
 * and rewrites `bench/RESULTS.md` from every stored suite. Without a suite name, runs all of them;
 * several suites run one after another, each in its own process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchFigure, BenchOptions, BenchSuiteResult } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

const SUITES = ['ingest', 'fit', 'recalc', 'api', 'bundle', 'start', 'fuzz', 'load'];

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  return `${platform()} ${arch()}, ${cpus().length} × ${cpu.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(4)).toString();
}

function renderMarkdown(results: BenchSuiteResult[]): string {
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench`; each suite lists the machine and date it ran on. A figure whose',
    '`status` is `below target` is explained in its note.',
    '',
  ];
  for (const result of results) {
    lines.push(`## ${result.suite}`, '', `Machine: ${result.machine}  `, `Date: ${result.date}`, '');
    lines.push('| figure | value | unit | target | baseline | ratio to baseline | status | note |');
    lines.push('|---|---:|---|---|---|---:|---|---|');
    for (const f of result.figures) {
      const target = f.target ? `${f.target.op} ${formatValue(f.target.value)}` : '–';
      const baseline = f.baseline ? `${formatValue(f.baseline.value)} (${f.baseline.label})` : '–';
      const ratio = f.baseline && f.baseline.value !== 0 ? (f.value / f.baseline.value).toFixed(2) : '–';
      let status = '–';
      if (f.target) {
        const ok = f.target.op === '≤' ? f.value <= f.target.value : f.value >= f.target.value;
        status = ok ? 'meets target' : 'below target';
      }
      lines.push(
        `| ${f.name} | ${formatValue(f.value)} | ${f.unit} | ${target} | ${baseline} | ${ratio} | ${status} | ${f.note ?? ''} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(argv: string[]) {
  const smoke = argv.includes('--smoke');
  const requested = argv.filter((a) => !a.startsWith('--'));
  const unknown = requested.filter((s) => !SUITES.includes(s));
  if (unknown.length > 0) {
    console.error(`bench: unknown suite(s) ${unknown.join(', ')}; known: ${SUITES.join(', ')}`);
    return 2;
  }
  const available = SUITES.filter((s) => readdirSync(here).includes(`${s}.ts`));
  const suites = requested.length > 0 ? requested : available;
  mkdirSync(resultsDir, { recursive: true });
  if (suites.length > 1) {
    // One process per suite: process-wide figures (peak RSS, heap) then belong to that suite alone,
    // and no suite's leftovers (JIT state, open handles, garbage) weigh on the next one.
    for (const suite of suites) {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), suite, ...(smoke ? ['--smoke'] : [])],
        {
          stdio: 'inherit',
        },
      );
      if (child.status !== 0) {
        console.error(`bench: suite ${suite} failed (exit ${child.status ?? child.signal})`);
        return 1;
      }
    }
    if (!smoke) writeFileSync(join(here, 'RESULTS.md'), renderMarkdown(storedResults()));
    return 0;
  }
  const options: BenchOptions = { smoke };
  for (const suite of suites) {
    console.log(`\n▶ bench ${suite}${smoke ? ' (smoke)' : ''}`);
    const module = (await import(new URL(`./${suite}.ts`, import.meta.url).href)) as {
      run(options: BenchOptions): Promise<BenchFigure[]>;
    };
    const figures = await module.run(options);
    const result: BenchSuiteResult = {
      suite,
      machine: machine(),
      date: new Date().toISOString(),
      smoke,
      figures,
    };
    for (const f of figures) console.log(`  ${f.name}: ${formatValue(f.value)} ${f.unit}`);
    // Smoke runs (CI) must not overwrite the committed full results.
    if (!smoke) writeFileSync(join(resultsDir, `${suite}.json`), `${JSON.stringify(result, null, 2)}\n`);
  }
  if (!smoke) writeFileSync(join(here, 'RESULTS.md'), renderMarkdown(storedResults()));
  return 0;
}

function storedResults(): BenchSuiteResult[] {
  return readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as BenchSuiteResult)
    .sort((a, b) => SUITES.indexOf(a.suite) - SUITES.indexOf(b.suite));
}

process.exitCode = await main(process.argv.slice(2));
