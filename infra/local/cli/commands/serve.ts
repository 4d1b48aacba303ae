/**
 * `cvm serve [--port N]`: serves the scores API on 127.0.0.1 from the local stack, through the same
 * Lambda handler that runs behind API Gateway in AWS.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError } from '../../../../functions/api/errors.ts';
import { type AdminOperations, createApiHandler } from '../../../../functions/api/handler.ts';
import { createSuppressionRepository } from '../../../../shared/adapters/dynamo/suppression-repository.ts';
import { newRunId } from '../../../../shared/app/recalc/acquire-lock.ts';
import type { ModelChoice } from '../../../../shared/domain/recalc-config.ts';
import { type ApiServer, type ExtraRoute, startApiServer } from '../../api-server.ts';
import { RecalcLockedError, runLocalRecalculation } from '../../recalc.ts';
import { advertiseLocalStack, type LocalStack, useLocalStack } from '../../stack.ts';

const USAGE = `Usage: cvm serve [--port N]

Serves the scores API on http://127.0.0.1:<port> (default 8787; 0 = any free port).
  CVM_API_KEY     when set, read routes need the header x-api-key: <CVM_API_KEY>
  CVM_ADMIN_KEY   when set, admin routes (POST /runs, DELETE /customers/{id}) need
                  x-api-key: <CVM_ADMIN_KEY>; when unset they are refused
  CVM_CORS_ORIGINS  comma-separated origins allowed by CORS
State lives in $CVM_HOME (default ./.cvm). Stop with Ctrl+C.`;

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
  const suppression = createSuppressionRepository({
    dynamo: stack.clients.dynamo,
    table: stack.config.table,
  });
  const finished =
    options.onRecalcFinished ??
    (({ runId, error }) => {
      if (error) console.error(`cvm serve: recalculation ${runId} failed: ${error.message}`);
      else console.log(`cvm serve: recalculation ${runId} published`);
    });
  return {
    startRecalculation(input) {
      const runId = newRunId(new Date());
      return new Promise((resolve, reject) => {
        let locked = false;
        runLocalRecalculation(stack, {
          runId,
          ...(input.asOf ? { asOf: input.asOf } : {}),
          ...(input.model ? { model: input.model as ModelChoice } : {}),
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
            } else if (failure instanceof RecalcLockedError) {
              reject(new ApiError(409, 'conflict', failure.message));
            } else {
              reject(failure);
            }
          },
        );
      });
    },
    async forgetCustomer(customerId) {
      const { deletedScores } = await suppression.eraseCustomer(customerId, new Date());
      return { removedScores: deletedScores };
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

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_API_PORT;
  if (!/^\d+$/.test(text) || Number(text) > 65_535) {
    throw new Error(`--port: expected a port number 0–65535, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

export async function run(argv: string[]): Promise<number> {
  let port: number;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    port = parsePort(values.port);
  } catch (error) {
    console.error(`cvm serve: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const home = process.env.CVM_HOME || './.cvm';
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
