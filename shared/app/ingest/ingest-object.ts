/**
 * The ingest job as an application service: one uploaded export from claim to report, over the
 * object store, report repository and staging pipeline ports.
 */

import {
  cleanKeyFor,
  exportKindOf,
  INCOMING_PREFIX,
  parseIncomingKey,
  quarantineKeyFor,
  rejectedKeyFor,
} from '#domain/bucket-layout.ts';
import { CvmError } from '#domain/errors.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import {
  accountRows,
  contentHolderWins,
  DEFAULT_LEASE_MS,
  duplicateContentMessage,
  isValidSourceName,
  quarantineDecision,
  quarantineMessage,
} from '#domain/ingest/ingest-rules.ts';
import { type IngestReport, inProgressIngestReport } from '#domain/ingest-report.ts';
import type { IngestObjectRef, IngestObjectStore } from '../ports/ingest-objects.ts';
import type { IngestPipeline } from '../ports/ingest-pipeline.ts';
import { type IngestReportStore, LeaseLostError } from '../ports/ingest-reports.ts';
import type { AppLogger } from '../ports/logger.ts';
import { ingestIdFor } from './ingest-id.ts';

export interface IngestService {
  objects: IngestObjectStore;
  reports: IngestReportStore;
  pipeline: IngestPipeline;
  /** Currency of rows without one when the source config names none. */
  defaultCurrency: string;
  /** Errors worth retrying (throttling, 5xx, network): the event is redelivered for these. */
  isTransient(error: unknown): boolean;
  now?: () => Date;
  logger?: AppLogger;
  /** @default {@link DEFAULT_LEASE_MS} */
  leaseMs?: number;
  /**
   * SHA-256 hex of erased customers' ids (the suppression list): their rows are dropped before clean
   * data and counted as `suppressed`. @default none
   */
  suppressedHashes?: () => Promise<readonly string[]>;
}

/**
 * Ingests one uploaded export end to end: claims the ingest (idempotent under redelivery), reads the
 * source config, streams and parses the object, detects re-uploaded content, applies the cross-row
 * rules and writes clean Parquet, uploads clean and rejected rows (or quarantines the file) and
 * records the report.
 *
 * Returns the report. File-level problems give a `failed` report; transient errors are thrown (after
 * giving up the lease) so the event is retried.
 */
