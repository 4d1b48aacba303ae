/**
 * The byte stream an ingest parses from a stored export (S3 body or local file): hashed as stored,
 * gunzipped on the fly when the name or magic bytes say gzip.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** True when the object must be gunzipped: a `.gz` name or the gzip magic bytes. */
export function isGzipped(fileName: string, head: Uint8Array): boolean {
  if (/\.gz$/i.test(fileName)) return true;
  return head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/** The name the parser sees: `orders.jsonl.gz` is parsed as `orders.jsonl`. */
export function decompressedFileName(fileName: string): string {
  return fileName.replace(/\.gz$/i, '');
}

export interface ExportByteStream {
  /** Decompressed bytes, in order; pulled lazily so memory does not grow with the object. */
  chunks: AsyncIterable<Uint8Array>;
  gzipped: boolean;
  /** SHA-256 (hex) of the bytes as stored (before decompression); available once `chunks` is drained. */
  sha256(): string;
  /** Bytes as stored; complete once `chunks` is drained. */
  storedBytes(): number;
}

/**
 * Wraps a stored object's byte stream (an S3 body or a local file): hashes the stored bytes, detects
 * gzip from the name or the first two bytes, and gunzips on the fly.
 */
export async function openExportByteStream(
  stored: AsyncIterable<Uint8Array>,
  fileName: string,
): Promise<ExportByteStream> {
  const hash = createHash('sha256');
  let bytes = 0;
  const iterator = stored[Symbol.asyncIterator]();
  // Peek until two bytes are known (a first chunk of one byte is legal for a stream).
  const head: Uint8Array[] = [];
  let headLength = 0;
  let exhausted = false;
  while (headLength < 2) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
  }
  const headBytes = Buffer.concat(head);

  async function* storedChunks(): AsyncGenerator<Uint8Array> {
    for (const chunk of head) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    if (exhausted) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      hash.update(next.value);
      bytes += next.value.length;
      yield next.value;
    }
  }

  const gzipped = isGzipped(fileName, headBytes);
  let chunks: AsyncIterable<Uint8Array> = storedChunks();
  if (gzipped) {
    const input = Readable.from(storedChunks(), { objectMode: false });
    const gunzip = createGunzip();
    input.on('error', (error) => gunzip.destroy(error));
    input.pipe(gunzip);
    chunks = gunzip;
  }
  let digest: string | undefined;
  return {
    chunks,
    gzipped,
    sha256: () => {
      digest ??= hash.digest('hex');
      return digest;
    },
    storedBytes: () => bytes,
  };
}
