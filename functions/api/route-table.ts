/**
 * The API's route table without implementations: method, path, access level and operation id of every
 * route. The handler's router (routes.ts), the CDK API construct and the local API server all read it,
 * so the three cannot drift. Pure data: no zod, no AWS SDK, safe to import from the CDK app.
 */

/**
 * Who may call a route. In AWS the REST API enforces it (`public`: no authorization, `read`: API key
 * and usage plan, `admin`: AWS_IAM); locally the API server does.
 */
export type Access = 'public' | 'read' | 'admin';
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * The two API functions in AWS: `read` serves public and read routes with read-only table access,
 * `admin` serves admin routes with the write grants and the right to start a recalculation.
 */
export type ApiFunctionKind = 'read' | 'admin';

export interface RouteEntry {
  readonly method: HttpMethod;
  /** Path template in API Gateway syntax, e.g. `/customers/{customerId}`. */
  readonly path: string;
  readonly access: Access;
  readonly operationId: string;
}

export const ROUTE_TABLE = [
  { method: 'GET', path: '/customers/{customerId}', access: 'read', operationId: 'getCustomerScore' },
  { method: 'POST', path: '/customers/batch-get', access: 'read', operationId: 'batchGetCustomerScores' },
  {
    method: 'GET',
    path: '/customers/{customerId}/history',
    access: 'read',
    operationId: 'getCustomerHistory',
  },
  { method: 'DELETE', path: '/customers/{customerId}', access: 'admin', operationId: 'forgetCustomer' },
  { method: 'GET', path: '/segments', access: 'read', operationId: 'listSegments' },
  {
    method: 'GET',
    path: '/segments/{segment}/customers',
    access: 'read',
    operationId: 'listSegmentCustomers',
  },
  { method: 'GET', path: '/playbook', access: 'read', operationId: 'getPlaybook' },
  {
    method: 'GET',
    path: '/playbook/high-value-detractors',
    access: 'read',
    operationId: 'listHighValueDetractors',
  },
  {
    method: 'GET',
    path: '/playbook/{action}/customers',
    access: 'read',
    operationId: 'listPlaybookCustomers',
  },
  { method: 'GET', path: '/runs/current', access: 'read', operationId: 'getCurrentRun' },
  { method: 'GET', path: '/runs/{runId}', access: 'read', operationId: 'getRun' },
  { method: 'POST', path: '/runs', access: 'admin', operationId: 'startRecalculation' },
  { method: 'GET', path: '/ingests', access: 'read', operationId: 'listIngests' },
  { method: 'GET', path: '/ingests/{ingestId}', access: 'read', operationId: 'getIngest' },
  { method: 'GET', path: '/openapi.json', access: 'public', operationId: 'getOpenApiDocument' },
] as const satisfies readonly RouteEntry[];

export type OperationId = (typeof ROUTE_TABLE)[number]['operationId'];

/** The function that serves routes of an access level. */
export function functionServing(access: Access): ApiFunctionKind {
  return access === 'admin' ? 'admin' : 'read';
}

/** Each route's path template split into segments once, `undefined` where a segment is a `{param}`. */
const ROUTE_TEMPLATES = ROUTE_TABLE.map((route) => ({
  route: route as RouteEntry,
  segments: splitPath(route.path).map((part) => (part.startsWith('{') ? undefined : part)),
}));

/**
 * Finds the route a request path matches, as API Gateway would (exact segments, `{param}` = one segment).
 * Static segments win over parameters, so `/customers/batch-get` is not read as a customer id.
 */
export function matchRouteTemplate(method: string, path: string): RouteEntry | undefined {
  const segments = splitPath(path);
  let best: { route: RouteEntry; score: number } | undefined;
  for (const { route, segments: template } of ROUTE_TEMPLATES) {
    if (route.method !== method || template.length !== segments.length) continue;
    let score = 0;
    let matches = true;
    for (let i = 0; i < template.length; i++) {
      const part = template[i];
      if (part === undefined) continue;
      if (part !== segments[i]) {
        matches = false;
        break;
      }
      score++;
    }
    if (matches && (!best || score > best.score)) best = { route, score };
  }
  return best?.route;
}

/** Methods a path supports, for 405 answers. */
export function allowedMethods(path: string): HttpMethod[] {
  const methods: HttpMethod[] = ['GET', 'POST', 'DELETE'];
  return methods.filter((method) => matchRouteTemplate(method, path) !== undefined);
}

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}
