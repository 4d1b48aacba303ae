/**
 * `cvm summarize <transactions> --observation-end YYYY-MM-DD [--unit days|weeks]
 *   [--calibration-end YYYY-MM-DD] [--format csv|cdnow] [--config mapping.json] [--out summary.csv]`:
 * per-customer RFM summary of a transaction log, as CSV (lifetimes column names).
 */

import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { InputFileError, readTransactions, summaryToCsv, writeTextFile } from '#adapters/csv-file.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import { parseSourceConfigText, type SourceConfig } from '#domain/ingest/source-config.ts';
import { summarizeTransactions } from '#domain/rfm-summary.ts';
import { parseCommandLine } from '../command-line.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('summarize');

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');
const optionsSchema = z.object({
  'observation-end': isoDate,
  unit: z.enum(['days', 'weeks']).default('days'),
  'calibration-end': isoDate.optional(),
  format: z.enum(['csv', 'cdnow', 'auto']).default('auto'),
  config: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
});

export async function run(argv: string[]): Promise<number> {
  const commandLine = parseCommandLine({
    command: 'cvm summarize',
    usage: USAGE,
    argv,
    options: {
      'observation-end': { type: 'string' },
      unit: { type: 'string' },
      'calibration-end': { type: 'string' },
      format: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
    },
    schema: optionsSchema,
    positionals: { count: 1, what: 'one transactions file' },
  });
  if (!commandLine.ok) return commandLine.exitCode;
  const options = commandLine.options;
  const file = commandLine.positionals[0]!;
  const configFile = options.config;
  try {
    let config: SourceConfig = {};
    if (configFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(configFile, 'utf8');
      } catch (error) {
        console.error(`cvm summarize: cannot read the mapping ${configFile}: ${(error as Error).message}`);
        return 1;
      }
      config = parseSourceConfigText(text, configFile);
    }
    const summary = summarizeTransactions(readTransactions(file, options.format, { config }), {
      observationEnd: options['observation-end'],
      unit: options.unit,
      ...(options['calibration-end'] ? { calibrationEnd: options['calibration-end'] } : {}),
    });
    const csv = summaryToCsv(summary);
    if (options.out) writeTextFile(options.out, csv);
    else process.stdout.write(csv);
    const notes = [`${summary.customerIds.length} customers (${summary.unit})`];
    if (summary.excluded.noPurchaseDay > 0) {
      notes.push(
        `${summary.excluded.noPurchaseDay} left out: only refund days (net value < 0) up to the calibration end`,
      );
    }
    if (summary.rowsAfterObservationEnd > 0) {
      notes.push(`${summary.rowsAfterObservationEnd} rows after the observation end ignored`);
    }
    console.error(`cvm summarize: ${notes.join('; ')}${options.out ? ` → ${options.out}` : ''}`);
    return 0;
  } catch (error) {
    if (error instanceof InputFileError || error instanceof IngestFileError || error instanceof RangeError) {
      console.error(`cvm summarize: ${error.message}`);
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`cvm summarize: cannot read ${file}: no such file`);
      return 1;
    }
    throw error;
  }
}
