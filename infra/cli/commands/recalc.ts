/**
 * `cvm recalc [--as-of YYYY-MM-DD] [--model bgnbd|mbgnbd|pareto|auto] [--family F] [--currency XXX] [--json]`:
 * runs the weekly value recalculation on the local stack, one progress line per step, then prints
 * the segment table and the holdout accuracy (or, with --json, the run record).
 */

import * as z from 'zod';
import { RecalcLockedError } from '#app/ports/recalc-lock.ts';
import { describeDataSelection } from '#domain/recalc/data-selection.ts';
import { holdoutErrorText } from '#domain/recalc/holdout-check.ts';
import { modelChoiceSchema, modelFamilySchema } from '#domain/recalc-config.ts';
import type { RunRecord } from '#domain/run.ts';
import { cvmHome } from '../../local/home.ts';
import { createProgressReporter, type ProgressStep } from '../../local/progress.ts';
import { type RecalcStepName, runLocalRecalculation } from '../../local/recalc.ts';
import { useLocalStack } from '../../local/stack.ts';
import { dateOption, parseCommandLine } from '../command-line.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('recalc');

const STEP_LABELS: Record<RecalcStepName, string> = {
  acquireLock: 'acquire run lock',
  prepare: 'read settings, list sources',
  profileSources: 'profile the sources',
  selectData: 'select sources, currency and as-of date',
  profileRun: 'profile transactions',
  planRun: 'render the queries',
  unloadSummaries: 'summarize customers',
  fitModels: 'holdout check, model choice, fit',
  scoreParts: 'score and write customers',
  finalize: 'segments, migration, publish',
  sendChangeEvents: 'send change events',
  releaseLock: 'release run lock',
};

const money = (value: number) =>
  value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** The segment table printed after a run. */
export function formatSegmentTable(record: RunRecord): string {
  const rows = record.segments.map((s) => [
    s.segment,
    String(s.customers),
    money(s.totalClv),
    money(s.meanClv),
    `${(s.shareOfValue * 100).toFixed(1)} %`,
  ]);
  const header = ['segment', 'customers', `total CLV (${record.currency})`, 'mean CLV', 'share of value'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The holdout accuracy lines printed after a run. */
export function formatHoldout(record: RunRecord): string {
  const h = record.holdout;
  if (!h) return 'Holdout check: not run (not enough history before the calibration end).';
  if (h.aggregateErrorPct === null) {
    return `Holdout check (${h.model}, calibration to ${h.calibrationEnd}, holdout to ${h.holdoutEnd}): ${holdoutErrorText(h)}`;
  }
  return [
    `Holdout check (${h.model}, calibration to ${h.calibrationEnd}, holdout to ${h.holdoutEnd}):`,
    `  repeat purchases predicted ${h.predictedRepeatPurchases.toFixed(1)}, actual ${h.actualRepeatPurchases} (${holdoutErrorText(h)})`,
    `  per-customer MAE ${h.meanAbsoluteError.toFixed(3)}, correlation ${h.correlation === null ? 'n/a' : h.correlation.toFixed(3)}`,
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine({
    command: 'cvm recalc',
    usage: USAGE,
    argv,
    options: {
      'as-of': { type: 'string' },
      model: { type: 'string' },
      family: { type: 'string' },
      currency: { type: 'string' },
      resume: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema: z.object({
      'as-of': dateOption.optional(),
      model: modelChoiceSchema.optional(),
      family: modelFamilySchema.optional(),
      currency: z
        .string()
        .transform((code) => code.toUpperCase())
        .refine((code) => /^[A-Z]{3}$/.test(code), 'must be a three-letter ISO 4217 code')
        .optional(),
      resume: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a run id such as 20260525T061500Z-3fa2')
        .optional(),
      json: z.boolean().default(false),
    }),
    positionals: { count: 0, what: 'no arguments' },
  });
  if (!parsed.ok) return parsed.exitCode;
  const values = parsed.options;
  const asOf = values['as-of'];
  const currency = values.currency;

  const progress = createProgressReporter();
  const stack = await useLocalStack(cvmHome());
  const steps = new Map<RecalcStepName, ProgressStep>();
  let current: RecalcStepName | undefined;
  try {
    const result = await runLocalRecalculation(stack, {
      ...(asOf ? { asOf } : {}),
      ...(values.model ? { model: values.model } : {}),
      ...(values.family ? { family: values.family } : {}),
      ...(currency ? { config: { currency } } : {}),
      ...(values.resume ? { resume: values.resume } : {}),
      onProgress(event) {
        if (event.status === 'started') {
          current = event.step;
          steps.set(event.step, progress.step(STEP_LABELS[event.step]));
        } else if (event.status === 'skipped') {
          progress.step(STEP_LABELS[event.step]).done(event.detail);
        } else steps.get(event.step)?.done(event.detail);
      },
    });
    if (values.json) console.log(JSON.stringify(result.record, null, 2));
    else {
      const r = result.record;
      const params = Object.entries(r.model?.params ?? {})
        .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
        .join(' ');
      console.log(
        `\nRun ${r.runId} as of ${r.asOf}: ${r.customers} customers, ${r.model?.name} (${params}), ${r.model?.period ? `family ${r.model.family}, ${r.model.campaigns ? `one period per campaign (${r.model.campaigns.join(', ')})` : `one period = a ${r.model.period}`}${r.model.input === 'subscriptions' ? ', from subscriptions exports' : ''}` : `time unit ${r.timeUnit}`}`,
      );
      if (r.model?.warnings?.length) console.log(`\nFit warnings: ${r.model.warnings.join('; ')}`);
      const data = describeDataSelection(r);
      if (data.length > 0) console.log(`\n${data.join('\n')}`);
      console.log(`\n${formatSegmentTable(r)}\n\n${formatHoldout(r)}`);
      if (result.eventsDirectory && result.events > 0)
        console.log(`\n${result.events} change events: ${result.eventsDirectory}`);
      if (r.message) console.log(`\nNotes: ${r.message}`);
    }
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    if (current) steps.get(current)?.fail(message);
    console.error(`cvm recalc: ${message}`);
    return error instanceof RecalcLockedError ? 3 : 1;
  } finally {
    await stack.stop();
  }
}
