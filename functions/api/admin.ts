/**
 * Admin operations the API triggers but does not implement: they are injected, so the same handler
 * starts a Step Functions execution in AWS and an in-process recalculation locally.
 */
export interface AdminOperations {
  startRecalculation(input: {
    asOf?: string;
    model?: string;
  }): Promise<{ runId?: string; executionArn?: string }>;
  /** Erases a customer's scores (and records the erasure); returns how many score items were removed. */
  forgetCustomer(customerId: string): Promise<{ removedScores: number }>;
}
