/**
 * Erasure in a versioned bucket (as in AWS; the local S3 stand-in keeps no versions): every version
 * that holds the customer goes — the one a rewrite replaces, older ones, and versions left behind by
 * a delete (a quarantined upload) — while other versions, delete markers and config/ stay untouched.
 * S3 is an in-memory versioned bucket behind the SDK's command interface; the table is dynalite.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { createS3ErasureObjects } from '#adapters/erasure/s3-erasure-objects.ts';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import { eraseCustomerObjects } from '#app/erasure/erase-customer.ts';
import { BUCKET_PREFIXES } from '#domain/bucket-layout.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';

interface Version {
  versionId: string;
  body: Buffer | null; // null: delete marker
}

/** A versioned bucket: each key's versions, newest last. */
function versionedBucket(
  s3: ReturnType<typeof mockClient>,
  options: { beforePut?: (key: string) => void } = {},
) {
  const keys = new Map<string, Version[]>();
  let next = 1;
  const put = (key: string, body: Buffer | null) => {
    const version = { versionId: `v${next++}`, body };
    keys.set(key, [...(keys.get(key) ?? []), version]);
    return version.versionId;
  };
  // The ETag is the version id here; a conditional put (If-Match) fails when the object changed.
  s3.on(PutObjectCommand).callsFake((input) => {
    options.beforePut?.(input.Key);
    const current = keys.get(input.Key)?.at(-1);
    if (input.IfMatch !== undefined && input.IfMatch !== `"${current?.versionId}"`) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
      });
    }
    return { VersionId: put(input.Key, Buffer.from(input.Body)) };
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const versions = keys.get(input.Key) ?? [];
    const found = input.VersionId ? versions.find((v) => v.versionId === input.VersionId) : versions.at(-1);
    if (!found?.body) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    // The part of the SDK's body stream the adapter uses.
    const body = found.body;
    return {
      Body: { transformToByteArray: async () => new Uint8Array(body) } as never,
      ETag: `"${found.versionId}"`,
      VersionId: found.versionId,
    };
  });
  s3.on(DeleteObjectCommand).callsFake((input) => {
    if (!input.VersionId) return { VersionId: put(input.Key, null), DeleteMarker: true };
    keys.set(
      input.Key,
      (keys.get(input.Key) ?? []).filter((v) => v.versionId !== input.VersionId),
    );
    return {};
  });
  s3.on(ListObjectVersionsCommand).callsFake((input) => {
    const Versions: object[] = [];
    const DeleteMarkers: object[] = [];
    for (const [key, versions] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
      if (!key.startsWith(input.Prefix ?? '')) continue;
      versions.forEach((v, index) => {
        const entry = { Key: key, VersionId: v.versionId, IsLatest: index === versions.length - 1 };
        (v.body ? Versions : DeleteMarkers).push(entry);
      });
    }
    return { Versions, DeleteMarkers, IsTruncated: false };
  });
  return { put, versionsOf: (key: string) => keys.get(key) ?? [] };
}

