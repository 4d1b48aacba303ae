/**
 * The CloudWatch metrics every ingest records: row and file counts only, under names shared with the
 * monitoring construct's alarms.
 */
import type { IngestReport } from '../domain/ingest-report.ts';

/**
 * CloudWatch (EMF) metrics of every ingest. The monitoring construct alarms on the reject ratio
 * RowsRejected / RowsRead, so these names are shared with the CDK app rather than retyped there.
 */
export const INGEST_METRICS = {
  rowsRead: 'RowsRead',
  rowsAccepted: 'RowsAccepted',
  rowsRejected: 'RowsRejected',
  rowsDuplicate: 'RowsDuplicate',
  filesQuarantined: 'FilesQuarantined',
  filesFailed: 'FilesFailed',
} as const;

/** The part of a metrics client the ingest needs (Powertools `Metrics` in AWS). */
export interface IngestMetricsSink {
  addMetric(name: string, unit: 'Count', value: number): void;
}

/** Counts only: never ids, keys or amounts (metrics are not the place for customer data). */
export function recordIngestMetrics(metrics: IngestMetricsSink, report: IngestReport): void {
  metrics.addMetric(INGEST_METRICS.rowsRead, 'Count', report.rowsRead);
  metrics.addMetric(INGEST_METRICS.rowsAccepted, 'Count', report.accepted);
  metrics.addMetric(INGEST_METRICS.rowsRejected, 'Count', report.rejected);
  metrics.addMetric(INGEST_METRICS.rowsDuplicate, 'Count', report.duplicates);
  metrics.addMetric(INGEST_METRICS.filesQuarantined, 'Count', report.status === 'quarantined' ? 1 : 0);
  metrics.addMetric(INGEST_METRICS.filesFailed, 'Count', report.status === 'failed' ? 1 : 0);
}
