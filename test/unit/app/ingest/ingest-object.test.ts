// The ingest service's orchestration over in-memory ports: no S3, DynamoDB or DuckDB involved.
import { describe, expect, it } from 'vitest';
import { IngestRetryableFailure, type IngestService, ingestObject } from '#app/ingest/ingest-object.ts';
import type { IngestObjectRef, IngestObjectStore } from '#app/ports/ingest-objects.ts';
import type { FinishedUpload, IngestPipeline, StagedUpload } from '#app/ports/ingest-pipeline.ts';
import {
  type ClaimResult,
  type IngestReportStore,
  LeaseLostError,
  type StoredIngestReport,
} from '#app/ports/ingest-reports.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';
import type { IngestReport } from '#domain/ingest-report.ts';

class MemoryReports implements IngestReportStore {
  readonly items = new Map<
    string,
    { report: IngestReport; leaseToken?: string; leaseExpiresAt: number | null; retryable?: boolean }
  >();
  readonly markers = new Map<string, string>();
  released = 0;
  #tokens = 0;

  async claim(report: IngestReport, now: Date, leaseMs: number): Promise<ClaimResult> {
    const existing = this.items.get(report.ingestId);
    if (
      existing &&
      !existing.retryable &&
      !(existing.report.status === 'in_progress' && (existing.leaseExpiresAt ?? 0) < now.getTime())
    ) {
      return { claimed: false, existing: existing.report, leaseExpiresAt: existing.leaseExpiresAt };
    }
    const leaseToken = `t${++this.#tokens}`;
    this.items.set(report.ingestId, { report, leaseToken, leaseExpiresAt: now.getTime() + leaseMs });
    return { claimed: true, leaseToken };
  }
  async save(report: IngestReport, leaseToken: string, options: { final: boolean; retryable?: boolean }) {
    const item = this.items.get(report.ingestId);
    if (item?.leaseToken !== leaseToken) throw new LeaseLostError(report.ingestId);
    this.items.set(report.ingestId, {
      report,
      ...(options.final
        ? { leaseExpiresAt: null, ...(options.retryable ? { retryable: true } : {}) }
        : { leaseToken, leaseExpiresAt: item.leaseExpiresAt }),
    });
  }
  async release(report: IngestReport, leaseToken: string) {
    this.released++;
    if (this.items.get(report.ingestId)?.leaseToken === leaseToken) {
      this.items.set(report.ingestId, { report, leaseToken, leaseExpiresAt: 0 });
    }
  }
  async get(ingestId: string) {
    return this.items.get(ingestId)?.report ?? null;
  }
  async getWithLease(ingestId: string): Promise<StoredIngestReport | null> {
    const item = this.items.get(ingestId);
    return item ? { report: item.report, leaseExpiresAt: item.leaseExpiresAt } : null;
  }
  async ownFinalReport() {
    return null;
  }
  async markContent(marker: { source: string; sha256: string; ingestId: string }, replacing?: string) {
    const key = `${marker.source}#${marker.sha256}`;
    const holder = this.markers.get(key);
    const allowed =
      replacing === undefined ? holder === undefined || holder === marker.ingestId : holder === replacing;
    if (allowed) this.markers.set(key, marker.ingestId);
    return allowed;
  }
  async contentHolder(source: string, sha256: string) {
    return this.markers.get(`${source}#${sha256}`) ?? null;
  }
  async releaseContent(source: string, sha256: string, ingestId: string) {
    if (this.markers.get(`${source}#${sha256}`) === ingestId) this.markers.delete(`${source}#${sha256}`);
  }
}

class MemoryObjects implements IngestObjectStore {
  readonly written = new Map<string, string[]>();
  readonly quarantined: string[] = [];
  config: SourceConfig = {};
  failOpen: unknown = null;
  async loadSourceConfig() {
    return this.config;
  }
  async openUpload() {
    if (this.failOpen) throw this.failOpen;
    return (async function* () {})();
  }
  async putFiles(key: string, _contentType: string, files: string[]) {
    this.written.set(key, files);
  }
  async quarantine(_ref: IngestObjectRef, key: string) {
    this.quarantined.push(key);
  }
}

