/**
 * Ingest reports and content markers in the single table, with the claims, leases and conditional writes
 * that make at-least-once delivery ingest each object once.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ClaimResult,
  type IngestReportStore,
  LeaseLostError,
  type StoredIngestReport,
} from '#app/ports/ingest-reports.ts';
import { type IngestReport, ingestReportSchema } from '#domain/ingest-report.ts';
import { contentKey, ingestKey, ingestListKey } from '../dynamo/keys.ts';

/** Attributes stored beside a report that are not part of the report itself. */
interface LeaseAttributes {
  /** Who holds the lease: only that worker may write the outcome. */
  leaseToken?: string;
  /** Epoch milliseconds after which another delivery of the same event may take the ingest over. */
  leaseExpiresAt?: number;
  /** Which worker holds the lease (a local process id; absent in AWS, where leases simply expire). */
  leaseHolder?: string;
  /** A final `failed` report the next delivery may claim again (the failure was not the file's). */
  retryOnRedelivery?: boolean;
}

export interface ReportRepositoryOptions {
  /** Recorded with each lease this repository takes, e.g. `local:<host>:<pid>`. */
  leaseHolder?: string;
  /**
   * Whether the worker named by a lease is known to be gone (a killed local process). Its lease then
   * counts as expired at once: the next attempt takes the ingest over instead of waiting for the
   * expiry, and an upload of the same bytes is not called a duplicate of an ingest that never finishes.
   */
  isHolderGone?: (holder: string) => boolean;
}

/**
 * Every write also records the token of the worker that made it (`writtenBy`, kept when a final report
 * drops the lease). When a conditional write reaches DynamoDB but its response is lost, the SDK retries
 * the same request; without this the retry would fail its own condition and the worker would believe
 * it lost the ingest to someone else.
 */
const OWN_EARLIER_WRITE = 'writtenBy = :token';

export { LeaseLostError };

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException'
  );
}

/**
 * Ingest reports in the single table, with the idempotency S3's at-least-once delivery needs:
 *
 * - {@link claim} writes the `in_progress` report only if no report exists or the previous holder's
 *   lease has expired (a crashed worker), so one delivery of an event does the work and concurrent
 *   duplicates see the existing report instead.
 * - {@link save} writes an outcome only while the caller still holds the lease.
 * - {@link markContent} marks the first ingest of given bytes per source, so a re-upload under any
 *   key is recorded as a duplicate and nothing is counted twice (the ingest service decides, with
 *   `contentHolderWins`, when an earlier marker may be replaced).
 */
export class IngestReportRepository implements IngestReportStore {
  readonly #dynamo: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #options: ReportRepositoryOptions;

  constructor(dynamo: DynamoDBDocumentClient, table: string, options: ReportRepositoryOptions = {}) {
    this.#dynamo = dynamo;
    this.#table = table;
    this.#options = options;
  }

