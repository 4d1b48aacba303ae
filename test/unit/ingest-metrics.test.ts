/**
 * Ingest metrics record the counts the reject-ratio alarm divides and nothing that identifies a
 * customer.
 */
import { describe, expect, it } from 'vitest';
import { INGEST_METRICS, recordIngestMetrics } from '#adapters/ingest-metrics.ts';
import type { IngestReport } from '#domain/ingest-report.ts';

const report: IngestReport = {
  ingestId: 'abc',
  source: 'shop',
  key: 'incoming/shop/orders.csv',
  sha256: '0'.repeat(64),
  status: 'quarantined',
  rowsRead: 10,
  accepted: 5,
  rejected: 4,
  duplicates: 1,
  rejectReasons: { amount_invalid: 4 },
  amountTotals: {},
  cleanKey: null,
  rejectedKey: 'rejected/shop/abc.jsonl',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
};

describe('ingest metrics', () => {
  it('records the counts the reject-ratio alarm divides, and nothing that identifies a customer', () => {
    const recorded: Array<[string, string, number]> = [];
    recordIngestMetrics({ addMetric: (name, unit, value) => recorded.push([name, unit, value]) }, report);
    expect(recorded).toEqual([
      [INGEST_METRICS.rowsRead, 'Count', 10],
      [INGEST_METRICS.rowsAccepted, 'Count', 5],
      [INGEST_METRICS.rowsRejected, 'Count', 4],
      [INGEST_METRICS.rowsDuplicate, 'Count', 1],
      [INGEST_METRICS.filesQuarantined, 'Count', 1],
      [INGEST_METRICS.filesFailed, 'Count', 0],
    ]);
  });
});
