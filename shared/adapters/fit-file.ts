/**
 * The fitted-model file `cvm fit --out fit.json` writes and `cvm predict --params` reads: model,
 * parameters, time unit, penalizer, the spend model and the identification verdict. Reading it back
 * validates every field; a bad file is an InputFileError naming the file and the field.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { BGBB_PARAM_NAMES } from '../domain/models/bgbb.ts';
import { PURCHASE_MODEL_PARAMS } from '../domain/models/purchase-models.ts';
import { SBG_PARAM_NAMES } from '../domain/models/sbg.ts';
import { InputFileError } from './csv-file.ts';

export const FITTED_MODEL_NAMES = ['bgnbd', 'mbgnbd', 'pareto', 'bgbb', 'sbg'] as const;
export type FittedModelName = (typeof FITTED_MODEL_NAMES)[number];

/** Parameter names of every model a fit file can hold. */
export const FITTED_MODEL_PARAMS: Record<FittedModelName, readonly string[]> = {
  ...PURCHASE_MODEL_PARAMS,
  bgbb: BGBB_PARAM_NAMES,
  sbg: SBG_PARAM_NAMES,
};

const positive = z.number().positive().finite();

export const fitFileSchema = z
  .object({
    model: z.enum(FITTED_MODEL_NAMES),
    params: z.record(z.string(), positive),
    /** Time unit of the summary the model was fitted on (discrete models: opportunities). */
    timeUnit: z.enum(['days', 'weeks']),
    penalizer: z.number().min(0),
    logLikelihood: z.number(),
    customers: z.number().min(0),
    identified: z.boolean(),
    warnings: z.array(z.string()),
    spend: z
      .object({
        model: z.literal('gamma-gamma'),
        params: z.object({ p: positive, q: positive, v: positive }),
        logLikelihood: z.number(),
      })
      .nullable(),
  })
  .superRefine((fit, context) => {
    for (const name of FITTED_MODEL_PARAMS[fit.model]) {
      if (fit.params[name] === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['params', name],
          message: `missing: ${fit.model} needs ${FITTED_MODEL_PARAMS[fit.model].join(', ')}`,
        });
      }
    }
  });

export type FitFile = z.infer<typeof fitFileSchema>;

export function writeFitFile(path: string, fit: FitFile): void {
  writeFileSync(path, `${JSON.stringify(fit, null, 2)}\n`);
}

/** Reads and validates a fit file; errors read `fit.json: params.alpha: …`. */
export function readFitFile(path: string): FitFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputFileError(`${path}: no such file (write one with cvm fit --out ${path})`);
    }
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputFileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = fitFileSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      return field ? `${field}: ${issue.message}` : issue.message;
    });
    throw new InputFileError(`${path}: not a cvm fit file: ${problems.join('; ')}`);
  }
  return parsed.data;
}
