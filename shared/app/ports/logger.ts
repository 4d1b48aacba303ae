/**
 * The logging port of the application services: structured lines with counts, keys, ids and
 * durations — never customer ids or amounts. Powertools' Logger satisfies it in AWS and locally.
 */
export interface AppLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** A logger that drops everything (tests, and library use without logging). */
export const silentLogger: AppLogger = {
  info() {},
  warn() {},
  error() {},
};
