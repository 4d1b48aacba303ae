/**
 * The one argument parser of every `cvm` command, and the option schemas several commands share.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import * as z from 'zod';
import { parseEpochDay } from '#domain/rfm-summary.ts';

export interface CommandLineSpec<Schema extends z.ZodType> {
  /** `cvm <command>`, used as the prefix of every message. */
  command: string;
  usage: string;
  argv: string[];
  /** Options as `node:util` parseArgs takes them; `--help`/`-h` is added. */
  options: NonNullable<ParseArgsConfig['options']>;
  /** Validates and defaults the option values; its messages name the option. */
  schema: Schema;
  /**
   * How many positionals, described for the message ("one summary file"): exactly `count`, or
   * between `min` and `max` (no upper bound when `max` is omitted).
   */
  positionals: { count: number; what: string } | { min: number; max?: number; what: string };
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
  const expected = spec.positionals;
  if ('count' in expected) {
    if (expected.count === 0 && positionals.length > 0) {
      return fail(`takes no arguments besides options, got '${positionals[0]}'`);
    }
    if (positionals.length !== expected.count) {
      return fail(`expected exactly ${expected.what}, got ${positionals.length}`);
    }
  } else if (positionals.length < expected.min || positionals.length > (expected.max ?? Infinity)) {
    return fail(`expected ${expected.what}, got ${positionals.length}`);
  }
  const { help: _help, ...optionValues } = values;
  const parsed = spec.schema.safeParse(optionValues);
  if (!parsed.success) {
    return fail(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return { ok: true, options: parsed.data, positionals };
}

/** `--port N`: a TCP port 0–65535 (0 = any free port). */
export const portOption = (fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a port number 0–65535')
    .transform(Number)
    .refine((port) => port <= 65_535, 'expected a port number 0–65535')
    .optional()
    .transform((port) => port ?? fallback);

/** A calendar date `YYYY-MM-DD` (`--as-of`, `--observation-end`). */
export const dateOption = z.string().superRefine((value, context) => {
  try {
    parseEpochDay(value, 'date');
  } catch {
    context.addIssue({ code: 'custom', message: `expected a calendar date YYYY-MM-DD, got '${value}'` });
  }
});
