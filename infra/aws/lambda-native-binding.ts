/**
 * DuckDB's native binding for the Lambda platform, obtained for the function's architecture rather
 * than copied from the host's node_modules (npm installs only the host's binding, so copying worked on
 * linux-x64 glibc alone). The lockfile pins every platform's package with its integrity hash; the
 * Lambda's one is taken from node_modules when the host happens to match, else fetched with `npm pack`
 * (the project's own registry, no Docker) and checked against the lockfile before use.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Lambda architectures, as CDK spells them (`lambda.Architecture.X86_64.name`). */
export type LambdaArchitecture = 'x86_64' | 'arm64';

/** Lambda's Node runtimes run on Amazon Linux 2023: glibc, so never the `-musl` builds. */
export const DUCKDB_LAMBDA_BINDING: Record<LambdaArchitecture, string> = {
  x86_64: '@duckdb/node-bindings-linux-x64',
  arm64: '@duckdb/node-bindings-linux-arm64',
};

/** ELF `e_machine` of each architecture, checked in the binding before it is bundled. */
const ELF_MACHINE: Record<LambdaArchitecture, number> = { x86_64: 0x3e, arm64: 0xb7 };

export interface NativeBindingOptions {
  architecture: LambdaArchitecture;
  /** Directory holding package-lock.json (and usually node_modules). */
  projectDir: string;
  /** Where fetched bindings are kept between synths. @default `<projectDir>/node_modules/.cache/cvm-lambda-bindings` */
  cacheDir?: string;
}

export interface NativeBinding {
  packageName: string;
  version: string;
  /** Directory with the package's files (package.json, duckdb.node, libduckdb.so). */
  directory: string;
  /** Where it came from: the host's node_modules, the cache, or a fresh `npm pack`. */
  origin: 'node_modules' | 'cache' | 'registry';
}

/** The binding package for `architecture`, verified; fetches it when the host lacks it. */
export function lambdaDuckDbBinding(options: NativeBindingOptions): NativeBinding {
  const { architecture, projectDir } = options;
  const packageName = DUCKDB_LAMBDA_BINDING[architecture];
  const locked = lockedPackage(projectDir, packageName);

  const hostCopy = join(projectDir, 'node_modules', packageName);
  if (installedVersion(hostCopy) === locked.version) {
    assertElfMachine(hostCopy, architecture, packageName);
    return { packageName, version: locked.version, directory: hostCopy, origin: 'node_modules' };
  }

  const cacheDir = options.cacheDir ?? join(projectDir, 'node_modules', '.cache', 'cvm-lambda-bindings');
  const cached = join(cacheDir, `${packageName.replace('/', '+')}@${locked.version}`);
  const marker = join(cached, '.integrity');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === locked.integrity) {
    assertElfMachine(cached, architecture, packageName);
    return { packageName, version: locked.version, directory: cached, origin: 'cache' };
  }

  fetchVerified(packageName, locked, cached);
  assertElfMachine(cached, architecture, packageName);
  return { packageName, version: locked.version, directory: cached, origin: 'registry' };
}

/**
 * Copies DuckDB's JS packages (platform-independent) and the Lambda platform's binding into a
 * bundle's `node_modules`, where `@duckdb/node-bindings` looks for it at run time.
 */
export function copyDuckDbIntoBundle(options: NativeBindingOptions & { outputDir: string }): NativeBinding {
  const binding = lambdaDuckDbBinding(options);
  for (const name of DUCKDB_JS_PACKAGES) {
    const from = join(options.projectDir, 'node_modules', name);
    if (!existsSync(join(from, 'package.json'))) {
      throw new Error(`${name} is missing from node_modules: run npm ci before synthesizing with bundling`);
    }
    cpSync(from, join(options.outputDir, 'node_modules', name), { recursive: true });
  }
  cpSync(binding.directory, join(options.outputDir, 'node_modules', binding.packageName), {
    recursive: true,
    filter: (source) => !source.endsWith('.integrity'),
  });
  return binding;
}

