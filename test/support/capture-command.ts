/**
 * Runs a `cvm` command's `run(argv)` in-process and captures what it prints (console log and error;
 * progress on stderr is silenced): what the CLI integration tests assert on.
 */
import { vi } from 'vitest';

export async function captureCommand(command: (argv: string[]) => Promise<number>, argv: string[]) {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.join(' '));
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    lines.push(args.join(' '));
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await command(argv);
    return { code, output: lines.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    stderr.mockRestore();
  }
}