export async function ingestObject(service: IngestService, ref: IngestObjectRef): Promise<IngestReport> {
  const now = service.now ?? (() => new Date());
  const log = service.logger;
  const { reports, objects } = service;
  const location = parseIncomingKey(ref.key);
  if (!location) throw new Error(`Not an export upload: ${ref.key} is not under ${INCOMING_PREFIX}<source>/`);
  const { source, fileName } = location;
  // Customer attributes (incoming/<source>/customers/) and subscriptions (incoming/<source>/subscriptions/)
  // take the same path with their own parser and clean data set; every rule (claim, content hash, rejects, quarantine, suppression) is shared.
  const kind = exportKindOf(ref.key);
  const ingestId = ingestIdFor(ref);
  const startedAt = now();

  let report = inProgressIngestReport({ ingestId, source, key: ref.key, startedAt });
  const claim = await reports.claim(report, startedAt, service.leaseMs ?? DEFAULT_LEASE_MS);
  if (!claim.claimed) {
    log?.info('ingest already done or in progress elsewhere', {
      ingestId,
      key: ref.key,
      status: claim.existing.status,
    });
    return claim.existing;
  }
  const leaseToken = claim.leaseToken;
  log?.info('ingest started', { ingestId, key: ref.key, source });

  const workspace = await service.pipeline.open();
  let contentMarker: string | null = null;
  const finalize = async (outcome: Partial<IngestReport>, retryable = false): Promise<IngestReport> => {
    report = { ...report, ...outcome, finishedAt: now().toISOString() };
    await reports.save(report, leaseToken, { final: true, ...(retryable ? { retryable } : {}) });
    return report;
  };
  try {
    if (!isValidSourceName(source)) {
      throw new IngestFileError(
        'source_invalid',
        `${ref.key}: source folder '${source}' must be letters, digits, '.', '_' or '-' (it becomes a partition name)`,
      );
    }
    const sourceConfig = await objects.loadSourceConfig(source);
    const stored = await objects.openUpload(ref);
    const staged = await workspace.stage({
      stored,
      fileName,
      config: sourceConfig,
      defaultCurrency: sourceConfig.currency ?? service.defaultCurrency,
      ...(kind !== 'transactions' ? { kind } : {}),
    });
    if (staged.rowsRead !== staged.summary.rowsRead) {
      log?.warn('parser row count differs from rows it delivered', {
        ingestId,
        parserRowsRead: staged.summary.rowsRead,
        delivered: staged.rowsRead,
      });
    }
    report = {
      ...report,
      sha256: staged.sha256,
      rowsRead: staged.rowsRead,
      detected: {
        format: staged.summary.format,
        encoding: staged.summary.encoding,
        ...(staged.summary.delimiter !== undefined ? { delimiter: staged.summary.delimiter } : {}),
        decimal: staged.summary.decimal,
        gzipped: staged.gzipped,
        columns: staged.summary.columns,
      },
      timings: { parseMs: Math.round(staged.parseMs) },
    };

    const duplicateOf = await claimContent(reports, { source, sha256: staged.sha256, ingestId, now: now() });
    if (duplicateOf !== null) {
      log?.info('same content already ingested', { ingestId, duplicateOf });
      return await finalize({
        status: 'succeeded',
        accepted: 0,
        rejected: 0,
        duplicates: staged.rowsRead,
        duplicateOfIngestId: duplicateOf,
        message: duplicateContentMessage(duplicateOf, staged.rowsRead),
      });
    }
    contentMarker = staged.sha256;

    const ingestedAt = now();
    const suppressedHashes = (await service.suppressedHashes?.()) ?? [];
    const finished = await workspace.finish({
      suppressedHashes,
      acceptedPath: staged.acceptedPath,
      stagedRows: staged.counts.accepted,
      emptyAmountRows: staged.counts.emptyAmountRows,
      dedupeExactRows: sourceConfig.dedupeExactRows ?? true,
      columns: staged.summary.columns,
      ingestId,
      ingestedAt,
      ...(kind !== 'transactions' ? { kind } : {}),
    });
    const counts = accountRows(staged.rowsRead, staged.counts, finished, ref.key);
    const timings = { ...report.timings, finishMs: Math.round(finished.finishMs) };

    const uploadStarted = performance.now();
    let rejectedKey: string | null = null;
    if (counts.rejected > 0) {
      rejectedKey = rejectedKeyFor(source, ingestId);
      const parts = [
        ...(staged.counts.rejected > 0 ? [staged.rejectedPath] : []),
        ...(finished.lateRejectsPath ? [finished.lateRejectsPath] : []),
      ];
      await objects.putFiles(rejectedKey, 'application/x-ndjson', parts);
    }

    const verdict = quarantineDecision(counts.rejected, staged.rowsRead, sourceConfig.maxRejectRatio);
    if (verdict.quarantine) {
      const quarantineKey = quarantineKeyFor(source, ingestId, fileName);
      await objects.quarantine(ref, quarantineKey);
      await reports.releaseContent(source, staged.sha256, ingestId);
      contentMarker = null;
      log?.warn('ingest quarantined', {
        ingestId,
        key: ref.key,
        rowsRead: staged.rowsRead,
        rejected: counts.rejected,
      });
      return await finalize({
        ...counts,
        status: 'quarantined',
        amountTotals: {},
        cleanKey: null,
        rejectedKey,
        quarantineKey,
        message: quarantineMessage({
          rejected: counts.rejected,
          rowsRead: staged.rowsRead,
          ratio: verdict.ratio,
          maxRejectRatio: verdict.maxRejectRatio,
          quarantineKey,
          rejectedKey,
        }),
        timings: { ...timings, uploadMs: Math.round(performance.now() - uploadStarted) },
      });
    }

    let cleanKey: string | null = null;
    if (finished.parquetPath) {
      cleanKey = cleanKeyFor(kind, source, ingestedAt.toISOString().slice(0, 10), staged.sha256);
      await objects.putFiles(cleanKey, 'application/vnd.apache.parquet', [finished.parquetPath]);
    }
    const done = await finalize({
      ...counts,
      status: 'succeeded',
      amountTotals: finished.amountTotals,
      cleanKey,
      rejectedKey,
      timings: { ...timings, uploadMs: Math.round(performance.now() - uploadStarted) },
    });
    log?.info('ingest succeeded', {
      ingestId,
      key: ref.key,
      rowsRead: done.rowsRead,
      accepted: done.accepted,
      rejected: done.rejected,
      duplicates: done.duplicates,
    });
    return done;
  } catch (error) {
    if (error instanceof LeaseLostError) {
      log?.warn('lease lost: another delivery finished this ingest', { ingestId });
      return (await reports.get(ingestId)) ?? report;
    }
    const transient = service.isTransient(error);
    if (transient) {
      // The final report write may have reached the store although its response was lost.
      const landed = await reports.ownFinalReport(ingestId, leaseToken).catch(() => null);
      if (landed) {
        log?.warn('final report write timed out but was stored: ingest complete', { ingestId });
        return landed;
      }
    }
    if (contentMarker) await reports.releaseContent(source, contentMarker, ingestId).catch(() => {});
    if (transient) {
      log?.warn('transient error: event will be retried', { ingestId, key: ref.key, error: describe(error) });
      await reports.release(report, leaseToken);
      throw error;
    }
    const fileLevel = error instanceof IngestFileError;
    if (!fileLevel)
      log?.error('ingest failed unexpectedly', { ingestId, key: ref.key, error: describe(error) });
    else log?.info('ingest failed: file-level problem', { ingestId, key: ref.key, code: error.code });
    let failed: IngestReport;
    try {
      // Recorded either way, so the report says what happened. A file-level problem is final: the file
      // must be fixed. Anything else (a missing permission, a bug) is not the file's fault: the report
      // stays open to the next delivery and the error is thrown, so SQS delivers the event again and,
      // after its receive limit, moves it to the dead-letter queue, which raises an alarm.
      failed = await finalize(
        {
          status: 'failed',
          message: fileLevel
            ? error.message
            : `Internal error while ingesting ${ref.key}: ${describe(error)}`,
        },
        !fileLevel,
      );
    } catch (saveError) {
      if (saveError instanceof LeaseLostError) return (await reports.get(ingestId)) ?? report;
      throw saveError;
    }
    if (!fileLevel) throw new IngestRetryableFailure(ref.key, error);
    return failed;
  } finally {
    await workspace.dispose();
  }
}