/**
 * Kept external by esbuild (a native addon cannot be bundled) and copied beside the bundle;
 * `detect-libc` is loaded by the bindings (inside a try/catch) to tell glibc from musl.
 */
export const DUCKDB_JS_PACKAGES = ['@duckdb/node-api', '@duckdb/node-bindings', 'detect-libc'] as const;

/**
 * Kept out of the esbuild bundle (a native addon cannot be bundled) and copied beside it, with the
 * binding of the function's architecture.
 */
export const DUCKDB_EXTERNAL_MODULES = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  ...Object.values(DUCKDB_LAMBDA_BINDING),
];

/**
 * The bundling settings of a function that runs DuckDB: the packages esbuild leaves out and the hook
 * that copies them, with the architecture's binding, into the bundle. Copied in Node rather than by
 * shell commands, so bundling works on any host OS.
 */
export function duckDbBundling(architecture: LambdaArchitecture, projectDir: string) {
  return {
    externalModules: DUCKDB_EXTERNAL_MODULES,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => {
        copyDuckDbIntoBundle({ architecture, projectDir, outputDir });
        return [];
      },
    },
  };
}

interface LockedPackage {
  version: string;
  integrity: string;
}

function lockedPackage(projectDir: string, packageName: string): LockedPackage {
  const lockPath = join(projectDir, 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages?.[`node_modules/${packageName}`];
  if (!entry?.version || !entry.integrity) {
    throw new Error(
      `${lockPath} does not pin ${packageName} with an integrity hash: reinstall @duckdb/node-api so the lockfile lists every platform's binding`,
    );
  }
  return { version: entry.version, integrity: entry.integrity };
}

function installedVersion(directory: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version?: string })
      .version;
  } catch {
    return undefined;
  }
}

/** `npm pack` the exact locked version, check its SRI hash against the lockfile, unpack it. */
function fetchVerified(packageName: string, locked: LockedPackage, target: string): void {
  const work = mkdtempSync(join(tmpdir(), 'cvm-binding-'));
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const output = execFileSync(
      npm,
      ['pack', `${packageName}@${locked.version}`, '--json', '--pack-destination', work],
      { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' },
    );
    const reported = (JSON.parse(output) as Array<{ filename?: string }>)[0]?.filename;
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${packageName}@${locked.version} wrote no package (${reported})`);
    const tarPath = join(work, tarball);
    const [algorithm, expected] = splitIntegrity(locked.integrity);
    const actual = createHash(algorithm).update(readFileSync(tarPath)).digest('base64');
    if (actual !== expected) {
      throw new Error(
        `${packageName}@${locked.version}: the downloaded package does not match package-lock.json (${algorithm} ${actual} ≠ ${expected}); refusing to bundle it`,
      );
    }
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarPath, '-C', unpacked], { stdio: 'ignore' });
    rmSync(target, { recursive: true, force: true });
    mkdirSync(join(target, '..'), { recursive: true });
    renameSync(join(unpacked, 'package'), target);
    writeFileSync(join(target, '.integrity'), locked.integrity);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function splitIntegrity(integrity: string): [string, string] {
  const dash = integrity.indexOf('-');
  return [integrity.slice(0, dash), integrity.slice(dash + 1)];
}

/** The addon must be a 64-bit ELF for the Lambda's CPU; anything else fails at cold start. */
function assertElfMachine(directory: string, architecture: LambdaArchitecture, packageName: string): void {
  const addon = join(directory, 'duckdb.node');
  const header = readFileSync(addon).subarray(0, 20);
  const isElf64 = header[0] === 0x7f && header.toString('latin1', 1, 4) === 'ELF' && header[4] === 2;
  const machine = header.readUInt16LE(18);
  if (!isElf64 || machine !== ELF_MACHINE[architecture]) {
    throw new Error(
      `${packageName}: ${addon} is not a 64-bit Linux ${architecture} binary (ELF machine 0x${machine.toString(16)}); the Lambda could not load it`,
    );
  }
}
