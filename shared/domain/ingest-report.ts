/**
 * The ingest report: the schema of the outcome stored per ingested object and printed by `cvm ingest
 * --json`, and the report an ingest starts with.
 */
import * as z from 'zod';

/** Outcome of one ingested object. */
export const ingestStatusSchema = z.enum(['in_progress', 'succeeded', 'quarantined', 'failed']);
export type IngestStatus = z.infer<typeof ingestStatusSchema>;

/**
 * The ingest report stored per object in DynamoDB and printed by `cvm ingest --json`.
 * Invariant: `rowsRead = accepted + rejected + duplicates`.
 */
export const ingestReportSchema = z.object({
  ingestId: z
    .string()
    .describe('Stable id of this ingest (derived from bucket, key and object version/ETag)'),
  source: z.string().describe('Source name: the folder under incoming/'),
  key: z.string().describe('Object key of the uploaded export'),
  sha256: z.string().describe('SHA-256 of the uploaded bytes (as stored, before decompression)'),
  status: ingestStatusSchema,
  rowsRead: z.number().int().nonnegative(),
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  suppressed: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Rows of erased customers (the suppression list): dropped before clean data, counted here'),
  rejectReasons: z.record(z.string(), z.number().int().nonnegative()).describe('Reject reason code → rows'),
  amountTotals: z
    .record(z.string(), z.string())
    .describe('Currency → sum of accepted amounts, as a decimal string to the cent'),
  cleanKey: z.string().nullable().describe('Key of the clean Parquet object, null when none was written'),
  rejectedKey: z.string().nullable().describe('Key of the rejected-rows JSON Lines file, null when none'),
  quarantineKey: z.string().nullable().optional(),
  duplicateOfIngestId: z
    .string()
    .nullable()
    .optional()
    .describe('Set when the same content was already ingested: nothing is counted twice'),
  message: z.string().optional().describe('Why the file failed or was quarantined, for people'),
  detected: z
    .object({
      format: z.enum(['csv', 'jsonl']),
      encoding: z.string(),
      delimiter: z.string().optional(),
      decimal: z.enum(['.', ',']),
      gzipped: z.boolean(),
      columns: z.record(z.string(), z.string()).describe('Canonical field → header in the export'),
    })
    .optional()
    .describe('How the file was read, so a wrong guess is visible without opening the file'),
  startedAt: z.string().describe('ISO 8601 UTC'),
  finishedAt: z.string().nullable(),
  timings: z.record(z.string(), z.number()).optional().describe('Milliseconds per phase'),
});
export type IngestReport = z.infer<typeof ingestReportSchema>;

/** The report an ingest starts with, before anything is read: what its claim stores. */
export function inProgressIngestReport(start: {
  ingestId: string;
  source: string;
  key: string;
  startedAt: Date;
}): IngestReport {
  return {
    ingestId: start.ingestId,
    source: start.source,
    key: start.key,
    sha256: '',
    status: 'in_progress',
    rowsRead: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    suppressed: 0,
    rejectReasons: {},
    amountTotals: {},
    cleanKey: null,
    rejectedKey: null,
    startedAt: start.startedAt.toISOString(),
    finishedAt: null,
  };
}

/**
 * The counts of a report that are safe to log anywhere: ids, key, status and row counts — no amounts,
 * no messages that could quote customer data.
 */
export function ingestReportCounts(report: IngestReport) {
  return {
    ingestId: report.ingestId,
    key: report.key,
    status: report.status,
    rowsRead: report.rowsRead,
    accepted: report.accepted,
    rejected: report.rejected,
    duplicates: report.duplicates,
    ...(report.suppressed ? { suppressed: report.suppressed } : {}),
  };
}