/**
 * An ingest that failed for a reason other than its file (its report says `failed`, retryable): thrown
 * so the delivery counts as failed and the event is delivered again, up to the queue's receive limit.
 */
export class IngestRetryableFailure extends CvmError {
  override readonly name = 'IngestRetryableFailure';
  readonly code = 'ingest_failed_retryable';
  constructor(key: string, cause: unknown) {
    super(`Ingest of ${key} failed (not because of the file); the event will be delivered again`, { cause });
  }
}

/**
 * Marks the content as this ingest's, unless an earlier ingest of the same bytes still owns it
 * (`contentHolderWins`): then returns that ingest's id. A marker of a failed, quarantined or crashed
 * ingest is taken over, conditional on that holder still holding it.
 */
async function claimContent(
  reports: IngestReportStore,
  marker: { source: string; sha256: string; ingestId: string; now: Date },
): Promise<string | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await reports.markContent(marker)) return null;
    const holder = await reports.contentHolder(marker.source, marker.sha256);
    if (!holder) continue;
    const earlier = await reports.getWithLease(holder);
    const holderState = earlier
      ? { status: earlier.report.status, leaseExpiresAt: earlier.leaseExpiresAt }
      : null;
    if (contentHolderWins(holderState, marker.now)) return holder;
    if (await reports.markContent(marker, holder)) return null;
  }
  throw Object.assign(new Error(`Content marker of ${marker.source}/${marker.sha256} keeps changing`), {
    $retryable: { throttling: false },
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
