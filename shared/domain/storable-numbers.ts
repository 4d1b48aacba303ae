/**
 * Range checks for numbers written to DynamoDB. The SDK refuses numbers beyond ±2^53 − 1 (and reads
 * larger ones back as BigInt or not at all) and NaN/∞ cannot be stored, so a degenerate fit that
 * yields 3.7e46 somewhere must be stopped with the field's name, not with an SDK stack trace.
 */
import { CvmError } from './errors.ts';

/** Largest magnitude a number may have to round-trip through the DynamoDB document client. */
export const MAX_STORABLE_NUMBER = Number.MAX_SAFE_INTEGER;

export const isStorableNumber = (value: number): boolean =>
  Number.isFinite(value) && Math.abs(value) <= MAX_STORABLE_NUMBER;

export interface UnstorableNumber {
  /** Dotted path of the field, e.g. `model.params.r` or `holdout.weekly.3.predicted`. */
  path: string;
  value: number;
}

/** Every number in a JSON-like value that cannot be stored, with its path. */
export function unstorableNumbers(value: unknown, path = ''): UnstorableNumber[] {
  if (typeof value === 'number') return isStorableNumber(value) ? [] : [{ path, value }];
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return entries.flatMap(([key, child]) => unstorableNumbers(child, path ? `${path}.${key}` : key));
}

/** A computed figure is outside what DynamoDB can store: the message names the field and how many customers. */
export class UnstorableNumberError extends CvmError {
  readonly code = 'unstorable_number';
}

const show = (value: number) => (Number.isFinite(value) ? value.toPrecision(3) : String(value));

/**
 * Throws when a run-level item (run record) holds a number that cannot be stored. `customers` is the
 * number of customers the figures were computed from.
 */
export function assertStorableRecord(what: string, record: unknown, customers: number): void {
  const bad = unstorableNumbers(record);
  if (bad.length === 0) return;
  const fields = bad
    .slice(0, 5)
    .map((b) => `${b.path} = ${show(b.value)}`)
    .join(', ');
  throw new UnstorableNumberError(
    `${what} cannot be stored: ${fields}${bad.length > 5 ? `, … (${bad.length} fields)` : ''} ${bad.length === 1 ? 'is' : 'are'} outside ±${show(MAX_STORABLE_NUMBER)} (computed from ${customers} customers). A model parameter this large means the fit ran to the edge of the parameter space: try a penalizer (e.g. 0.001) or more history.`,
  );
}

/**
 * Throws when any of a batch of per-customer items holds a number that cannot be stored; the
 * message names each field and how many customers it concerns (with one example id).
 */
export function assertStorableScores(what: string, items: readonly { customerId: string }[]): void {
  const byField = new Map<string, { customers: number; example: string; value: number }>();
  for (const item of items) {
    for (const bad of unstorableNumbers(item)) {
      const entry = byField.get(bad.path);
      if (entry) entry.customers++;
      else byField.set(bad.path, { customers: 1, example: item.customerId, value: bad.value });
    }
  }
  if (byField.size === 0) return;
  const fields = [...byField.entries()]
    .map(
      ([path, e]) =>
        `${path} of ${e.customers} of ${items.length} customers (e.g. customer ${e.example}: ${show(e.value)})`,
    )
    .join('; ');
  throw new UnstorableNumberError(
    `${what} cannot be stored: ${fields} outside ±${show(MAX_STORABLE_NUMBER)}. The fitted model is degenerate for these customers: try a penalizer (e.g. 0.001) or more history.`,
  );
}
