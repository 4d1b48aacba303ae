/**
 * `cvm fit <summary.csv> [--model …] [--penalizer X] [--json] [--out fit.json]`: fits a purchase
 * model (and Gamma-Gamma when the summary has spend), prints the parameters and writes the fit file
 * `cvm predict --params` reads.
 */

import * as z from 'zod';
import { InputFileError, readSummaryFile } from '#adapters/csv-file.ts';
import { readDiscreteSummary } from '#adapters/discrete-summary-file.ts';
import { type FitFile, writeFitFile } from '#adapters/fit-file.ts';
import { fitBgBb } from '#domain/models/bgbb.ts';
import { ModelFitError } from '#domain/models/fit.ts';
import { fitGammaGamma, type GammaGammaFit } from '#domain/models/gamma-gamma.ts';
import { fitPurchaseModel } from '#domain/models/purchase-models.ts';
import { fitSbg } from '#domain/models/sbg.ts';
import type { FitResult } from '#domain/models/types.ts';
import { compressRfm } from '#domain/rfm-summary.ts';
import { parseCommandLine } from '../command-line.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('fit');

const optionsSchema = z.object({
  model: z.enum(['bgnbd', 'mbgnbd', 'pareto', 'bgbb', 'sbg']).default('bgnbd'),
  penalizer: z.coerce.number().min(0, 'must be ≥ 0').default(0),
  json: z.boolean().default(false),
  'time-limit': z.coerce.number().gt(0, 'must be > 0 seconds').default(30),
  'time-unit': z.enum(['days', 'weeks']).default('weeks'),
  out: z.string().optional(),
});

export type FitCommandOptions = z.output<typeof optionsSchema>;

/** A fitted model as `cvm fit` prints it and as the fit file stores it. */
export interface SummaryFit {
  fit: FitResult<Record<string, number>>;
  spend: GammaGammaFit | null;
  /** Why the spend model was not fitted although the summary has spend. */
  spendNote: string | null;
  record: FitFile;
}

/**
 * Fits the model of `options.model` to a summary file, exactly as `cvm fit` does (also used by
 * `cvm predict` without --params). Throws InputFileError / ModelFitError.
 */
export function fitSummaryFile(
  file: string,
  options: Pick<FitCommandOptions, 'model' | 'penalizer' | 'time-limit' | 'time-unit'>,
): SummaryFit {
  const { model, penalizer } = options;
  const timeLimitMs = options['time-limit'] * 1000;
  let fit: FitResult<Record<string, number>>;
  let spend: GammaGammaFit | null = null;
  let spendNote: string | null = null;
  if (model === 'bgbb' || model === 'sbg') {
    const data = readDiscreteSummary(model, file);
    const fitOptions = { penalizer, timeLimitMs };
    // Both results are used by parameter name; their own parameter types are not needed here.
    fit = (model === 'bgbb' ? fitBgBb(data, fitOptions) : fitSbg(data, fitOptions)) as unknown as FitResult<
      Record<string, number>
    >;
  } else {
    const summary = readSummaryFile(file, { ids: false });
    fit = fitPurchaseModel(model, compressRfm(summary.x, summary.tx, summary.T), { penalizer, timeLimitMs });
    if (summary.monetaryValue) {
      try {
        spend = fitGammaGamma(summary.x, summary.monetaryValue, { penalizer, timeLimitMs });
      } catch (error) {
        if (!(error instanceof ModelFitError)) throw error;
        spendNote = error.message;
      }
    }
  }
  const record: FitFile = {
    model,
    params: fit.params,
    timeUnit: options['time-unit'],
    penalizer,
    logLikelihood: fit.logLikelihood,
    customers: fit.customers,
    identified: fit.identified,
    warnings: fit.warnings,
    spend: spend
      ? {
          model: 'gamma-gamma',
          params: { ...spend.params },
          logLikelihood: spend.logLikelihood,
        }
      : null,
  };
  return { fit, spend, spendNote, record };
}

