/**
 * The erasure job's Lambda (AWS): rewrites every stored object without the rows of every suppressed
 * customer and deletes earlier versions that hold them. Started by `DELETE /customers/{id}` through a
 * Step Functions execution (retries, history) with no customer id in its input.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients } from '#adapters/aws-clients.ts';
import { configFromEnv } from '#adapters/config.ts';
import { createErasureDeps } from '#adapters/erasure/erasure-deps.ts';
import { observability } from '#adapters/observability.ts';
import { eraseSuppressedCustomers, type SuppressedErasure } from '#app/erasure/erase-customer.ts';

export type ErasureJobHandler = (event: unknown, context?: Context) => Promise<SuppressedErasure>;

/** The job over explicit dependencies (the entry point below, tests). */
export function createErasureJobHandler(
  deps: ReturnType<typeof createErasureDeps>,
): () => Promise<SuppressedErasure> {
  return () => eraseSuppressedCustomers(deps);
}

// Built on first invocation (the environment is read then) and reused by warm containers.
let job: (() => Promise<SuppressedErasure>) | undefined;

export const handler: ErasureJobHandler = middy<unknown, SuppressedErasure>()
  .use(observability('cvm-erasure').middlewares())
  .handler(async () => {
    if (!job) {
      const config = configFromEnv();
      job = createErasureJobHandler(
        createErasureDeps(config, createAwsClients(config), {
          logger: observability('cvm-erasure').appLogger,
        }),
      );
    }
    return job();
  }) as unknown as ErasureJobHandler;
