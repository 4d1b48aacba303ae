import { readFile, stat } from 'node:fs/promises';
import * as z from 'zod';
import { putTextObject } from '#adapters/s3/objects.ts';
import { sourceConfigKey } from '#domain/bucket-layout.ts';
import { parseSourceConfigText } from '#domain/ingest/source-config.ts';
import { type IngestReport, ingestReportCounts } from '#domain/ingest-report.ts';
import { cvmHome } from '../../local/home.ts';
import { ingestFile } from '../../local/ingest-file.ts';
import { useLocalStack } from '../../local/stack.ts';
import { parseCommandLine } from '../command-line.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('ingest');

/**
 * The report line `--json` prints per file; `message`, `quarantineKey` and `duplicateOfIngestId`
 * only when they apply (a failed, quarantined or duplicate ingest).
 */
export function reportSummary(report: IngestReport) {
  return {
    ...ingestReportCounts(report),
    source: report.source,
    rejectReasons: report.rejectReasons,
    amountTotals: report.amountTotals,
    ...(report.message ? { message: report.message } : {}),
    ...(report.quarantineKey ? { quarantineKey: report.quarantineKey } : {}),
    ...(report.duplicateOfIngestId ? { duplicateOfIngestId: report.duplicateOfIngestId } : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine({
    command: 'cvm ingest',
    usage: USAGE,
    argv,
    options: {
      source: { type: 'string', short: 's' },
      config: { type: 'string', short: 'c' },
      customers: { type: 'boolean' },
      subscriptions: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    schema: z.object({
      source: z.string().optional(),
      config: z.string().optional(),
      customers: z.boolean().default(false),
      subscriptions: z.boolean().default(false),
      json: z.boolean().default(false),
    }),
    positionals: { min: 1, what: 'one or more export files' },
  });
  if (!parsed.ok) return parsed.exitCode;
  const { options: values, positionals } = parsed;
  const source = values.source ?? 'default';
  if (values.customers && values.subscriptions) {
    console.error(
      'cvm ingest: --customers and --subscriptions exclude each other: a file is one kind of export',
    );
    return 2;
  }
  for (const file of positionals) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      console.error(`cvm ingest: ${file}: no such file`);
      return 2;
    }
  }
  let configText: string | undefined;
  if (values.config) {
    try {
      configText = await readFile(values.config, 'utf8');
      parseSourceConfigText(configText, values.config);
    } catch (error) {
      console.error(`cvm ingest: ${(error as Error).message}`);
      return 2;
    }
  }

  const stack = await useLocalStack(cvmHome());
  let failures = 0;
  try {
    const { bucket } = stack.config;
    if (configText !== undefined) {
      await putTextObject(stack.clients.s3, bucket, sourceConfigKey(source), configText);
    }
    for (const file of positionals) {
      const kind = values.customers ? 'customers' : values.subscriptions ? 'subscriptions' : 'transactions';
      const report = await ingestFile(stack, source, file, kind);
      if (report.status !== 'succeeded') failures++;
      if (values.json) console.log(JSON.stringify(reportSummary(report)));
      else console.log(describeReport(report, file, bucket));
    }
  } finally {
    await stack.stop();
  }
  return failures > 0 ? 1 : 0;
}

/** Human-readable report: counts, top reject reasons and where the rejected rows are. */
export function describeReport(report: IngestReport, file: string, bucket: string): string {
  const lines = [
    `${file} → ${report.key}: ${report.status}`,
    `  rows read ${report.rowsRead} = accepted ${report.accepted} + rejected ${report.rejected} + duplicates ${report.duplicates}` +
      (report.suppressed ? ` + suppressed ${report.suppressed} (erased customers)` : ''),
  ];
  const totals = Object.entries(report.amountTotals);
  if (totals.length > 0) lines.push(`  amounts: ${totals.map(([c, v]) => `${v} ${c}`).join(', ')}`);
  const reasons = Object.entries(report.rejectReasons).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  if (reasons.length > 0) {
    lines.push(
      `  top reject reasons: ${reasons
        .slice(0, 5)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}`,
    );
  }
  if (report.rejectedKey) lines.push(`  rejected rows: s3://${bucket}/${report.rejectedKey}`);
  if (report.cleanKey) lines.push(`  clean data: s3://${bucket}/${report.cleanKey}`);
  if (report.quarantineKey) lines.push(`  quarantined as: s3://${bucket}/${report.quarantineKey}`);
  if (report.message) lines.push(`  ${report.message}`);
  return lines.join('\n');
}
