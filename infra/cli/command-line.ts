import { type ParseArgsConfig, parseArgs } from 'node:util';
import type * as z from 'zod';

export interface CommandLineSpec<Schema extends z.ZodType> {
  /** `cvm <command>`, used as the prefix of every message. */
  command: string;
  usage: string;
  argv: string[];
  /** Options as `node:util` parseArgs takes them; `--help`/`-h` is added. */
  options: NonNullable<ParseArgsConfig['options']>;
  /** Validates and defaults the option values; its messages name the option. */
  schema: Schema;
  /** Exactly this many positionals, described for the message ("one summary file"). */
  positionals: { count: number; what: string };
}

export type CommandLine<Schema extends z.ZodType> =
  | { ok: true; options: z.output<Schema>; positionals: string[] }
  | { ok: false; exitCode: 0 | 2 };

/**
 * Parses a command's arguments the way every `cvm` command reports problems: unknown options, a
 * wrong number of positionals and invalid values go to stderr with the usage and exit code 2;
 * `--help` prints the usage and exits 0.
 */
export function parseCommandLine<Schema extends z.ZodType>(
  spec: CommandLineSpec<Schema>,
): CommandLine<Schema> {
  const fail = (message: string): CommandLine<Schema> => {
    console.error(`${spec.command}: ${message}\n\n${spec.usage}`);
    return { ok: false, exitCode: 2 };
  };
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: spec.argv,
      allowPositionals: true,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values['help']) {
    console.log(spec.usage);
    return { ok: false, exitCode: 0 };
  }
  if (positionals.length !== spec.positionals.count) {
    return fail(`expected exactly ${spec.positionals.what}, got ${positionals.length}`);
  }
  const { help: _help, ...optionValues } = values;
  const parsed = spec.schema.safeParse(optionValues);
  if (!parsed.success) {
    return fail(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return { ok: true, options: parsed.data, positionals };
}
