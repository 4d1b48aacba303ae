import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  cleanTransactionKey,
  INCOMING_PREFIX,
  parseIncomingKey,
  quarantineKeyFor,
  rejectedKeyFor,
} from '../../domain/bucket-layout.ts';
import { IngestFileError } from '../../domain/ingest/ingest-file-error.ts';
import { type IngestReport, inProgressIngestReport } from '../../domain/ingest-report.ts';
import type { AwsClients } from '../aws-clients.ts';
import type { RuntimeConfig } from '../config.ts';
import { moveObject, uploadFiles } from '../s3/objects.ts';
import { isFileLevelError, isTransientError } from './errors.ts';
import { finishWithDuckDb } from './finish-with-duckdb.ts';
import { IngestReportRepository, LeaseLostError } from './report-repository.ts';
import { loadSourceConfig } from './source-config-store.ts';
import { stageExport } from './stage-export.ts';

const DEFAULT_MAX_REJECT_RATIO = 0.2;
/** Longer than the ingest Lambda's 15-minute ceiling, so a live worker never loses its lease. */
export const DEFAULT_LEASE_MS = 16 * 60 * 1000;

/** What ingest logs: counts, keys and ids only — never customer ids or amounts. */
export interface IngestLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface IngestDeps {
  config: RuntimeConfig;
  clients: AwsClients;
  now?: () => Date;
  /** Parent of the per-ingest working directory. @default os.tmpdir() */
  tmpDir?: string;
  logger?: IngestLogger;
  /** @default {@link DEFAULT_LEASE_MS} */
  leaseMs?: number;
}

/** One uploaded object, as identified by its S3 event. */
export interface IngestObjectRef {
  bucket: string;
  /** The decoded object key. */
  key: string;
  versionId?: string;
  eTag?: string;
  /** S3's event sequencer; identifies the write when the bucket is unversioned and no ETag is known. */
  sequencer?: string;
}

/**
 * Stable id of one ingest: the same object write (bucket, key, version or ETag) always maps to the
 * same id, so a redelivered event finds the report of the first delivery.
 */
export function ingestIdFor(ref: IngestObjectRef): string {
  const revision = ref.versionId ?? normalizeETag(ref.eTag) ?? ref.sequencer ?? '';
  return createHash('sha256').update(`${ref.bucket}\n${ref.key}\n${revision}`).digest('hex').slice(0, 24);
}

/** S3 returns ETags quoted from the API and unquoted in events. */
export function normalizeETag(eTag: string | undefined): string | undefined {
  if (!eTag) return undefined;
  return eTag.replace(/^"|"$/g, '');
}

const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Ingests one uploaded export end to end: claims the ingest (idempotent under redelivery), reads the
 * source config, streams and parses the object, detects re-uploaded content, applies the cross-row
 * rules and writes clean Parquet in DuckDB, uploads clean and rejected rows (or quarantines the file)
 * and records the report.
 *
 * Returns the report. File-level problems give a `failed` report; transient AWS errors are thrown
 * (after giving up the lease) so the event is retried.
 */
