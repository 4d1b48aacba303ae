/**
 * The scores API as a function of its dependencies: API Gateway REST (v1) proxy events in, JSON out.
 * Routing is @middy/http-router over the route table (`route-table.ts` + `routes.ts`); every input is
 * validated with its zod schema; every error is `{"error", "message", "requestId"}` and never carries a
 * stack trace. The Lambda entry points (handler.ts) and the local server wire it.
 */
import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route as MiddyRoute } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { AwsClients } from '#adapters/aws-clients.ts';
import type { RuntimeConfig } from '#adapters/config.ts';
import { createScoreReadModel, type ScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { observability } from '#adapters/observability.ts';
import type { AppLogger } from '#app/ports/logger.ts';
import type { AdminOperations } from './admin.ts';
import { ApiError, type ErrorBody } from './errors.ts';
import { errorResult, parseInput, toProxyResult } from './http.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { type ApiFunctionKind, allowedMethods, functionServing } from './route-table.ts';
import { ROUTES, type Route, type RouteContext } from './routes.ts';

export type { AdminOperations } from './admin.ts';

export const API_VERSION = '1.0.0';

export interface ApiHandlerDeps {
  config: RuntimeConfig;
  clients: Pick<AwsClients, 'dynamo' | 'rawDynamo'>;
  /** Admin operations; required unless the handler serves read routes only. */
  admin?: AdminOperations;
  /**
   * Which routes this handler serves: `read` (public and read routes), `admin`, or `all` (the local
   * server's one in-process handler). Routes of the other kind are refused with 403, so a gateway
   * integration pointing at the wrong function cannot borrow its permissions. @default 'all'
   */
  serves?: ApiFunctionKind | 'all';
  /** Clock for the current-run pointer cache (tests). */
  now?: () => number;
  /** Replaces the read model built from `clients` (tests of failure paths). */
  readModel?: ScoreReadModel;
  /** @default the `cvm-api` Powertools logger */
  logger?: AppLogger;
  /** Run before everything else, e.g. the Lambda entry's observability middlewares. @default [] */
  middlewares?: MiddlewareObj[];
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

/** Stands in for the admin port in a read-only handler; never reached, admin routes are refused first. */
const NO_ADMIN: AdminOperations = {
  startRecalculation: () => Promise.reject(new Error('this handler serves no admin routes')),
  forgetCustomer: () => Promise.reject(new Error('this handler serves no admin routes')),
};

export function createApiHandler(deps: ApiHandlerDeps): ApiHandler {
  const logger = deps.logger ?? observability('cvm-api').appLogger;
  const serves = deps.serves ?? 'all';
  if (serves !== 'read' && !deps.admin) {
    throw new Error(`an API handler serving ${serves} routes needs the admin operations`);
  }
  const servesRoute = (route: Route) => serves === 'all' || functionServing(route.access) === serves;
  const readModel =
    deps.readModel ??
    createScoreReadModel(deps.clients, deps.config.table, deps.now ? { now: deps.now } : {});
  let openApi: unknown;
  const context: RouteContext = {
    readModel,
    admin: deps.admin ?? NO_ADMIN,
    openApiDocument: () => {
      openApi ??= buildOpenApiDocument(ROUTES, { version: API_VERSION });
      return openApi;
    },
  };

  const toMiddyRoute = (route: Route): MiddyRoute<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
    method: route.method,
    path: route.path,
    handler: async (event: APIGatewayProxyEvent) => {
      if (!servesRoute(route)) {
        throw new ApiError(
          403,
          'forbidden',
          `${route.method} ${route.path} is not served by the API's ${serves} function`,
        );
      }
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
    .use(deps.middlewares ?? [])
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
