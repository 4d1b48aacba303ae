/**
 * Local stand-in for API Gateway: a Node HTTP server on loopback that checks API keys the way the REST
 * API's usage plans and IAM authorization do, turns each request into a REST (v1) proxy event and calls
 * the same Lambda handler that runs in AWS.
 */

import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { CvmError } from '#domain/errors.ts';
import { matchRouteTemplate } from '#functions/api/route-table.ts';

/** What the handler receives (any function with the Lambda handler's shape). */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** A non-API page served next to the API, e.g. `cvm up`'s HTML report at `/report`. */
export interface ExtraRoute {
  /** Exact path, or a prefix when it ends in `/*`. */
  path: string;
  /** @default 'GET' */
  method?: string;
  /** Whether the API key is required as for read routes. @default true */
  requiresKey?: boolean;
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}

export interface ApiServerOptions {
  handler: ProxyHandler;
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** When set, read routes need `x-api-key: <apiKey>` (missing → 401, wrong → 403). */
  apiKey?: string;
  /** When set, admin routes need `x-api-key: <adminKey>`; when unset they are refused (403). */
  adminKey?: string;
  extraRoutes?: ExtraRoute[];
}

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** API Gateway's payload limit is 10 MB; the handler itself refuses bodies over 64 KB. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const LOCAL_ACCOUNT = '000000000000';