export async function ingestObject(deps: IngestDeps, ref: IngestObjectRef): Promise<IngestReport> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  const location = parseIncomingKey(ref.key);
  if (!location) throw new Error(`Not an export upload: ${ref.key} is not under ${INCOMING_PREFIX}<source>/`);
  const { source, fileName } = location;
  const ingestId = ingestIdFor(ref);
  const repository = new IngestReportRepository(deps.clients.dynamo, deps.config.table);
  const startedAt = now();

  let report = inProgressIngestReport({ ingestId, source, key: ref.key, startedAt });
  const claim = await repository.claim(report, startedAt, deps.leaseMs ?? DEFAULT_LEASE_MS);
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

  const workDir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'cvm-ingest-'));
  let contentMarker: string | null = null;
  const finalize = async (outcome: Partial<IngestReport>): Promise<IngestReport> => {
    report = { ...report, ...outcome, finishedAt: now().toISOString() };
    await repository.save(report, leaseToken, { final: true });
    return report;
  };
  try {
    if (!SOURCE_NAME.test(source)) {
      throw new IngestFileError(
        'source_invalid',
        `${ref.key}: source folder '${source}' must be letters, digits, '.', '_' or '-' (it becomes a partition name)`,
      );
    }
    const sourceConfig = await loadSourceConfig(deps.clients.s3, deps.config.bucket, source);
    const object = await deps.clients.s3
      .send(
        new GetObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          ...(ref.versionId ? { VersionId: ref.versionId } : {}),
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name === 'NoSuchKey') {
          throw new IngestFileError('object_missing', `${ref.key}: the object no longer exists`);
        }
        throw error;
      });
    if (!object.Body) throw new IngestFileError('object_missing', `${ref.key}: the object has no body`);

    const staged = await stageExport({
      stored: object.Body as AsyncIterable<Uint8Array>,
      fileName,
      config: sourceConfig,
      defaultCurrency: sourceConfig.currency ?? deps.config.defaultCurrency,
      workDir,
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

    const content = await repository.claimContent(source, staged.sha256, ingestId, now());
    if (content.duplicateOf !== null) {
      log?.info('same content already ingested', { ingestId, duplicateOf: content.duplicateOf });
      return await finalize({
        status: 'succeeded',
        accepted: 0,
        rejected: 0,
        duplicates: staged.rowsRead,
        duplicateOfIngestId: content.duplicateOf,
        message: `Same content as ingest ${content.duplicateOf}: all ${staged.rowsRead} rows counted as duplicates, nothing ingested twice`,
      });
    }
    contentMarker = staged.sha256;

    const ingestedAt = now();
    const finished = await finishWithDuckDb({
      acceptedPath: staged.acceptedPath,
      stagedRows: staged.counts.accepted,
      emptyAmountRows: staged.counts.emptyAmountRows,
      dedupeExactRows: sourceConfig.dedupeExactRows ?? true,
      columns: staged.summary.columns,
      ingestId,
      ingestedAt,
      workDir,
    });
    const rejectReasons = { ...staged.counts.rejectReasons };
    if (finished.lateRejected > 0) {
      rejectReasons.amount_missing = (rejectReasons.amount_missing ?? 0) + finished.lateRejected;
    }
    const rejected = staged.counts.rejected + finished.lateRejected;
    const counts = { accepted: finished.accepted, rejected, duplicates: finished.duplicates, rejectReasons };
    if (counts.accepted + counts.rejected + counts.duplicates !== staged.rowsRead) {
      throw new Error(
        `Row accounting broken for ${ref.key}: ${staged.rowsRead} read ≠ ${counts.accepted} accepted + ${counts.rejected} rejected + ${counts.duplicates} duplicates`,
      );
    }
    const timings = { ...report.timings, finishMs: Math.round(finished.finishMs) };

    const uploadStarted = performance.now();
    let rejectedKey: string | null = null;
    if (rejected > 0) {
      rejectedKey = rejectedKeyFor(source, ingestId);
      const parts = [staged.rejectedPath, ...(finished.lateRejectsPath ? [finished.lateRejectsPath] : [])];
      await uploadFiles(
        deps.clients.s3,
        { bucket: deps.config.bucket, key: rejectedKey, contentType: 'application/x-ndjson' },
        staged.counts.rejected > 0 ? parts : parts.slice(1),
      );
    }

    const maxRejectRatio = sourceConfig.maxRejectRatio ?? DEFAULT_MAX_REJECT_RATIO;
    const rejectRatio = staged.rowsRead === 0 ? 0 : rejected / staged.rowsRead;
    if (rejectRatio > maxRejectRatio) {
      const quarantineKey = quarantineKeyFor(source, ingestId, fileName);
      await moveObject(deps.clients.s3, ref.bucket, ref.key, quarantineKey);
      await repository.releaseContent(source, staged.sha256, ingestId);
      contentMarker = null;
      log?.warn('ingest quarantined', { ingestId, key: ref.key, rowsRead: staged.rowsRead, rejected });
      return await finalize({
        ...counts,
        status: 'quarantined',
        amountTotals: {},
        cleanKey: null,
        rejectedKey,
        quarantineKey,
        message:
          `${rejected} of ${staged.rowsRead} rows rejected (${formatPercent(rejectRatio)}), more than ` +
          `maxRejectRatio ${maxRejectRatio}: the file was moved to ${quarantineKey} and no clean data was written; ` +
          `see ${rejectedKey}`,
        timings: { ...timings, uploadMs: Math.round(performance.now() - uploadStarted) },
      });
    }

    let cleanKey: string | null = null;
    if (finished.parquetPath) {
      cleanKey = cleanTransactionKey(source, ingestedAt.toISOString().slice(0, 10), staged.sha256);
      await uploadFiles(
        deps.clients.s3,
        { bucket: deps.config.bucket, key: cleanKey, contentType: 'application/vnd.apache.parquet' },
        [finished.parquetPath],
      );
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
      return (await repository.get(ingestId)) ?? report;
    }
    if (isTransientError(error)) {
      // The final report write may have reached DynamoDB although its response was lost.
      const landed = await repository.ownFinalReport(ingestId, leaseToken).catch(() => null);
      if (landed) {
        log?.warn('final report write timed out but was stored: ingest complete', { ingestId });
        return landed;
      }
    }
    if (contentMarker) await repository.releaseContent(source, contentMarker, ingestId).catch(() => {});
    if (isTransientError(error)) {
      log?.warn('transient error: event will be retried', { ingestId, key: ref.key, error: describe(error) });
      await repository.release(report, leaseToken);
      throw error;
    }
    const fileLevel = isFileLevelError(error);
    if (!fileLevel)
      log?.error('ingest failed unexpectedly', { ingestId, key: ref.key, error: describe(error) });
    else log?.info('ingest failed: file-level problem', { ingestId, key: ref.key, code: error.code });
    try {
      return await finalize({
        status: 'failed',
        message: fileLevel ? error.message : `Internal error while ingesting ${ref.key}: ${describe(error)}`,
      });
    } catch (saveError) {
      if (saveError instanceof LeaseLostError) return (await repository.get(ingestId)) ?? report;
      throw saveError;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
