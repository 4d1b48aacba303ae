/**
 * Reads the summary CSVs of the discrete-opportunity models (BG/BB for donors: frequency, recency,
 * periods[, weights]; sBG for subscribers: customer_id, recency, T). Input errors name file, line and field.
 */

import { bgbbRowProblem } from '../domain/models/bgbb.ts';
import { sbgRowProblem } from '../domain/models/sbg.ts';
import type { CompressedRfm } from '../domain/models/types.ts';
import { InputFileError, readLines, splitCsvLine } from './csv-file.ts';

export type DiscreteModelName = 'bgbb' | 'sbg';
export const DISCRETE_MODEL_NAMES: readonly DiscreteModelName[] = ['bgbb', 'sbg'];

/** Columns each model reads (lifetimes names for BG/BB). */
const COLUMNS: Record<DiscreteModelName, { required: string[]; optional: string[] }> = {
  bgbb: { required: ['frequency', 'recency', 'periods'], optional: ['weights'] },
  sbg: { required: ['recency', 'T'], optional: ['weights'] },
};

/** Reads a BG/BB (`frequency,recency,periods[,weights]`) or sBG (`customer_id,recency,T`) summary. */
export function readDiscreteSummary(model: DiscreteModelName, path: string): CompressedRfm {
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  const weight: number[] = [];
  let index: Record<string, number> | null = null;
  let lineNumber = 0;
  for (const line of readLines(path)) {
    lineNumber++;
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line).map((f) => f.trim());
    const where = `${path}:${lineNumber}`;
    if (index === null) {
      const { required, optional } = COLUMNS[model];
      const missing = required.filter((name) => !fields.includes(name));
      if (missing.length > 0) {
        throw new InputFileError(
          `${where}: the header of a ${model} summary must have the columns ${required.join(', ')}; missing ${missing.join(', ')} (header: ${line})`,
        );
      }
      index = Object.fromEntries([...required, ...optional].map((name) => [name, fields.indexOf(name)]));
      continue;
    }
    const columns = index;
    const number = (name: string): number => {
      const raw = fields[columns[name]!];
      if (raw === undefined || raw === '') throw new InputFileError(`${where}: field '${name}' is missing`);
      const value = Number(raw);
      if (!Number.isFinite(value))
        throw new InputFileError(`${where}: field '${name}': expected a number, got '${raw}'`);
      return value;
    };
    const w = columns['weights']! >= 0 ? number('weights') : 1;
    if (!(w >= 0)) throw new InputFileError(`${where}: field 'weights': must be ≥ 0, got ${w}`);
    if (model === 'bgbb') {
      const [f, r, n] = [number('frequency'), number('recency'), number('periods')];
      const problem = bgbbRowProblem(f, r, n);
      if (problem) throw new InputFileError(`${where}: ${problem}`);
      x.push(f);
      tx.push(r);
      T.push(n);
    } else {
      const [r, t] = [number('recency'), number('T')];
      const problem = sbgRowProblem(r, t);
      if (problem) throw new InputFileError(`${where}: ${problem}`);
      x.push(0);
      tx.push(r);
      T.push(t);
    }
    weight.push(w);
  }
  if (index === null) throw new InputFileError(`${path}: the file is empty (expected a header line)`);
  return {
    x: Float64Array.from(x),
    tx: Float64Array.from(tx),
    T: Float64Array.from(T),
    weight: Float64Array.from(weight),
    length: x.length,
  };
}