/** A staged file of `rowsRead` rows: `rejected` parser rejects, the rest accepted. */
function pipeline(rowsRead: number, rejected: number, sha256 = 'abc'): IngestPipeline & { disposed: number } {
  const state = { disposed: 0 };
  return {
    get disposed() {
      return state.disposed;
    },
    async open() {
      return {
        async stage(): Promise<StagedUpload> {
          return {
            sha256,
            gzipped: false,
            summary: {
              rowsRead,
              format: 'csv',
              delimiter: ',',
              encoding: 'utf-8',
              decimal: '.',
              columns: {},
            },
            rowsRead,
            counts: {
              accepted: rowsRead - rejected,
              rejected,
              rejectReasons: rejected > 0 ? { order_ts_invalid: rejected } : {},
              emptyAmountRows: 0,
            },
            acceptedPath: '/work/accepted.tsv',
            rejectedPath: '/work/rejected.jsonl',
            parseMs: 1,
          };
        },
        async finish(request): Promise<FinishedUpload> {
          return {
            accepted: request.stagedRows,
            duplicates: 0,
            lateRejected: 0,
            suppressed: 0,
            amountTotals: { EUR: '10.00' },
            parquetPath: request.stagedRows > 0 ? '/work/clean.parquet' : null,
            lateRejectsPath: null,
            finishMs: 1,
          };
        },
        async dispose() {
          state.disposed++;
        },
      };
    },
  };
}

function service(overrides: Partial<IngestService> = {}) {
  const reports = new MemoryReports();
  const objects = new MemoryObjects();
  const work = pipeline(10, 1);
  const deps: IngestService = {
    objects,
    reports,
    pipeline: work,
    defaultCurrency: 'EUR',
    isTransient: (error) => (error as { transient?: boolean }).transient === true,
    now: () => new Date('2025-06-01T10:00:00Z'),
    ...overrides,
  };
  return { deps, reports, objects, work };
}

const ref = (key = 'incoming/shop/orders.csv'): IngestObjectRef => ({ bucket: 'b', key, eTag: 'e1' });

describe('ingest service', () => {
  it('writes clean and rejected objects under the layout keys and a report that adds up', async () => {
    const { deps, objects, work } = service();
    const report = await ingestObject(deps, ref());
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 10,
      accepted: 9,
      rejected: 1,
      duplicates: 0,
    });
    expect(report.cleanKey).toBe('clean/transactions/source=shop/ingest_date=2025-06-01/abc.parquet');
    expect(report.rejectedKey).toBe(`rejected/shop/${report.ingestId}.jsonl`);
    expect(objects.written.get(report.rejectedKey!)).toEqual(['/work/rejected.jsonl']);
    expect(work.disposed).toBe(1);
  });

  it('quarantines a file over the reject ratio and releases its content marker', async () => {
    const { deps, objects, reports } = service({ pipeline: pipeline(10, 3) });
    const report = await ingestObject(deps, ref());
    expect(report).toMatchObject({
      status: 'quarantined',
      accepted: 7,
      rejected: 3,
      amountTotals: {},
      cleanKey: null,
    });
    expect(objects.quarantined).toEqual([`quarantine/shop/${report.ingestId}/orders.csv`]);
    expect(reports.markers.size).toBe(0);
  });

  it('counts a second upload of the same bytes as duplicates of the first', async () => {
    const { deps } = service();
    const first = await ingestObject(deps, ref('incoming/shop/a.csv'));
    const second = await ingestObject(deps, ref('incoming/shop/b.csv'));
    expect(second).toMatchObject({
      status: 'succeeded',
      accepted: 0,
      duplicates: 10,
      duplicateOfIngestId: first.ingestId,
    });
  });

  it('records a file-level problem as failed, without retry', async () => {
    const { deps, objects } = service();
    objects.failOpen = new IngestFileError(
      'object_missing',
      'incoming/shop/orders.csv: the object no longer exists',
    );
    const report = await ingestObject(deps, ref());
    expect(report).toMatchObject({
      status: 'failed',
      message: 'incoming/shop/orders.csv: the object no longer exists',
    });
  });

  it("records a failure that is not the file's (a missing grant, a bug) and throws, so the event is delivered again", async () => {
    const { deps, objects, reports } = service();
    objects.failOpen = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    await expect(ingestObject(deps, ref())).rejects.toBeInstanceOf(IngestRetryableFailure);
    const [stored] = [...reports.items.values()];
    expect(stored?.report).toMatchObject({ status: 'failed' });
    expect(stored?.report.message).toContain('Internal error while ingesting incoming/shop/orders.csv');
    // The next delivery may claim the failed ingest again; once the grant is fixed it succeeds.
    objects.failOpen = null;
    expect(await ingestObject(deps, ref())).toMatchObject({ status: 'succeeded', accepted: 9 });
  });

  it('gives the lease back and rethrows a transient error, so the redelivery starts at once', async () => {
    const { deps, objects, reports } = service();
    objects.failOpen = Object.assign(new Error('throttled'), { transient: true });
    await expect(ingestObject(deps, ref())).rejects.toThrow('throttled');
    expect(reports.released).toBe(1);
    objects.failOpen = null;
    expect(await ingestObject(deps, ref())).toMatchObject({ status: 'succeeded' });
  });

  it('returns the existing report when another delivery holds a live lease', async () => {
    const { deps, reports } = service();
    const first = await ingestObject(deps, ref());
    const again = await ingestObject(deps, ref());
    expect(again).toEqual(first);
    expect(reports.items.size).toBe(1);
  });
});
