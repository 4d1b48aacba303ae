/**
 * The CLI's command-line parsing: validated and defaulted options, usage on --help, positional counts,
 * and the shared port and date option schemas.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { dateOption, parseCommandLine, portOption } from '#infra/cli/command-line.ts';

const spec = (argv: string[]) => ({
  command: 'cvm demo',
  usage: 'Usage: cvm demo <file> [--limit N]',
  argv,
  options: { limit: { type: 'string' as const } },
  schema: z.object({ limit: z.coerce.number().int().min(1, 'must be ≥ 1').default(10) }),
  positionals: { count: 1, what: 'one input file' },
});

describe('parseCommandLine', () => {
  const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
  const stdout = vi.spyOn(console, 'log').mockImplementation(() => {});
  afterEach(() => {
    stderr.mockClear();
    stdout.mockClear();
  });

  it('returns validated, defaulted options and the positionals', () => {
    expect(parseCommandLine(spec(['in.csv']))).toEqual({
      ok: true,
      options: { limit: 10 },
      positionals: ['in.csv'],
    });
    expect(parseCommandLine(spec(['--limit', '3', 'in.csv']))).toMatchObject({
      ok: true,
      options: { limit: 3 },
    });
  });

  it('prints the usage on --help and exits 0', () => {
    expect(parseCommandLine(spec(['-h']))).toEqual({ ok: false, exitCode: 0 });
    expect(stdout).toHaveBeenCalledWith('Usage: cvm demo <file> [--limit N]');
    expect(stderr).not.toHaveBeenCalled();
  });

  it.each([
    [['--nope', 'in.csv'], "cvm demo: Unknown option '--nope'"],
    [[], 'cvm demo: expected exactly one input file, got 0'],
    [['a.csv', 'b.csv'], 'cvm demo: expected exactly one input file, got 2'],
    [['--limit', '0', 'in.csv'], 'cvm demo: --limit: must be ≥ 1'],
  ])('reports %j as a usage error (exit 2) naming the problem', (argv, message) => {
    expect(parseCommandLine(spec(argv))).toEqual({ ok: false, exitCode: 2 });
    const printed = String(stderr.mock.calls[0]?.[0]);
    expect(printed).toContain(message);
    expect(printed).toContain('Usage: cvm demo');
  });

  it('takes a range of positionals, or none', () => {
    const files = (argv: string[]) => ({ ...spec(argv), positionals: { min: 1, what: 'one or more files' } });
    expect(parseCommandLine(files(['a', 'b', 'c']))).toMatchObject({
      ok: true,
      positionals: ['a', 'b', 'c'],
    });
    expect(parseCommandLine(files([]))).toEqual({ ok: false, exitCode: 2 });
    expect(String(stderr.mock.calls[0]?.[0])).toContain('expected one or more files, got 0');
    stderr.mockClear();
    const none = (argv: string[]) => ({ ...spec(argv), positionals: { count: 0, what: 'no arguments' } });
    expect(parseCommandLine(none(['stray']))).toEqual({ ok: false, exitCode: 2 });
    expect(String(stderr.mock.calls[0]?.[0])).toContain("takes no arguments besides options, got 'stray'");
  });
});

describe('shared option schemas', () => {
  it('reads ports with a default and refuses anything outside 0–65535', () => {
    expect(portOption(8080).parse(undefined)).toBe(8080);
    expect(portOption(8080).parse('0')).toBe(0);
    expect(portOption(8080).safeParse('65536').success).toBe(false);
    expect(portOption(8080).safeParse('80a').success).toBe(false);
  });

  it('takes calendar dates only', () => {
    expect(dateOption.parse('2024-02-29')).toBe('2024-02-29');
    expect(dateOption.safeParse('2023-02-29').error?.issues[0]?.message).toBe(
      "expected a calendar date YYYY-MM-DD, got '2023-02-29'",
    );
  });
});