describe('erasure in a versioned bucket', () => {
  let stack: LocalStack;
  let work: string;
  const s3Mock = mockClient(S3Client);
  beforeAll(async () => {
    stack = await startLocalStack();
    work = await mkdtemp(join(tmpdir(), 'cvm-versioned-'));
  });
  afterAll(async () => {
    s3Mock.restore();
    await stack?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('deletes every version holding the customer and keeps the rest', async () => {
    const bucket = versionedBucket(s3Mock);
    const csv = (...ids: string[]) =>
      Buffer.from(`customer_id,order_date,amount\n${ids.map((id) => `${id},2025-01-02,1.00`).join('\n')}\n`);
    // An upload overwritten once: both versions hold X.
    const oldUpload = bucket.put('incoming/shop/a.csv', csv('X', 'Y'));
    const currentUpload = bucket.put('incoming/shop/a.csv', csv('X', 'Y', 'Z'));
    // An upload moved to quarantine: a delete marker over a version holding X, and one without X.
    const movedWithX = bucket.put('incoming/shop/moved.csv', csv('X'));
    const movedWithoutX = bucket.put('incoming/shop/other.csv', csv('Y'));
    bucket.put('incoming/shop/moved.csv', null);
    // Clean Parquet written by DuckDB.
    const db = await openDuckDb();
    const parquet = join(work, 'clean.parquet');
    await db.connection.run(
      `COPY (SELECT * FROM (VALUES ('X', 1.5::DECIMAL(18,2)), ('Y', 2.5)) t(customer_id, amount)) TO ${sqlLiteral(parquet)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    db.close();
    const oldParquet = bucket.put(
      'clean/transactions/source=shop/ingest_date=2025-01-02/abc.parquet',
      readFileSync(parquet),
    );
    // Settings never hold customer rows and are not read.
    bucket.put('config/sources/shop.json', Buffer.from('{"columns":{"customer_id":"X"}}'));

    const objects = createS3ErasureObjects({ s3: new S3Client({ region: 'eu-west-1' }), bucket: 'b' });
    try {
      const result = await eraseCustomerObjects(
        { objects, contentMarkers: new IngestReportRepository(stack.clients.dynamo, stack.config.table) },
        { customerId: 'X' },
      );
      expect(result).toMatchObject({ objectsRewritten: 2, rowsRemoved: 2, versionsDeleted: 4 });
    } finally {
      await objects.close();
    }
    const upload = bucket.versionsOf('incoming/shop/a.csv');
    expect(upload.map((v) => v.versionId)).not.toContain(oldUpload);
    expect(upload.map((v) => v.versionId)).not.toContain(currentUpload);
    expect(upload.map((v) => v.body?.toString())).toEqual([
      'customer_id,order_date,amount\nY,2025-01-02,1.00\nZ,2025-01-02,1.00\n',
    ]);
    expect(
      bucket.versionsOf('incoming/shop/moved.csv').map((v) => [v.versionId === movedWithX, v.body]),
    ).toEqual([[false, null]]);
    expect(bucket.versionsOf('incoming/shop/other.csv').map((v) => v.versionId)).toEqual([movedWithoutX]);
    const clean = bucket.versionsOf('clean/transactions/source=shop/ingest_date=2025-01-02/abc.parquet');
    expect(clean.map((v) => v.versionId)).not.toContain(oldParquet);
    expect(clean).toHaveLength(1);
    expect(bucket.versionsOf('config/sources/shop.json')).toHaveLength(1);
    const listed = s3Mock.commandCalls(ListObjectVersionsCommand).map((call) => call.args[0].input.Prefix);
    expect(listed).not.toContain(BUCKET_PREFIXES.config);
  });

  it('does not overwrite a concurrent rewrite of the same object: it reads the object again', async () => {
    s3Mock.reset();
    let interfered = false;
    const csv = (...ids: string[]) =>
      Buffer.from(`customer_id,order_date,amount\n${ids.map((id) => `${id},2025-01-02,1.00`).join('\n')}\n`);
    const bucket = versionedBucket(s3Mock, {
      beforePut(key) {
        // Another writer (an ingest removing another erased customer) replaces the object between
        // this pass's read and its write.
        if (!interfered) {
          interfered = true;
          bucket.put(key, csv('X', 'Z'));
        }
      },
    });
    bucket.put('incoming/shop/a.csv', csv('X', 'Y', 'Z'));
    const objects = createS3ErasureObjects({ s3: new S3Client({ region: 'eu-west-1' }), bucket: 'b' });
    try {
      await eraseCustomerObjects(
        { objects, contentMarkers: new IngestReportRepository(stack.clients.dynamo, stack.config.table) },
        { customerId: 'X' },
      );
    } finally {
      await objects.close();
    }
    // Written from the other writer's version (without Y), not from the stale read; both versions that
    // held X are gone.
    expect(bucket.versionsOf('incoming/shop/a.csv').map((v) => v.body?.toString())).toEqual([
      'customer_id,order_date,amount\nZ,2025-01-02,1.00\n',
    ]);
  });
});
