/**
 * `cvm` command-line entry point. Each command lives in `commands/<name>.ts` and exports
 * `run(argv: string[]): Promise<number>` (the exit code); commands are loaded on demand so that
 * `cvm fit` does not pay for starting S3 and DynamoDB stand-ins, and `--help` is answered from the
 * command registry without loading the command at all.
 */
import { pathToFileURL } from 'node:url';
import { CvmError } from '#domain/errors.ts';
import { COMMANDS, type CommandName } from './commands.ts';

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, info]) => `  ${name.padEnd(width)}  ${info.summary}`);
  return [
    'Usage: cvm <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'cvm <command> --help for details.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // The SDK warns on every start that future releases will need Node 22; on a laptop that is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    console.error(`cvm: unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  // Options end at `--`; anything after it is an argument, even if it reads `--help`.
  const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (options.includes('--help') || options.includes('-h')) {
    console.log(COMMANDS[name as CommandName].usage);
    return 0;
  }
  const module = (await import(new URL(`./commands/${name}.ts`, import.meta.url).href)) as CommandModule;
  return module.run(rest);
}

/**
 * Runs the CLI as a process does (the `cvm` binary and `npm run cvm`): sets the exit code, and turns an
 * error into one line — ours (a `CvmError`) with its message, and a full disk or a missing permission
 * with what to do — instead of a stack trace. Unexpected errors keep their stack, for a bug report.
 */
export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    console.error(`cvm: ${describeFailure(error)}`);
    process.exitCode = 1;
  }
}

const SYSTEM_ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free some space (or set CVM_HOME to a disk with room) and run the command again',
  EACCES: 'permission denied: check that you may write to CVM_HOME and read the input files',
  EPERM: 'operation not permitted: check the permissions of CVM_HOME and the input files',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run the command again',
};

export function describeFailure(error: unknown): string {
  if (error instanceof CvmError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && SYSTEM_ADVICE[code]) {
    const path = (error as NodeJS.ErrnoException).path;
    return `${SYSTEM_ADVICE[code]}${path ? ` (${path})` : ''}`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCli(process.argv.slice(2));
}
