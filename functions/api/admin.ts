/**
 * The API's admin port (start a recalculation, erase a customer) and its AWS wiring: a Step Functions
 * execution and the suppression repository.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AwsClients } from '#adapters/aws-clients.ts';
import type { RuntimeConfig } from '#adapters/config.ts';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { ApiError } from './errors.ts';

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

/** AWS wiring of the admin port: Step Functions for recalculation, the suppression repository for erasure. */
export function createAwsAdminOperations(
  config: RuntimeConfig,
  clients: Pick<AwsClients, 'dynamo' | 'sfn'>,
): AdminOperations {
  const suppression = createSuppressionRepository({ dynamo: clients.dynamo, table: config.table });
  return {
    async startRecalculation(input) {
      if (!config.stateMachineArn) {
        throw new ApiError(
          503,
          'not_configured',
          'Recalculation is not available: CVM_STATE_MACHINE_ARN is not set',
        );
      }
      const started = await clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: config.stateMachineArn,
          input: JSON.stringify({ ...input, requestedAt: new Date().toISOString(), requestedBy: 'api' }),
        }),
      );
      return started.executionArn ? { executionArn: started.executionArn } : {};
    },
    async forgetCustomer(customerId) {
      const { deletedScores } = await suppression.eraseCustomer(customerId, new Date());
      return { removedScores: deletedScores };
    },
  };
}
