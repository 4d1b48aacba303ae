/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 18+) no
 * longer provides: every truncated listing (more than MaxKeys keys) then fails with a 500. The token is
 * opaque to clients, so the local stack maps s3rver's 'des' to AES-128-CBC with the same 8-byte key and
 * IV zero-padded. Only the algorithm name 'des' is touched, which nothing else can use on this runtime.
 */
import crypto from 'node:crypto';

let installed = false;

export function installS3rverContinuationTokenFix(): void {
  if (installed) return;
  installed = true;
  const cryptoModule = crypto as unknown as {
    createCipheriv: typeof crypto.createCipheriv;
    createDecipheriv: typeof crypto.createDecipheriv;
  };
  const widen = (bytes: crypto.BinaryLike | crypto.KeyObject | null) =>
    Buffer.concat([Buffer.from(bytes as Buffer), Buffer.alloc(8)]).subarray(0, 16);
  type CreateCipherOrDecipher = (
    algorithm: string,
    key: crypto.CipherKey,
    iv: crypto.BinaryLike | null,
    options?: never,
  ) => unknown;
  /** `create` with 'des' answered by AES-128-CBC on the widened key and IV; anything else unchanged. */
  const desAsAes =
    (create: CreateCipherOrDecipher): CreateCipherOrDecipher =>
    (algorithm, key, iv, options) =>
      algorithm === 'des'
        ? create('aes-128-cbc', widen(key as Buffer), widen(iv))
        : create(algorithm, key, iv, options);
  cryptoModule.createCipheriv = desAsAes(
    cryptoModule.createCipheriv as CreateCipherOrDecipher,
  ) as typeof crypto.createCipheriv;
  cryptoModule.createDecipheriv = desAsAes(
    cryptoModule.createDecipheriv as CreateCipherOrDecipher,
  ) as typeof crypto.createDecipheriv;
}
