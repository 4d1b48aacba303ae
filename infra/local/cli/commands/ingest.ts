import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sourceConfigKey } from '../../../../shared/adapters/ingest/source-config-store.ts';
import { parseSourceConfigText } from '../../../../shared/domain/ingest/source-config.ts';
import type { IngestReport } from '../../../../shared/domain/ingest-report.ts';
import { ingestFile } from '../../ingest-file.ts';
import { useLocalStack } from '../../stack.ts';

const USAGE = `Usage: cvm ingest <file...> [--source NAME] [--config mapping.json] [--json]

Uploads each file to incoming/<source>/<file name> in the local stack and ingests it.
  --source NAME      source name (folder under incoming/); default "default"
  --config FILE      column mapping / parsing options for the source, stored as
                     config/sources/<source>.json (see docs/ingest.md)
  --json             print one JSON report per file, one per line
State lives in $CVM_HOME (default ./.cvm). Exit code 1 when a file failed or was quarantined.`;

/**
 * The report line `--json` prints per file; `message`, `quarantineKey` and `duplicateOfIngestId`
 * only when they apply (a failed, quarantined or duplicate ingest).
 */
export function reportSummary(report: IngestReport) {
  return {
    ingestId: report.ingestId,
    source: report.source,
    key: report.key,
    status: report.status,
    rowsRead: report.rowsRead,
    accepted: report.accepted,
    rejected: report.rejected,
    duplicates: report.duplicates,
    rejectReasons: report.rejectReasons,
    amountTotals: report.amountTotals,
    ...(report.message ? { message: report.message } : {}),
    ...(report.quarantineKey ? { quarantineKey: report.quarantineKey } : {}),
    ...(report.duplicateOfIngestId ? { duplicateOfIngestId: report.duplicateOfIngestId } : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    console.error(`cvm ingest: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    console.error(`cvm ingest: no file given\n\n${USAGE}`);
    return 2;
  }
  const source = values.source ?? 'default';
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

  const stack = await useLocalStack(process.env.CVM_HOME || './.cvm');
  let failures = 0;
  try {
    const { bucket } = stack.config;
    if (configText !== undefined) {
      await stack.clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: sourceConfigKey(source),
          Body: configText,
          ContentType: 'application/json',
        }),
      );
    }
    for (const file of positionals) {
      const report = await ingestFile(stack, source, file);
      if (report.status !== 'succeeded') failures++;
      if (values.json) console.log(JSON.stringify(reportSummary(report)));
      else console.log(describeReport(report, file, bucket));
    }
  } finally {
    await stack.stop();
  }
  return failures > 0 ? 1 : 0;
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      source: { type: 'string', short: 's' },
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

/** Human-readable report: counts, top reject reasons and where the rejected rows are. */
export function describeReport(report: IngestReport, file: string, bucket: string): string {
  const lines = [
    `${file} → ${report.key}: ${report.status}`,
    `  rows read ${report.rowsRead} = accepted ${report.accepted} + rejected ${report.rejected} + duplicates ${report.duplicates}`,
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