class GatewayRefusal extends CvmError {
  constructor(
    readonly statusCode: number,
    /** The API error code sent back (the API's own vocabulary). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const extraRoutes = (options.extraRoutes ?? []).map((route) => ({
    route,
    method: route.method ?? 'GET',
    prefix: route.path.endsWith('/*') ? route.path.slice(0, -1) : undefined,
  }));

  const server: Server = createServer((request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      // Only reached when writing the response itself failed; the handler's errors are responses.
      if (!response.headersSent) {
        sendJson(response, 500, {
          error: 'internal_error',
          message: 'The local API server failed to answer',
          requestId: randomUUID(),
        });
      } else {
        response.destroy(error as Error);
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  // Requests Node rejects before any handler runs (a request head over 16 KB, malformed HTTP) would
  // otherwise get a bare status line; answer them with the API's JSON error shape, as the gateway does.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      error: tooLarge ? 'request_too_large' : 'bad_request',
      message: tooLarge
        ? 'The request line and headers exceed 16 KB: shorten the URL (query values) or the headers'
        : 'The request is not valid HTTP',
      requestId: randomUUID(),
    });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  async function handleRequest(request: IncomingMessage, response: ServerResponse) {
    const requestId = randomUUID();
    const method = (request.method ?? 'GET').toUpperCase();
    const rawUrl = request.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const search = queryAt < 0 ? '' : rawUrl.slice(queryAt + 1);
    const headerKey = request.headers['x-api-key'];
    const presentedKey = Array.isArray(headerKey) ? headerKey[0] : headerKey;

    try {
      const extra = findExtraRoute(method, path);
      if (extra) {
        if (extra.requiresKey !== false) authorizeRead(presentedKey);
        await extra.handle(request, response);
        return;
      }

      // Browsers send CORS preflights without credentials; the handler answers them.
      const route = method === 'OPTIONS' ? undefined : matchRouteTemplate(method, path);
      let identity: Partial<APIGatewayProxyEvent['requestContext']['identity']> = {};
      if (route?.access === 'admin') {
        authorizeAdmin(presentedKey);
        identity = {
          userArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/cvm-local-admin`,
          caller: 'cvm-local-admin',
        };
      } else if (method !== 'OPTIONS' && route?.access !== 'public') {
        // Unknown routes need a key too, as on a REST API with API keys required on `{proxy+}`.
        authorizeRead(presentedKey);
        if (presentedKey !== undefined) identity = { apiKey: presentedKey };
      }

      const body = await readBody(request);
      const event = toProxyEvent({
        request,
        method,
        path,
        search,
        body,
        requestId,
        resource: route?.path ?? '/{proxy+}',
        identity,
      });
      const context = new LocalLambdaContext(requestId);
      const result = await options.handler(event, context);
      writeProxyResult(response, result);
    } catch (error) {
      if (error instanceof GatewayRefusal) {
        sendJson(response, error.statusCode, { error: error.code, message: error.message, requestId });
        return;
      }
      throw error;
    }
  }

  function findExtraRoute(method: string, path: string): ExtraRoute | undefined {
    for (const { route, method: routeMethod, prefix } of extraRoutes) {
      if (routeMethod !== method) continue;
      if (prefix === undefined ? path === route.path : path.startsWith(prefix)) return route;
    }
    return undefined;
  }

  function authorizeRead(presented: string | undefined) {
    if (options.apiKey === undefined) return;
    if (presented === undefined || presented === '') {
      throw new GatewayRefusal(
        401,
        'unauthorized',
        'header x-api-key: missing; send the API key (CVM_API_KEY)',
      );
    }
    const valid =
      sameSecret(presented, options.apiKey) ||
      (options.adminKey !== undefined && sameSecret(presented, options.adminKey));
    if (!valid) throw new GatewayRefusal(403, 'forbidden', 'header x-api-key: not a valid API key');
  }

  function authorizeAdmin(presented: string | undefined) {
    if (options.adminKey === undefined) {
      throw new GatewayRefusal(
        403,
        'forbidden',
        'Admin routes are disabled: set CVM_ADMIN_KEY before starting the server and send it in x-api-key',
      );
    }
    if (presented === undefined || presented === '') {
      throw new GatewayRefusal(
        401,
        'unauthorized',
        'header x-api-key: missing; admin routes need the admin key',
      );
    }
    if (!sameSecret(presented, options.adminKey)) {
      throw new GatewayRefusal(
        403,
        'forbidden',
        'header x-api-key: not the admin key; admin routes need CVM_ADMIN_KEY',
      );
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `Port ${options.port} on ${host} is already in use; choose another with --port N (or --port 0 for any free port)`,
          ),
        );
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  // HTTP/1.1 signals a body only with Content-Length or Transfer-Encoding (RFC 9112 §6.3); without
  // either (every plain GET) there is nothing to read, and the stream iteration would be pure overhead.
  const { 'content-length': length, 'transfer-encoding': encoding } = request.headers;
  if (encoding === undefined && (length === undefined || length === '0')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      throw new GatewayRefusal(
        413,
        'payload_too_large',
        `body: over the gateway limit of ${MAX_REQUEST_BYTES} bytes`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 0 ? null : Buffer.concat(chunks).toString('utf8');
}

function toProxyEvent(input: {
  request: IncomingMessage;
  method: string;
  path: string;
  search: string;
  body: string | null;
  requestId: string;
  resource: string;
  identity: Partial<APIGatewayProxyEvent['requestContext']['identity']>;
}): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = input.request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    headers[name] = value;
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  }

  // Like API Gateway: query values are decoded, the last of repeated names wins in the single-value map.
  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  if (input.search !== '') {
    queryStringParameters = {};
    multiValueQueryStringParameters = {};
    for (const [name, value] of new URLSearchParams(input.search)) {
      queryStringParameters[name] = value;
      const values = multiValueQueryStringParameters[name];
      if (values) values.push(value);
      else multiValueQueryStringParameters[name] = [value];
    }
  }

  const now = Date.now();
  return {
    resource: input.resource,
    // REST APIs deliver the path still percent-encoded; the handler decodes parameters once.
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: null,
    stageVariables: null,
    body: input.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      authorizer: null,
      httpMethod: input.method,
      path: input.path,
      protocol: `HTTP/${input.request.httpVersion}`,
      requestId: input.requestId,
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: input.resource,
      stage: 'local',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: input.request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: input.request.headers['user-agent'] ?? null,
        userArn: null,
        ...input.identity,
      },
    },
  };
}

/**
 * The Lambda context of one invocation. A class rather than an object literal of arrow functions, so a
 * request allocates one object instead of one closure per method.
 */
class LocalLambdaContext implements Context {
  callbackWaitsForEmptyEventLoop = false;
  readonly functionName = 'cvm-api-local';
  readonly functionVersion = '$LATEST';
  readonly invokedFunctionArn = `arn:aws:lambda:local:${LOCAL_ACCOUNT}:function:cvm-api-local`;
  readonly memoryLimitInMB = '512';
  readonly logGroupName = '/aws/lambda/cvm-api-local';
  readonly logStreamName = 'local';
  /** API Gateway's integration timeout. */
  private readonly deadline = Date.now() + 29_000;

  constructor(readonly awsRequestId: string) {}

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - Date.now());
  }
  done(): void {}
  fail(): void {}
  succeed(): void {}
}

function writeProxyResult(response: ServerResponse, result: APIGatewayProxyResult) {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  if (result.statusCode !== 304 && result.statusCode !== 204) headers['Content-Length'] = String(body.length);
  response.writeHead(result.statusCode, headers);
  response.end(result.statusCode === 304 || result.statusCode === 204 ? undefined : body);
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}
