/**
 * The API's admin port (start a recalculation, erase a customer) and its AWS wiring: Step Functions
 * executions and the erasure service.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AwsClients } from '#adapters/aws-clients.ts';
import type { RuntimeConfig } from '#adapters/config.ts';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { eraseCustomerRecords } from '#app/erasure/erase-customer.ts';
import { ApiError } from './errors.ts';

/** What erasing a customer did. */
export interface ForgetOutcome {
  removedScores: number;
  storedFiles:
    | { status: 'erased'; objectsRewritten: number; rowsRemoved: number; versionsDeleted: number }
    | { status: 'erasing'; job?: string };
}

/**
 * Admin operations the API triggers but does not implement: they are injected, so the same handler
 * starts a Step Functions execution in AWS and an in-process recalculation locally.
 */
export interface AdminOperations {
  startRecalculation(input: {
    asOf?: string;
    model?: string;
    /** A failed run to resume (the route checked it exists and did not publish). */
    resume?: string;
    family?: string;
  }): Promise<{ runId?: string; executionArn?: string }>;
  /**
   * Erases a customer (suppression, scores of every run, stored files). Throws `UnknownCustomerError`
   * for an id no run scored and that is not suppressed, unless `force`.
   */
  forgetCustomer(customerId: string, options: { force: boolean }): Promise<ForgetOutcome>;
}

/**
 * AWS wiring of the admin port: Step Functions for recalculation; for erasure, the records (suppression
 * list, score items) are erased before the answer and the erasure job is started for the stored files.
 * Rewriting Parquet needs DuckDB (70 MB) and can take minutes for a large bucket, longer than API
 * Gateway waits (29 s), so it runs in its own function; its input carries no customer id (the job
 * erases every suppressed customer by hash), so no execution history holds one.
 */
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
    async forgetCustomer(customerId, { force }) {
      if (!config.erasureStateMachineArn) {
        throw new ApiError(
          503,
          'not_configured',
          'Erasure is not available: CVM_ERASURE_STATE_MACHINE_ARN is not set',
        );
      }
      const { deletedScores } = await eraseCustomerRecords(
        { suppression, hasScores: (id) => suppression.hasScores(id) },
        customerId,
        { force },
      );
      const started = await clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: config.erasureStateMachineArn,
          input: JSON.stringify({ requestedAt: new Date().toISOString(), requestedBy: 'api' }),
        }),
      );
      return {
        removedScores: deletedScores,
        storedFiles: { status: 'erasing', ...(started.executionArn ? { job: started.executionArn } : {}) },
      };
    },
  };
}
