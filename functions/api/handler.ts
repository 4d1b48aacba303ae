/**
 * Scores API Lambda: API Gateway REST (v1) proxy events in, JSON out. Routing is @middy/http-router over
 * the route table in `routes.ts`; every input is validated with its zod schema; every error is
 * `{"error", "message", "requestId"}` and never carries a stack trace.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route as MiddyRoute } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type AwsClients, createDynamoClients, createSfnClient } from '../../shared/adapters/aws-clients.ts';
import { configFromEnv, type RuntimeConfig } from '../../shared/adapters/config.ts';
import { createScoreReadModel, type ScoreReadModel } from '../../shared/adapters/dynamo/read-model.ts';
import { createSuppressionRepository } from '../../shared/adapters/dynamo/suppression-repository.ts';
import type { AdminOperations } from './admin.ts';
import { ApiError, type ErrorBody } from './errors.ts';
import { errorResult, parseInput, toProxyResult } from './http.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { allowedMethods, ROUTES, type Route, type RouteContext } from './routes.ts';

export type { AdminOperations } from './admin.ts';

export const API_VERSION = '1.0.0';

export interface ApiHandlerDeps {
  config: RuntimeConfig;
  clients: Pick<AwsClients, 'dynamo' | 'rawDynamo'>;
  admin: AdminOperations;
  /** Clock for the current-run pointer cache (tests). */
  now?: () => number;
  /** Replaces the read model built from `clients` (tests of failure paths). */
  readModel?: ScoreReadModel;
  logger?: Logger;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const requestIdOf = (event: APIGatewayProxyEvent, context: Context | undefined) =>
  event.requestContext?.requestId || context?.awsRequestId || randomUUID();

/**
 * In AWS the gateway authorizes admin routes with AWS_IAM, which fills in the caller's identity. The
 * handler checks that it is there as well, so a gateway misconfiguration cannot open erasure or
 * recalculation to API-key holders. The local server fills it in when the admin key matches.
 */
function hasIamIdentity(event: APIGatewayProxyEvent): boolean {
  const identity = event.requestContext?.identity;
  return Boolean(identity?.userArn || identity?.caller);
}

export function createApiHandler(deps: ApiHandlerDeps): ApiHandler {
  const logger = deps.logger ?? new Logger({ serviceName: 'cvm-api' });
  const readModel =
    deps.readModel ??
    createScoreReadModel(deps.clients, deps.config.table, deps.now ? { now: deps.now } : {});
  let openApi: unknown;
  const context: RouteContext = {
    readModel,
    admin: deps.admin,
    openApiDocument: () => {
      openApi ??= buildOpenApiDocument(ROUTES, { version: API_VERSION });
      return openApi;
    },
  };

  const toMiddyRoute = (route: Route): MiddyRoute<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
    method: route.method,
    path: route.path,
    handler: async (event: APIGatewayProxyEvent) => {
      if (route.access === 'admin' && !hasIamIdentity(event)) {
        throw new ApiError(403, 'forbidden', `${route.method} ${route.path} needs admin (IAM) credentials`);
      }
      const input = parseInput(route, event);
      const result = await route.handle(input, context);
      return toProxyResult(result, event);
    },
  });

  const router = httpRouterHandler<APIGatewayProxyEvent, APIGatewayProxyResult>({
    routes: ROUTES.map(toMiddyRoute),
    notFoundResponse: ({ method, path }) => {
      const allowed = allowedMethods(path);
      if (allowed.length > 0) {
        throw new ApiError(
          405,
          'method_not_allowed',
          `${method} is not supported on this path; use ${allowed.join(', ')}`,
          {
            Allow: allowed.join(', '),
          },
        );
      }
      throw new ApiError(
        404,
        'route_not_found',
        `No route ${method} ${path.slice(0, 200)}; see GET /openapi.json`,
      );
    },
  });

  const corsOrigins = (deps.config.corsOrigins ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');

  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpHeaderNormalizer())
    .before((request) => {
      // Path parameters are always taken from `event.path` by the router and decoded once (http.ts),
      // whatever the gateway's resource layout put here.
      request.event.pathParameters = null;
    })
    .use(
      corsOrigins.length > 0
        ? [
            httpCors({
              origins: corsOrigins,
              headers: 'content-type,x-api-key,if-none-match',
              exposeHeaders: 'etag',
              methods: 'GET,POST,DELETE,OPTIONS',
              maxAge: 600,
              // Preflights are answered here (no route), without credentials, as browsers send them.
              disableBeforePreflightResponse: false,
            }),
          ]
        : [],
    )
    .use({
      onError: (request) => {
        const error = request.error;
        const requestId = requestIdOf(request.event, request.context);
        if (error instanceof ApiError) {
          logger.debug('request refused', { status: error.statusCode, code: error.code, requestId });
          const body: ErrorBody = { error: error.code, message: error.message, requestId };
          request.response = errorResult(error.statusCode, body, error.headers);
          return;
        }
        logger.error('request failed', { requestId, error: error as Error });
        request.response = errorResult(500, {
          error: 'internal_error',
          message: `Internal error; quote request id ${requestId} when reporting it`,
          requestId,
        });
      },
    })
    .handler(router);

  return async (event, lambdaContext) => {
    const response = await handler(event, lambdaContext);
    response.headers = { ...response.headers, 'X-Request-Id': requestIdOf(event, lambdaContext) };
    return response;
  };
}

/** AWS wiring of the admin port: Step Functions for recalculation, the run store for erasure. */
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

let lambdaHandler: ApiHandler | undefined;

/** Lambda entry point; dependencies are built on the first invocation and reused while warm. */
export const handler: ApiHandler = (event, context) => {
  if (!lambdaHandler) {
    const config = configFromEnv();
    // Only the clients the API uses, so its bundle leaves the S3, Athena and EventBridge clients out.
    const clients = { ...createDynamoClients(config), sfn: createSfnClient(config) };
    lambdaHandler = createApiHandler({ config, clients, admin: createAwsAdminOperations(config, clients) });
  }
  return lambdaHandler(event, context);
};