  /**
   * The final report this worker wrote, when a write whose response was lost (a timeout) did land:
   * then the ingest is complete and nothing may be rolled back. Null otherwise.
   */
  async ownFinalReport(ingestId: string, leaseToken: string): Promise<IngestReport | null> {
    const result = await this.#dynamo.send(
      new GetCommand({ TableName: this.#table, Key: ingestKey(ingestId), ConsistentRead: true }),
    );
    const item = result.Item as (LeaseAttributes & { writtenBy?: string; status?: string }) | undefined;
    if (!item || item.writtenBy !== leaseToken || item.status === 'in_progress') return null;
    return ingestReportSchema.parse(item);
  }

  async get(ingestId: string): Promise<IngestReport | null> {
    const item = await this.#getItem(ingestId);
    return item ? item.report : null;
  }

  /**
   * The condition is the domain's `mayTakeOverIngest` (an `in_progress` report whose lease expired),
   * evaluated by DynamoDB in the same write so two deliveries can never both claim.
   */
  async claim(report: IngestReport, now: Date, leaseMs: number): Promise<ClaimResult> {
    for (let attempt = 0; ; attempt++) {
      const leaseToken = randomUUID();
      try {
        await this.#dynamo.send(
          new PutCommand({
            TableName: this.#table,
            Item: this.#item(report, { leaseToken, leaseExpiresAt: now.getTime() + leaseMs }, leaseToken),
            ConditionExpression: `attribute_not_exists(pk) OR (#status = :inProgress AND leaseExpiresAt < :now) OR retryOnRedelivery = :true OR ${OWN_EARLIER_WRITE}`,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':inProgress': 'in_progress',
              ':now': now.getTime(),
              ':token': leaseToken,
              ':true': true,
            },
          }),
        );
        return { claimed: true, leaseToken };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const existing = await this.#getItem(report.ingestId, true);
      if (!existing) {
        // Deleted between the write and the read: extremely unlikely; let the caller retry the event.
        throw Object.assign(new Error(`Ingest ${report.ingestId} changed while being claimed`), {
          $retryable: { throttling: false },
        });
      }
      // The holder was killed: end its lease now and claim again (once; the claim stays conditional).
      if (attempt === 0 && (await this.#expireLeaseOfGoneHolder(report.ingestId, existing))) continue;
      return { claimed: false, existing: existing.report, leaseExpiresAt: existing.leaseExpiresAt ?? null };
    }
  }

  /** Writes the report; `final` reports drop the lease. Fails when another worker took the lease over. */
  async save(
    report: IngestReport,
    leaseToken: string,
    options: { final: boolean; retryable?: boolean; leaseExpiresAt?: number; retryOfOwnWrite?: boolean },
  ) {
    const lease: LeaseAttributes = options.final
      ? options.retryable
        ? { retryOnRedelivery: true }
        : {}
      : {
          leaseToken,
          ...(options.leaseExpiresAt !== undefined ? { leaseExpiresAt: options.leaseExpiresAt } : {}),
        };
    try {
      await this.#dynamo.send(
        new PutCommand({
          TableName: this.#table,
          Item: this.#item(report, lease, leaseToken),
          // A lease release must never overwrite a final report this worker already wrote.
          ConditionExpression:
            options.retryOfOwnWrite === false
              ? 'leaseToken = :token'
              : `leaseToken = :token OR ${OWN_EARLIER_WRITE}`,
          ExpressionAttributeValues: { ':token': leaseToken },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new LeaseLostError(report.ingestId);
      }
      throw error;
    }
  }

  /**
   * Gives the lease up after a transient failure so the retried event can start at once instead of
   * waiting for the lease to expire. Best effort: an expired lease has the same effect.
   */
  async release(report: IngestReport, leaseToken: string) {
    try {
      await this.save(report, leaseToken, { final: false, leaseExpiresAt: 0, retryOfOwnWrite: false });
    } catch {
      // The lease expires on its own.
    }
  }

  async markContent(
    marker: { source: string; sha256: string; ingestId: string; now: Date },
    replacing?: string,
  ): Promise<boolean> {
    const { source, sha256, ingestId, now } = marker;
    try {
      await this.#dynamo.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...contentKey(source, sha256), ingestId, source, sha256, createdAt: now.toISOString() },
          ...(replacing === undefined
            ? {
                ConditionExpression: 'attribute_not_exists(pk) OR ingestId = :self',
                ExpressionAttributeValues: { ':self': ingestId },
              }
            : {
                ConditionExpression: 'ingestId = :holder',
                ExpressionAttributeValues: { ':holder': replacing },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }

  async contentHolder(source: string, sha256: string): Promise<string | null> {
    const marker = await this.#dynamo.send(
      new GetCommand({ TableName: this.#table, Key: contentKey(source, sha256), ConsistentRead: true }),
    );
    return (marker.Item?.ingestId as string | undefined) ?? null;
  }

  async getWithLease(ingestId: string): Promise<StoredIngestReport | null> {
    const item = await this.#getItem(ingestId, true);
    if (!item) return null;
    if (await this.#expireLeaseOfGoneHolder(ingestId, item))
      return { report: item.report, leaseExpiresAt: 0 };
    return { report: item.report, leaseExpiresAt: item.leaseExpiresAt ?? null };
  }

  /**
   * Ends the lease of an `in_progress` ingest whose holder is known to be gone, with a write conditional
   * on that same holder still holding it. True when the lease is (now) over.
   */
  async #expireLeaseOfGoneHolder(
    ingestId: string,
    item: { report: IngestReport; leaseExpiresAt: number | undefined; leaseHolder: string | undefined },
  ): Promise<boolean> {
    const { isHolderGone } = this.#options;
    if (item.report.status !== 'in_progress' || !item.leaseHolder || !isHolderGone?.(item.leaseHolder)) {
      return false;
    }
    try {
      await this.#dynamo.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: ingestKey(ingestId),
          UpdateExpression: 'SET leaseExpiresAt = :expired',
          ConditionExpression: '#status = :inProgress AND leaseHolder = :holder',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':expired': 0,
            ':inProgress': 'in_progress',
            ':holder': item.leaseHolder,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Removes the content marker of an ingest that did not succeed, so fixed re-uploads are ingested. */
  async releaseContent(source: string, sha256: string, ingestId: string) {
    try {
      await this.#dynamo.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: contentKey(source, sha256),
          ConditionExpression: 'ingestId = :self',
          ExpressionAttributeValues: { ':self': ingestId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  #item(report: IngestReport, lease: LeaseAttributes, writtenBy: string) {
    const holder =
      lease.leaseToken && this.#options.leaseHolder ? { leaseHolder: this.#options.leaseHolder } : {};
    return {
      ...ingestKey(report.ingestId),
      ...ingestListKey(report.startedAt, report.ingestId),
      ...report,
      ...lease,
      ...holder,
      writtenBy,
    };
  }

  async #getItem(ingestId: string, consistent = false) {
    const result = await this.#dynamo.send(
      new GetCommand({ TableName: this.#table, Key: ingestKey(ingestId), ConsistentRead: consistent }),
    );
    if (!result.Item) return null;
    const item = result.Item as LeaseAttributes;
    return {
      report: ingestReportSchema.parse(result.Item),
      leaseExpiresAt: item.leaseExpiresAt,
      leaseHolder: item.leaseHolder,
    };
  }
}
