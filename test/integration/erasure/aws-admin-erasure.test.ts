/**
 * `DELETE /customers/{id}` as the AWS admin function does it: the records (suppression list, score
 * items of every run) are erased before the answer on the real table code (dynalite), and the erasure
 * job for stored files is started as a Step Functions execution whose input holds no customer id.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runtimeConfigSchema } from '#adapters/config.ts';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { UnknownCustomerError } from '#app/erasure/erase-customer.ts';
import { createAwsAdminOperations } from '#functions/api/admin.ts';
import { ApiError } from '#functions/api/errors.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { seedRun, syntheticRun } from '#test-support/seed-scores.ts';

const ERASURE_MACHINE = 'arn:aws:states:eu-west-1:1:stateMachine:cvm-erasure';
const EXECUTION = 'arn:aws:states:eu-west-1:1:execution:cvm-erasure:x';

describe('erasure through the AWS admin function', () => {
  let stack: LocalStack;
  const sfn = mockClient(SFNClient);

  beforeAll(async () => {
    stack = await startLocalStack();
    const target = { dynamo: stack.clients.dynamo, table: stack.config.table };
    const common = { customers: 5, segments: ['Champions'] };
    await seedRun(
      target,
      syntheticRun({ runId: 'run-a', asOf: '2026-10-01', startedAt: '2026-10-02T03:00:00.000Z', ...common }),
    );
    await seedRun(
      target,
      syntheticRun({ runId: 'run-b', asOf: '2026-10-08', startedAt: '2026-10-09T03:00:00.000Z', ...common }),
    );
  });
  afterEach(() => sfn.reset());
  afterAll(async () => {
    sfn.restore();
    await stack?.stop();
  });

  const admin = (config: Record<string, unknown> = { erasureStateMachineArn: ERASURE_MACHINE }) =>
    createAwsAdminOperations(runtimeConfigSchema.parse({ ...stack.config, ...config }), {
      dynamo: stack.clients.dynamo,
      sfn: new SFNClient({ region: 'eu-west-1' }),
    });

  it('deletes the scores of every run, suppresses the id and starts the job without the id', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    const outcome = await admin().forgetCustomer('C000002', { force: false });
    expect(outcome).toEqual({ removedScores: 2, storedFiles: { status: 'erasing', job: EXECUTION } });
    const suppression = createSuppressionRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    });
    expect(await suppression.isSuppressed('C000002')).toBe(true);
    expect(await suppression.hasScores('C000002')).toBe(false);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(ERASURE_MACHINE);
    expect(call.input).not.toContain('C000002');
  });

  it('refuses an id no run knows without changing anything, unless forced', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    const suppression = createSuppressionRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    });
    await expect(admin().forgetCustomer('C00000X', { force: false })).rejects.toBeInstanceOf(
      UnknownCustomerError,
    );
    expect(await suppression.isSuppressed('C00000X')).toBe(false);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const forced = await admin().forgetCustomer('C00000X', { force: true });
    expect(forced.removedScores).toBe(0);
    expect(await suppression.isSuppressed('C00000X')).toBe(true);
  });

  it('answers 503 naming the variable, erasing nothing, when no erasure job is configured', async () => {
    const suppression = createSuppressionRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    });
    const failed = admin({}).forgetCustomer('C000003', { force: false });
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toThrow(/CVM_ERASURE_STATE_MACHINE_ARN/);
    expect(await suppression.hasScores('C000003')).toBe(true);
  });
});
