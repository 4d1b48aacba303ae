/**
 * Erasure on the data bucket: stored versions (ListObjectVersions, or the plain listing where the
 * store keeps no versions), rewriting an object without a customer's rows (Parquet through DuckDB,
 * text formats through the domain's row filters, gzip kept), and deleting versions.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { hashCustomerId } from '#app/customer-id-hash.ts';
import type { ErasureObjectStore, ErasureTarget, ObjectRewrite, StoredVersion } from '#app/ports/erasure.ts';
import type { PersonalDataFormat } from '#domain/bucket-layout.ts';
import {
  type CustomerMatcher,
  containsIdToken,
  eraseFromCsv,
  eraseFromExport,
  eraseFromJsonLines,
  idTokens,
  isCustomerIdColumn,
  jsonDocumentHoldsId,
  type RowsErased,
} from '#domain/erasure/customer-rows.ts';
import { CvmError } from '#domain/errors.ts';
import { openDuckDb, sqlLiteral } from '../duckdb.ts';
import { listObjects } from '../s3/objects.ts';

/** An object holds the customer in a form erasure cannot rewrite row by row; it names the object. */
export class ErasureNotPossibleError extends CvmError {
  override readonly name = 'ErasureNotPossibleError';
  readonly code = 'erasure_not_possible';
}

export interface S3ErasureObjects extends ErasureObjectStore {
  /** Closes the DuckDB instance Parquet rewrites use. */
  close(): Promise<void>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** Text codec of a stored text file: UTF-16 when it starts with a byte-order mark, else bytes as Latin-1. */
interface TextCodec {
  decode(bytes: Buffer): string;
  encode(text: string): Buffer;
  /** A value of text decoded by this codec as the string it encodes (UTF-8 read back). */
  value(decoded: string): string;
  /** A string as it appears in text decoded by this codec. */
  decoded(value: string): string;
}

/**
 * Latin-1 maps every byte to one character and back, so a UTF-8, Windows-1252 or ISO-8859 file comes
 * back byte for byte; the id is compared as its UTF-8 bytes read the same way (ingest reads UTF-8).
 */
const NON_ASCII = /[\u0080-\uffff]/;

const BYTES_AS_LATIN1: TextCodec = {
  decode: (bytes) => bytes.toString('latin1'),
  encode: (text) => Buffer.from(text, 'latin1'),
  // ASCII (nearly every id) is the same either way: no conversion.
  value: (decoded) => (NON_ASCII.test(decoded) ? Buffer.from(decoded, 'latin1').toString('utf8') : decoded),
  decoded: (value) => (NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value),
};

const UTF16LE: TextCodec = {
  decode: (bytes) => bytes.toString('utf16le'),
  encode: (text) => Buffer.from(text, 'utf16le'),
  value: (decoded) => decoded,
  decoded: (value) => value,
};

/** The target as a matcher of values in text decoded by `codec`. */
function matcherFor(target: ErasureTarget, codec: TextCodec): CustomerMatcher {
  if ('customerId' in target) {
    const { customerId } = target;
    const decodedId = codec.decoded(customerId);
    return {
      is: (value) => value === decodedId,
      inText: (text) => containsIdToken(text, decodedId),
      mayOccurIn: (text) => text.includes(decodedId),
    };
  }
  const hashes = target.customerIdHashes;
  // A customer has many rows: each distinct value is hashed once per file.
  const seen = new Map<string, boolean>();
  const is = (value: string) => {
    if (value === '') return false;
    let found = seen.get(value);
    if (found === undefined) {
      found = hashes.has(hashCustomerId(codec.value(value)));
      seen.set(value, found);
    }
    return found;
  };
  return { is, inText: (text) => idTokens(text).some(is) };
}

function codecOf(bytes: Buffer): TextCodec {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return UTF16LE;
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swap = (b: Buffer) => {
      const copy = Buffer.from(b);
      return copy.swap16();
    };
    return {
      decode: (b) => swap(b).toString('utf16le'),
      encode: (text) => swap(Buffer.from(text, 'utf16le')),
      value: (decoded) => decoded,
      decoded: (value) => value,
    };
  }
  return BYTES_AS_LATIN1;
}

/**
 * A stored text file (gzipped or not) without the customer's rows; `null` bytes when nothing was
 * removed. `where` names the file (an S3 URL, a path) in messages and gives its name.
 */
