/**
 * Bundling as a deployment runs it: esbuild on, DuckDB's binding obtained for the Lambda's platform
 * whatever the host, and every asset loadable from an empty folder (nothing resolved from the
 * project's node_modules at run time).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyDuckDbIntoBundle,
  DUCKDB_LAMBDA_BINDING,
  lambdaDuckDbBinding,
} from '#infra/aws/lambda-native-binding.ts';
import { addPipelineStack } from '#infra/aws/pipeline-app.ts';
import type { CfnJson } from './synth-pipeline.ts';

const PROJECT_DIR = process.cwd();
const temporary: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

/** A project checkout whose node_modules has no DuckDB binding at all, as on macOS, Windows or ARM. */
function hostWithoutBinding(): string {
  const dir = tempDir('cvm-foreign-host-');
  copyFileSync(join(PROJECT_DIR, 'package-lock.json'), join(dir, 'package-lock.json'));
  return dir;
}

/** Runs `script` (an ES module) with `cwd` as its folder and no AWS settings; returns stdout. */
function runIn(cwd: string, script: string, variables: Record<string, string> = {}): string {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: cwd, TZ: 'UTC', ...variables };
  writeFileSync(join(cwd, 'probe.mjs'), script);
  return execFileSync(process.execPath, ['probe.mjs'], { cwd, env, encoding: 'utf8', timeout: 60_000 });
}

describe('DuckDB binding for the Lambda platform', () => {
  it('fetches the arm64 binding on a host that lacks it, checks it against the lockfile and caches it', () => {
    const project = hostWithoutBinding();
    const fetched = lambdaDuckDbBinding({ architecture: 'arm64', projectDir: project });
    expect(fetched.origin).toBe('registry');
    expect(fetched.packageName).toBe(DUCKDB_LAMBDA_BINDING.arm64);
    const elf = readFileSync(join(fetched.directory, 'duckdb.node'));
    expect(elf.readUInt16LE(18)).toBe(0xb7); // aarch64
    expect(lambdaDuckDbBinding({ architecture: 'arm64', projectDir: project }).origin).toBe('cache');
  }, 120_000);

  it('refuses a binding whose bytes do not match the lockfile', () => {
    const project = hostWithoutBinding();
    const lockPath = join(project, 'package-lock.json');
    const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
    lock.packages[`node_modules/${DUCKDB_LAMBDA_BINDING.arm64}`].integrity = `sha512-${'A'.repeat(86)}==`;
    writeFileSync(lockPath, JSON.stringify(lock));
    expect(() => lambdaDuckDbBinding({ architecture: 'arm64', projectDir: project })).toThrow(
      /does not match package-lock\.json/,
    );
  }, 120_000);

  it('gives a working x86_64 DuckDB to a bundle built on a host without the binding', async () => {
    const project = hostWithoutBinding();
    const bundle = tempDir('cvm-bundle-');
    // The JS packages come from the real node_modules; only the native binding is missing on this "host".
    const binding = copyDuckDbIntoBundle({
      architecture: 'x86_64',
      projectDir: PROJECT_DIR,
      outputDir: bundle,
      cacheDir: join(project, 'cache'),
    });
    expect(binding.packageName).toBe(DUCKDB_LAMBDA_BINDING.x86_64);
    const fromRegistry = lambdaDuckDbBinding({ architecture: 'x86_64', projectDir: project });
    expect(fromRegistry.origin).toBe('registry');
    rmSync(join(bundle, 'node_modules', fromRegistry.packageName), { recursive: true });
    cpSync(fromRegistry.directory, join(bundle, 'node_modules', fromRegistry.packageName), {
      recursive: true,
    });
    const answer = runIn(
      bundle,
      `import { DuckDBInstance } from '@duckdb/node-api';
       const connection = await (await DuckDBInstance.create(':memory:')).connect();
       const reader = await connection.runAndReadAll('SELECT 6 * 7 AS answer');
       console.log(String(reader.getRowObjectsJS()[0].answer));`,
    );
    expect(answer.trim()).toBe('42');
  }, 180_000);
});

describe('cdk synth with bundling', () => {
  let assetsDir: string;
  /** Each bundled function: its asset folder and its environment (references as placeholders). */
  let functions: Array<{ id: string; asset: string; environment: Record<string, string> }>;

  beforeAll(() => {
    assetsDir = tempDir('cvm-cdk-bundled-');
    const app = new App({ outdir: assetsDir, context: { cvm: {} } });
    const stack = addPipelineStack(app);
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties?: CfnJson }>;
    };
    functions = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([id, resource]) => ({
        id,
        // The asset's folder is named after the zip's content hash, which is the S3 key.
        asset: `asset.${String(resource.Properties?.Code?.S3Key ?? '').replace(/\.zip$/, '')}`,
        environment: Object.fromEntries(
          Object.entries((resource.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>).map(
            ([name, value]) => [
              name,
              typeof value === 'string' ? value : `placeholder-${name.toLowerCase()}`,
            ],
          ),
        ),
      }))
      .filter(({ asset }) => existsSync(join(assetsDir, asset, 'index.mjs')));
  }, 300_000);

  it('bundles every function', () => {
    expect(functions.length).toBeGreaterThanOrEqual(3);
  });

  it("loads every asset from an empty folder with its function's environment", () => {
    for (const { id, asset, environment } of functions) {
      const copy = tempDir('cvm-asset-');
      cpSync(join(assetsDir, asset), copy, { recursive: true });
      const exported = runIn(
        copy,
        `const module = await import('./index.mjs');
         console.log(Object.keys(module).sort().join(','));`,
        { AWS_REGION: 'eu-west-1', ...environment },
      );
      expect(exported.trim(), `${id} exports nothing`).not.toBe('');
    }
  }, 120_000);

  it('puts the x86_64 DuckDB binding beside the ingest and erasure bundles only', () => {
    const withDuckDb = new Set(
      functions
        .map(({ asset }) => asset)
        .filter((asset) =>
          existsSync(join(assetsDir, asset, 'node_modules', DUCKDB_LAMBDA_BINDING.x86_64, 'duckdb.node')),
        ),
    );
    expect(withDuckDb.size).toBe(2);
  });
});
