/**
 * The route table decides which API function serves a route: the read handler answers public and read
 * routes only, the admin handler admin routes only, and the route implementations match the table.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createDynamoClients } from '#adapters/aws-clients.ts';
import { type RuntimeConfig, runtimeConfigSchema } from '#adapters/config.ts';
import type { ScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { silentLogger } from '#app/ports/logger.ts';
import type { AdminOperations } from '#functions/api/admin.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { functionServing, matchRouteTemplate, ROUTE_TABLE } from '#functions/api/route-table.ts';
import { ROUTES } from '#functions/api/routes.ts';

const config: RuntimeConfig = runtimeConfigSchema.parse({
  bucket: 'split-bucket',
  table: 'split-table',
  dynamoEndpoint: 'http://127.0.0.1:9',
  localCredentials: true,
});
// Never called: every test supplies the read model, so no request leaves the process.
const clients = createDynamoClients(config);

/** A read model with no published run. */
const emptyReadModel: ScoreReadModel = {
  currentRunId: async () => null,
  getScore: async () => null,
  getScores: async () => new Map(),
  getCustomerHistory: async () => [],
  getRun: async () => null,
  getIngest: async () => null,
  listSegmentMembers: async () => ({ items: [], nextPosition: null }),
  listAudienceMembers: async () => ({ items: [], nextPosition: null }),
  listRunListMembers: async () => ({ items: [], nextPosition: null }),
  listIngests: async () => ({ items: [], nextPosition: null }),
};

function recordingAdmin() {
  const calls: string[] = [];
  const admin: AdminOperations = {
    startRecalculation: async () => {
      calls.push('startRecalculation');
      return { executionArn: 'arn:aws:states:eu-west-1:000000000000:execution:cvm:x' };
    },
    forgetCustomer: async (customerId) => {
      calls.push(`forgetCustomer ${customerId}`);
      return { removedScores: 0, storedFiles: { status: 'erasing' } };
    },
  };
  return { admin, calls };
}

const IAM_IDENTITY = { userArn: 'arn:aws:iam::000000000000:user/admin', caller: 'admin' };

function event(method: string, path: string, identity: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: path,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: method === 'POST' ? '{}' : null,
    isBase64Encoded: false,
    requestContext: { requestId: `req-${method}-${path}`, identity },
  } as unknown as APIGatewayProxyEvent;
}
const context = { awsRequestId: 'split-test' } as Context;

describe('route table', () => {
  it('has one implementation per operation, in table order', () => {
    expect(
      ROUTES.map(({ method, path, access, operationId }) => ({ method, path, access, operationId })),
    ).toEqual(ROUTE_TABLE);
    expect(new Set(ROUTE_TABLE.map((route) => route.operationId)).size).toBe(ROUTE_TABLE.length);
    expect(new Set(ROUTE_TABLE.map((route) => `${route.method} ${route.path}`)).size).toBe(
      ROUTE_TABLE.length,
    );
  });

  it('matches request paths to table entries as the gateway does', () => {
    expect(matchRouteTemplate('POST', '/customers/batch-get')?.operationId).toBe('batchGetCustomerScores');
    expect(matchRouteTemplate('GET', '/customers/C%20001')?.operationId).toBe('getCustomerScore');
    expect(matchRouteTemplate('DELETE', '/customers/C001')?.access).toBe('admin');
    expect(matchRouteTemplate('GET', '/openapi.json')?.access).toBe('public');
    expect(matchRouteTemplate('PUT', '/customers/C001')).toBeUndefined();
  });

  it('sends public and read routes to the read function, admin routes to the admin function', () => {
    expect(functionServing('public')).toBe('read');
    expect(functionServing('read')).toBe('read');
    expect(functionServing('admin')).toBe('admin');
  });
});

describe('read and admin handlers', () => {
  const readRoutes = ROUTE_TABLE.filter((route) => functionServing(route.access) === 'read');
  const adminRoutes = ROUTE_TABLE.filter((route) => functionServing(route.access) === 'admin');
  const concrete = (path: string) => path.replace(/\{\w+\}/g, 'C001');

  it('the read handler answers public and read routes and refuses admin routes, even with IAM', async () => {
    const handler = createApiHandler({
      config,
      clients,
      serves: 'read',
      readModel: emptyReadModel,
      logger: silentLogger,
    });
    const openApi = await handler(event('GET', '/openapi.json'), context);
    expect(openApi.statusCode).toBe(200);
    for (const route of readRoutes) {
      const response = await handler(event(route.method, concrete(route.path)), context);
      expect(response.statusCode, `${route.method} ${route.path}`).not.toBe(403);
      expect(response.statusCode, `${route.method} ${route.path}`).toBeLessThan(500);
    }
    for (const route of adminRoutes) {
      const response = await handler(event(route.method, concrete(route.path), IAM_IDENTITY), context);
      expect(response.statusCode, `${route.method} ${route.path}`).toBe(403);
      expect(JSON.parse(response.body).message).toContain('not served by the API');
    }
  });

  it('the admin handler serves admin routes and refuses public and read routes', async () => {
    const { admin, calls } = recordingAdmin();
    const handler = createApiHandler({
      config,
      clients,
      serves: 'admin',
      admin,
      readModel: emptyReadModel,
      logger: silentLogger,
    });
    const started = await handler(event('POST', '/runs', IAM_IDENTITY), context);
    expect(started.statusCode).toBe(202);
    const forgotten = await handler(event('DELETE', '/customers/C001', IAM_IDENTITY), context);
    expect(forgotten.statusCode).toBe(200);
    expect(calls).toEqual(['startRecalculation', 'forgetCustomer C001']);
    for (const route of readRoutes) {
      const response = await handler(event(route.method, concrete(route.path), IAM_IDENTITY), context);
      expect(response.statusCode, `${route.method} ${route.path}`).toBe(403);
    }
  });

  it('refuses to build a handler for admin routes without the admin operations', () => {
    expect(() => createApiHandler({ config, clients, serves: 'admin' })).toThrow(/admin operations/);
    expect(() => createApiHandler({ config, clients })).toThrow(/admin operations/);
  });
});
