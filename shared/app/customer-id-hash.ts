/**
 * The one way a customer id is hashed: for the suppression list (erasure) and for change events when
 * ids are hashed. Kept out of the domain because it needs node:crypto.
 */
import { createHash } from 'node:crypto';

/**
 * Lowercase hex SHA-256 of the id's UTF-8 bytes, exactly as given (not trimmed or case-folded, since
 * ingest stores ids trimmed and case-sensitive).
 */
export function hashCustomerId(customerId: string): string {
  return createHash('sha256').update(customerId, 'utf8').digest('hex');
}
