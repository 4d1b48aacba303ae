/**
 * `cvm serve [--port N]`: serves the scores API on 127.0.0.1 from the local stack, through the same
 * Lambda handler that runs behind API Gateway in AWS.
 */

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { createErasureDeps } from '#adapters/erasure/erasure-deps.ts';
import { eraseCustomer } from '#app/erasure/erase-customer.ts';
import { newRunId, ResumeRefusedError } from '#app/recalc/acquire-lock.ts';
import type { ModelChoice, ModelFamily } from '#domain/recalc-config.ts';
import { type AdminOperations, createApiHandler } from '#functions/api/app.ts';
import { ApiError } from '#functions/api/errors.ts';
import { type ApiServer, type ExtraRoute, startApiServer } from '../../local/api-server.ts';
import { cvmHome } from '../../local/home.ts';
import { RecalcLockedError, runLocalRecalculation } from '../../local/recalc.ts';
import { advertiseLocalStack, type LocalStack, useLocalStack } from '../../local/stack.ts';
import { requestTableCompaction } from '../../local/table-compaction.ts';
import { parseCommandLine, portOption } from '../command-line.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('serve');

export const DEFAULT_API_PORT = 8787;

/**
 * Admin operations of the local stack: the recalculation runs in-process (the same steps as the AWS
 * state machine) and erasure goes through the run store. `startRecalculation` answers once the run holds
 * the lock, like a Step Functions start; the rest of the run continues in the background.
 */
export function createLocalAdminOperations(
  stack: LocalStack,
  options: { onRecalcFinished?: (outcome: { runId: string; error?: Error }) => void } = {},
): AdminOperations {
  const finished =
    options.onRecalcFinished ??
    (({ runId, error }) => {
      if (error) console.error(`cvm serve: recalculation ${runId} failed: ${error.message}`);
      else console.log(`cvm serve: recalculation ${runId} published`);
    });
  return {
    startRecalculation(input) {
      const runId = input.resume ?? newRunId(new Date());
      return new Promise((resolve, reject) => {
        let locked = false;
        runLocalRecalculation(stack, {
          runId,
          ...(input.asOf ? { asOf: input.asOf } : {}),
          ...(input.model ? { model: input.model as ModelChoice } : {}),
          ...(input.resume ? { resume: input.resume } : {}),
          ...(input.family ? { family: input.family as ModelFamily } : {}),
          onProgress: (progress) => {
            if (progress.step === 'acquireLock' && progress.status === 'finished') {
              locked = true;
              resolve({ runId });
            }
          },
        }).then(
          () => finished({ runId }),
          (error: unknown) => {
            const failure = error instanceof Error ? error : new Error(String(error));
            if (locked) {
              finished({ runId, error: failure });
            } else if (failure instanceof RecalcLockedError || failure instanceof ResumeRefusedError) {
              reject(new ApiError(409, 'conflict', failure.message));
            } else {
              reject(failure);
            }
          },
        );
      });
    },
    async forgetCustomer(customerId, { force }) {
      // Locally the whole erasure runs before the answer: the stack is small and nothing times out.
      const home = stack.config.home;
      const deps = createErasureDeps(stack.config, stack.clients, {
        ...(home ? { purgeDeletedItems: () => requestTableCompaction(home) } : {}),
      });
      try {
        const erased = await eraseCustomer(deps, customerId, { force });
        return {
          removedScores: erased.deletedScores,
          storedFiles: {
            status: 'erased',
            objectsRewritten: erased.objectsRewritten,
            rowsRemoved: erased.rowsRemoved,
            versionsDeleted: erased.versionsDeleted,
          },
        };
      } finally {
        await deps.close();
      }
    },
  };
}

export interface LocalApiOptions {
  port?: number;
  apiKey?: string;
  adminKey?: string;
  corsOrigins?: string;
  extraRoutes?: ExtraRoute[];
}

/** Serves the API of a running local stack; used by `cvm serve` and `cvm up`. */
export function serveLocalApi(stack: LocalStack, options: LocalApiOptions = {}): Promise<ApiServer> {
  const config = {
    ...stack.config,
    ...(options.corsOrigins !== undefined ? { corsOrigins: options.corsOrigins } : {}),
  };
  const handler = createApiHandler({
    config,
    clients: stack.clients,
    admin: createLocalAdminOperations(stack),
  });
  return startApiServer({
    handler,
    port: options.port ?? DEFAULT_API_PORT,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.adminKey ? { adminKey: options.adminKey } : {}),
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
  });
}

/** Whether a live process (`cvm up`, another `cvm serve`) advertises the stack of `home`. */
function isServedByAnotherProcess(home: string): boolean {
  try {
    const { pid } = JSON.parse(readFileSync(join(resolve(home), 'stack.json'), 'utf8')) as { pid: number };
    process.kill(pid, 0); // throws when the process is gone
    return pid !== process.pid;
  } catch {
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine({
    command: 'cvm serve',
    usage: USAGE,
    argv,
    options: { port: { type: 'string' } },
    schema: z.object({ port: portOption(DEFAULT_API_PORT) }),
    positionals: { count: 0, what: 'no arguments' },
  });
  if (!parsed.ok) return parsed.exitCode;
  const { port } = parsed.options;

  const home = cvmHome();
  const borrowed = isServedByAnotherProcess(home);
  const stack = await useLocalStack(home);
  // A stack this process started is advertised, so `cvm ingest` or a second `cvm serve` use it instead
  // of failing on the stand-ins' files, which one process at a time can open.
  const unadvertise = borrowed ? () => {} : advertiseLocalStack(stack);
  let server: ApiServer;
  try {
    server = await serveLocalApi(stack, {
      port,
      ...(process.env.CVM_API_KEY ? { apiKey: process.env.CVM_API_KEY } : {}),
      ...(process.env.CVM_ADMIN_KEY ? { adminKey: process.env.CVM_ADMIN_KEY } : {}),
      ...(process.env.CVM_CORS_ORIGINS ? { corsOrigins: process.env.CVM_CORS_ORIGINS } : {}),
    });
  } catch (error) {
    unadvertise();
    await stack.stop();
    console.error(`cvm serve: ${(error as Error).message}`);
    return 1;
  }
  console.log(`Scores API on ${server.url} (OpenAPI: ${server.url}/openapi.json)`);
  if (!process.env.CVM_API_KEY)
    console.log('CVM_API_KEY is not set: read routes need no key on this machine.');
  if (!process.env.CVM_ADMIN_KEY) console.log('CVM_ADMIN_KEY is not set: admin routes are refused.');

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  unadvertise();
  await stack.stop();
  return 0;
}
