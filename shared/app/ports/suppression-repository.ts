/**
 * The suppression repository port: the list of erased customers (hashed ids) that runs and ingests
 * leave out, and the erasure itself (suppress, then delete the customer's scores in every run).
 */
export interface SuppressionRepository {
  /** Every suppressed customer-id hash (the list is small: erasure requests). */
  listSuppressedHashes(): Promise<string[]>;
  isSuppressed(customerId: string): Promise<boolean>;
  /** Whether the customer has a score item of any run (erasure refuses ids nothing knows). */
  hasScores(customerId: string): Promise<boolean>;
  /** Suppresses the customer, then deletes every score item of theirs. Idempotent. */
  eraseCustomer(customerId: string, now: Date): Promise<{ customerIdHash: string; deletedScores: number }>;
}