function formatTable(rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map((c) => (typeof c === 'number' ? formatValue(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(2) : Number(value.toPrecision(6)).toString();
}

export async function run(argv: string[]): Promise<number> {
  const commandLine = parseCommandLine({
    command: 'cvm fit',
    usage: USAGE,
    argv,
    options: {
      model: { type: 'string' },
      penalizer: { type: 'string' },
      json: { type: 'boolean' },
      'time-limit': { type: 'string' },
      'time-unit': { type: 'string' },
      out: { type: 'string' },
    },
    schema: optionsSchema,
    positionals: { count: 1, what: 'one summary file' },
  });
  if (!commandLine.ok) return commandLine.exitCode;
  const { model, penalizer, json, out } = commandLine.options;
  const file = commandLine.positionals[0]!;
  try {
    const { fit, spend, spendNote, record } = fitSummaryFile(file, commandLine.options);
    if (out !== undefined) writeFitFile(out, record);
    if (model === 'bgbb' || model === 'sbg') {
      if (json) {
        console.log(
          JSON.stringify({
            model,
            params: fit.params,
            logLikelihood: fit.logLikelihood,
            converged: fit.converged,
            customers: fit.customers,
            standardErrors: fit.standardErrors,
            identified: fit.identified,
            warnings: fit.warnings,
          }),
        );
      } else {
        console.log(`${model} fitted to ${fit.customers} customers (${fit.rows} distinct rows) from ${file}`);
        console.log(
          formatTable([
            ['parameter', 'estimate', 'std. error'],
            ...Object.keys(fit.params).map((n) => [n, fit.params[n]!, fit.standardErrors[n]!]),
          ]),
        );
        console.log(`log-likelihood ${formatValue(fit.logLikelihood)}; ${fit.iterations} iterations`);
      }
      for (const warning of fit.warnings) console.error(`cvm fit: warning: ${warning}`);
      if (out !== undefined) console.error(`cvm fit: fit written to ${out}`);
      return 0;
    }
    if (json) {
      const output = {
        model,
        params: fit.params,
        logLikelihood: fit.logLikelihood,
        converged: fit.converged,
        customers: fit.customers,
        standardErrors: fit.standardErrors,
        spend: spend ? { params: spend.params, logLikelihood: spend.logLikelihood } : null,
        // Only a fit that needs them carries the identification keys, so the documented shape of
        // an ordinary fit stays exactly as it was.
        ...(fit.identified && fit.warnings.length === 0
          ? {}
          : { identified: fit.identified, warnings: fit.warnings }),
      };
      console.log(JSON.stringify(output));
    } else {
      const names = Object.keys(fit.params);
      console.log(`${model} fitted to ${fit.customers} customers (${fit.rows} distinct rows) from ${file}`);
      console.log(
        formatTable([
          ['parameter', 'estimate', 'std. error'],
          ...names.map((n) => [n, fit.params[n]!, fit.standardErrors[n]!]),
        ]),
      );
      console.log(
        `log-likelihood ${formatValue(fit.logLikelihood)}; converged after ${fit.iterations} iterations (gradient norm ${fit.gradientNorm.toExponential(1)})${penalizer > 0 ? `; penalizer ${penalizer}` : ''}`,
      );
      if (spend) {
        const e = spend.excluded;
        console.log(`\ngamma-gamma spend model fitted to ${spend.customers} customers with repeat purchases`);
        console.log(
          formatTable([
            ['parameter', 'estimate', 'std. error'],
            ...(['p', 'q', 'v'] as const).map((n) => [n, spend.params[n], spend.standardErrors[n]]),
          ]),
        );
        console.log(
          `log-likelihood ${formatValue(spend.logLikelihood)}; left out: ${e.noRepeatPurchases} without repeat purchases, ${e.nonPositiveSpend} with mean value ≤ 0, ${e.invalid} invalid`,
        );
      }
    }
    for (const warning of fit.warnings) console.error(`cvm fit: warning: ${warning}`);
    if (spendNote) console.error(`cvm fit: spend model not fitted: ${spendNote}`);
    if (out !== undefined) console.error(`cvm fit: fit written to ${out}`);
    return 0;
  } catch (error) {
    if (error instanceof InputFileError || error instanceof ModelFitError) {
      console.error(`cvm fit: ${error.message}`);
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`cvm fit: cannot read ${file}: no such file`);
      return 1;
    }
    throw error;
  }
}
