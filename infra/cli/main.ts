/**
 * `cvm` command-line entry point. Each command lives in `commands/<name>.ts` and exports
 * `run(argv: string[]): Promise<number>` (the exit code); commands are loaded on demand so that
 * `cvm fit` does not pay for starting S3 and DynamoDB stand-ins, and `--help` is answered from the
 * command registry without loading the command at all.
 */
import { pathToFileURL } from 'node:url';
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`cvm: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