export function eraseFromStoredText(
  stored: Buffer,
  where: string,
  format: PersonalDataFormat,
  target: ErasureTarget,
): { removed: number; bytes: Buffer | null } {
  const gzipped = isGzip(stored);
  const plain = gzipped ? gunzipSync(stored) : stored;
  const codec = codecOf(plain);
  const text = codec.decode(plain);
  const id = matcherFor(target, codec);
  const name = where.slice(where.lastIndexOf('/') + 1);
  let erased: RowsErased;
  if (format === 'export') erased = eraseFromExport(text, id, name);
  else if (format === 'jsonl') erased = eraseFromJsonLines(text, id);
  else if (format === 'csv') erased = eraseFromCsv(text, id);
  else {
    if (jsonDocumentHoldsId(text, id)) {
      throw new ErasureNotPossibleError(
        `${where} holds the customer in a JSON document that erasure cannot rewrite row by row; ` +
          'remove it by hand or teach erasure its format',
      );
    }
    return { removed: 0, bytes: null };
  }
  if (erased.removed === 0) return { removed: 0, bytes: null };
  const encoded = codec.encode(erased.text);
  return { removed: erased.removed, bytes: gzipped ? gzipSync(encoded) : encoded };
}

export function createS3ErasureObjects(options: {
  s3: S3Client;
  bucket: string;
  /** Where Parquet objects are rewritten. @default the OS temp directory */
  workDirectory?: string;
}): S3ErasureObjects {
  const { s3, bucket } = options;
  let duckDb: ReturnType<typeof openDuckDb> | undefined;
  const connection = async (): Promise<DuckDBConnection> => {
    duckDb ??= openDuckDb({ memoryLimit: '512MB' });
    return (await duckDb).connection;
  };

  async function read(
    key: string,
    versionId?: string,
  ): Promise<{ bytes: Buffer; contentType?: string; eTag?: string; versionId?: string }> {
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
    );
    const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
    return {
      bytes,
      ...(got.ContentType ? { contentType: got.ContentType } : {}),
      ...(got.ETag ? { eTag: got.ETag } : {}),
      ...(got.VersionId && got.VersionId !== 'null' ? { versionId: got.VersionId } : {}),
    };
  }

  /** Rewrites a Parquet file without the customer's rows, with its columns, types and compression. */
  async function eraseFromParquet(
    stored: Buffer,
    target: ErasureTarget,
  ): Promise<{ removed: number; bytes: Buffer | null }> {
    const dir = await mkdtemp(join(options.workDirectory ?? tmpdir(), 'cvm-erase-'));
    try {
      const input = join(dir, `${randomUUID()}.parquet`);
      const output = join(dir, `${randomUUID()}.parquet`);
      await writeFile(input, stored);
      const con = await connection();
      // Hive partition values (source=…, ingest_date=…) live in the key, not the file: not read as columns.
      const source = `read_parquet(${sqlLiteral(input)}, hive_partitioning = false)`;
      const columns = (
        await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)
      ).getRowObjectsJS() as Array<{
        column_name: string;
        column_type: string;
      }>;
      const named = columns.filter((c) => isCustomerIdColumn(c.column_name));
      // A file without a customer id column is compared on every text column: no name we do not know
      // may keep a customer.
      const compared = named.length > 0 ? named : columns.filter((c) => c.column_type === 'VARCHAR');
      if (compared.length === 0) return { removed: 0, bytes: null };
      const matches = compared
        .map((c) => {
          const value = `CAST("${c.column_name.replace(/"/g, '""')}" AS VARCHAR)`;
          if ('customerId' in target) return `${value} = ${sqlLiteral(target.customerId)}`;
          if (target.customerIdHashes.size === 0) return 'false';
          return `sha256(${value}) IN (${[...target.customerIdHashes].map(sqlLiteral).join(', ')})`;
        })
        .join(' OR ');
      const counted = (
        await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${source} WHERE ${matches}`)
      ).getRowObjectsJS()[0] as { n: number };
      if (counted.n === 0) return { removed: 0, bytes: null };
      const codec = (
        (
          await con.runAndReadAll(`SELECT compression FROM parquet_metadata(${sqlLiteral(input)}) LIMIT 1`)
        ).getRowObjectsJS()[0] as { compression?: string } | undefined
      )?.compression;
      const compression =
        codec && /^(SNAPPY|ZSTD|GZIP|UNCOMPRESSED|LZ4_RAW|BROTLI)$/i.test(codec) ? codec : 'SNAPPY';
      await con.run(
        `COPY (SELECT * FROM ${source} WHERE NOT coalesce(${matches}, false)) TO ${sqlLiteral(output)} ` +
          `(FORMAT parquet, COMPRESSION ${compression})`,
      );
      return { removed: counted.n, bytes: await readFile(output) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function erased(key: string, stored: Buffer, format: PersonalDataFormat, target: ErasureTarget) {
    return format === 'parquet'
      ? eraseFromParquet(stored, target)
      : eraseFromStoredText(stored, `s3://${bucket}/${key}`, format, target);
  }

  return {
    async listVersions(prefix) {
      const versions: StoredVersion[] = [];
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      try {
        do {
          const page = await s3.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              Prefix: prefix,
              KeyMarker: keyMarker,
              VersionIdMarker: versionIdMarker,
            }),
          );
          for (const v of page.Versions ?? []) {
            if (v.Key) versions.push(storedVersion(v.Key, v.VersionId, v.IsLatest ?? false, false));
          }
          for (const m of page.DeleteMarkers ?? []) {
            if (m.Key) versions.push(storedVersion(m.Key, m.VersionId, m.IsLatest ?? false, true));
          }
          keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
          versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
        } while (keyMarker);
        return versions;
      } catch (error) {
        // The local S3 stand-in keeps one copy per key and does not implement the versions listing.
        const name = (error as { name?: string }).name;
        if (name !== 'NotImplemented' && name !== 'MethodNotAllowed') throw error;
      }
      for await (const { key } of listObjects(s3, bucket, prefix)) {
        versions.push({ key, isLatest: true, isDeleteMarker: false });
      }
      return versions;
    },

    async rewriteWithout(key, format, target, beforeWrite) {
      // Written only if the object is still the one read (S3 conditional write): an ingest removing
      // erased customers from the same upload at the same moment, with an older suppression list, must
      // not put back rows this pass removed. On a conflict the object is read and rewritten again.
      for (let attempt = 1; ; attempt++) {
        const { bytes: stored, contentType, eTag, versionId: readVersion } = await read(key);
        const { removed, bytes } = await erased(key, stored, format, target);
        if (removed === 0 || !bytes) return { removed: 0 };
        const rewrite: Required<Omit<ObjectRewrite, 'versionId' | 'replacedVersionId'>> = {
          removed,
          previousSha256: sha256(stored),
          sha256: sha256(bytes),
        };
        await beforeWrite?.(rewrite);
        try {
          const put = await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: bytes,
              ContentLength: bytes.length,
              ...(contentType ? { ContentType: contentType } : {}),
              ...(eTag ? { IfMatch: eTag } : {}),
            }),
          );
          return {
            ...rewrite,
            ...(put.VersionId && put.VersionId !== 'null' ? { versionId: put.VersionId } : {}),
            ...(readVersion ? { replacedVersionId: readVersion } : {}),
          };
        } catch (error) {
          const name = (error as { name?: string }).name;
          if ((name !== 'PreconditionFailed' && name !== 'ConditionalRequestConflict') || attempt >= 5)
            throw error;
        }
      }
    },

    async versionHolds(version, format, target) {
      const { bytes } = await read(version.key, version.versionId);
      return (await erased(version.key, bytes, format, target)).removed > 0;
    },

    async deleteVersion(version) {
      await s3.send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: version.key,
          ...(version.versionId ? { VersionId: version.versionId } : {}),
        }),
      );
    },

    async close() {
      if (duckDb) (await duckDb).close();
      duckDb = undefined;
    },
  };
}

/**
 * A listed version. S3 names a version written while versioning was off `null`; it is addressed by
 * that name too (the service deletes a rewritten object's old version only when the rewrite made a
 * new one, so an unversioned bucket's overwritten object is never deleted).
 */
function storedVersion(
  key: string,
  versionId: string | undefined,
  isLatest: boolean,
  isDeleteMarker: boolean,
): StoredVersion {
  return { key, ...(versionId ? { versionId } : {}), isLatest, isDeleteMarker };
}
