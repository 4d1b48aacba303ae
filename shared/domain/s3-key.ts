/**
 * S3 event notifications carry object keys form-URL-encoded (space → `+`, `+` → `%2B`, `/` kept).
 * The local stand-in delivers raw keys, so the local stack encodes them the AWS way before they reach
 * a handler, and handlers always decode.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}
