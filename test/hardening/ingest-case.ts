/**
 * Runs one generated export through the real ingest (upload to the local S3 stand-in, then
 * `ingestObject`) and lists every broken invariant. Shared by the fuzz test and the soak benchmark.
 */

import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import type { LocalStack } from '#infra/local/stack.ts';
import { getObjectBytes, objectExists, putSourceConfig, upload } from '../integration/ingest/support.ts';
import { decimalToCents, type GeneratedExport } from '../support/export-generator.ts';

export interface IngestCaseResult {
  report: IngestReport | null;
  /** Broken invariants, each one line naming the case; empty when the case passed. */
  violations: string[];
}

/**
 * Invariants: no exception escapes; rows read = accepted + rejected + duplicates; the counts, reject
 * reasons and per-currency amount totals equal the model's; the rejects file has one line per
 * rejected row with the same reason counts; whole-file damage gives a `failed` report with a message.
 */
export async function runIngestCase(
  stack: LocalStack,
  generated: GeneratedExport,
  source: string,
): Promise<IngestCaseResult> {
  const violations: string[] = [];
  const fail = (what: string) => violations.push(`${source} (${generated.description}): ${what}`);
  if (generated.sourceConfig) await putSourceConfig(stack, source, generated.sourceConfig);
  const ref = await upload(stack, `incoming/${source}/${generated.fileName}`, generated.bytes);

  let report: IngestReport;
  try {
    report = await ingestObject({ config: stack.config, clients: stack.clients }, ref);
  } catch (error) {
    fail(`ingestObject threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return { report: null, violations };
  }

  if (report.rowsRead !== report.accepted + report.rejected + report.duplicates) {
    fail(
      `rows read ${report.rowsRead} ≠ accepted ${report.accepted} + rejected ${report.rejected} + duplicates ${report.duplicates}`,
    );
  }
  const expected = generated.expected;
  if (expected.status === 'failed') {
    if (report.status !== 'failed') fail(`status ${report.status}, expected failed`);
    if (!report.message) fail('failed report without a message');
    if (report.accepted !== 0 || report.cleanKey !== null) fail('a failed file produced clean rows');
    return { report, violations };
  }

  if (report.status !== expected.status) {
    fail(
      `status ${report.status}, expected ${expected.status}${report.message ? ` (${report.message})` : ''}`,
    );
    return { report, violations };
  }
  const counts = {
    rowsRead: report.rowsRead,
    accepted: report.accepted,
    rejected: report.rejected,
    duplicates: report.duplicates,
  };
  const want = {
    rowsRead: expected.rowsRead,
    accepted: expected.accepted,
    rejected: expected.rejected,
    duplicates: expected.duplicates,
  };
  if (JSON.stringify(counts) !== JSON.stringify(want))
    fail(`counts ${JSON.stringify(counts)}, expected ${JSON.stringify(want)}`);
  const reasons = sortedJson(report.rejectReasons);
  if (reasons !== sortedJson(expected.rejectReasons)) {
    fail(`reject reasons ${reasons}, expected ${sortedJson(expected.rejectReasons)}`);
  }

  if (expected.status === 'succeeded') {
    const totals: Record<string, string> = {};
    for (const [currency, text] of Object.entries(report.amountTotals))
      totals[currency] = String(decimalToCents(text));
    const wantTotals: Record<string, string> = {};
    for (const [currency, cents] of Object.entries(expected.amountCents))
      wantTotals[currency] = String(cents);
    if (sortedJson(totals) !== sortedJson(wantTotals)) {
      fail(`amount totals (cents) ${sortedJson(totals)}, expected ${sortedJson(wantTotals)}`);
    }
    if (report.accepted > 0 !== (report.cleanKey !== null))
      fail(`accepted ${report.accepted} but cleanKey ${report.cleanKey}`);
    if (report.cleanKey && !(await objectExists(stack, report.cleanKey)))
      fail(`clean object ${report.cleanKey} is missing`);
  } else if (!report.quarantineKey || !(await objectExists(stack, report.quarantineKey))) {
    fail(`quarantined, but the file is not at ${report.quarantineKey}`);
  }

  // The rejects file and the report agree: one line per rejected row, same reason counts.
  if (report.rejected === 0) {
    if (report.rejectedKey !== null) fail(`no rejects but rejectedKey ${report.rejectedKey}`);
  } else if (report.rejectedKey !== `rejected/${source}/${report.ingestId}.jsonl`) {
    fail(`rejectedKey ${report.rejectedKey}, expected rejected/${source}/${report.ingestId}.jsonl`);
  } else {
    const lines = (await getObjectBytes(stack, report.rejectedKey))
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
    if (lines.length !== report.rejected)
      fail(`rejects file has ${lines.length} lines, report says ${report.rejected}`);
    const fileReasons: Record<string, number> = {};
    for (const line of lines) {
      const reason = (JSON.parse(line) as { reason: string }).reason;
      fileReasons[reason] = (fileReasons[reason] ?? 0) + 1;
    }
    if (sortedJson(fileReasons) !== reasons)
      fail(`rejects file reasons ${sortedJson(fileReasons)}, report ${reasons}`);
  }
  return { report, violations };
}

function sortedJson(record: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b))));
}
