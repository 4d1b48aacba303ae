/**
 * Progress reporting for the CLI: a redrawn bar on a terminal, plain lines elsewhere (CI logs and
 * pipes must not fill up with carriage returns).
 */
export interface ProgressStep {
  /** fraction in [0, 1] when known; detail is a short free text (e.g. "12,000 rows"). */
  update(fraction: number | null, detail?: string): void;
  done(detail?: string): void;
  fail(detail: string): void;
}

export interface ProgressReporter {
  step(label: string): ProgressStep;
  line(text: string): void;
}

const BAR_WIDTH = 24;

export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const interactive = Boolean(stream.isTTY) && !process.env.CI;
  return {
    line(text) {
      stream.write(`${text}\n`);
    },
    step(label) {
      const started = Date.now();
      let lastDraw = 0;
      const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (!interactive) stream.write(`… ${label}\n`);
      const draw = (fraction: number | null, detail?: string) => {
        const now = Date.now();
        if (!interactive || now - lastDraw < 50) return;
        lastDraw = now;
        const filled = fraction === null ? 0 : Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
        const bar =
          fraction === null
            ? '·'.repeat(BAR_WIDTH)
            : `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
        const pct = fraction === null ? '' : ` ${Math.round(fraction * 100)}%`;
        stream.write(`\r\x1b[2K${bar}${pct} ${label}${detail ? ` — ${detail}` : ''}`);
      };
      return {
        update: draw,
        done(detail) {
          const text = `✔ ${label}${detail ? ` — ${detail}` : ''} (${elapsed()})`;
          stream.write(interactive ? `\r\x1b[2K${text}\n` : `${text}\n`);
        },
        fail(detail) {
          const text = `✖ ${label} — ${detail} (${elapsed()})`;
          stream.write(interactive ? `\r\x1b[2K${text}\n` : `${text}\n`);
        },
      };
    },
  };
}
