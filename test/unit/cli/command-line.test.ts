import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { parseCommandLine } from '../../../infra/cli/command-line.ts';

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
});
