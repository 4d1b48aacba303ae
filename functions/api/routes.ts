/**
 * The route table: one entry per operation with its access level, input schemas, response schema and
 * implementation. The handler routes with it (through @middy/http-router), the OpenAPI document is built
 * from it, and the local server reads the access levels from it to play the API gateway.
 */
import type { z } from 'zod';
import type { ScoreReadModel } from '../../shared/adapters/dynamo/read-model.ts';
import type { CustomerScore } from '../../shared/domain/score.ts';
import type { AdminOperations } from './admin.ts';
import { decodeIngestCursor, decodeSegmentCursor, encodeCursor } from './cursor.ts';
import { ApiError, quote } from './errors.ts';
import {
  batchGetRequestSchema,
  batchGetResponseSchema,
  customerHistorySchema,
  customerPathSchema,
  customerScoreSchema,
  forgetResultSchema,
  ingestPageSchema,
  ingestPathSchema,
  ingestReportSchema,
  noParams,
  openApiDocumentSchema,
  pageQuerySchema,
  recalculationStartedSchema,
  runPathSchema,
  runRecordSchema,
  segmentCustomersPageSchema,
  segmentListSchema,
  segmentPathSchema,
  startRunRequestSchema,
} from './schemas.ts';

/**
 * Who may call a route. In AWS the REST API enforces it (API keys + usage plans for `read`, AWS_IAM for
 * `admin`); locally the API server does.
 */
export type Access = 'public' | 'read' | 'admin';
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RouteContext {
  readModel: ScoreReadModel;
  admin: AdminOperations;
  /** Builds the OpenAPI document (routes cannot import the builder without a cycle). */
  openApiDocument(): unknown;
}

export interface RouteResult {
  status: number;
  body: unknown;
  /**
   * What the representation depends on besides its bytes, usually the run id: it prefixes the ETag so
   * caches can tell at a glance which run a response came from. Omit for responses without an ETag.
   */
  etagBasis?: string;
  cacheControl: string;
}

interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

export interface RouteSpec<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined> {
  method: HttpMethod;
  /** Path template in API Gateway syntax, e.g. `/customers/{customerId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  access: Access;
  params: P;
  query: Q;
  body: B;
  response: { status: number; name: string; schema: z.ZodType; description: string };
  /** Error statuses this route can answer besides the generic ones; documented in OpenAPI. */
  errors: number[];
  handle(
    input: RouteInput<z.output<P>, z.output<Q>, B extends z.ZodType ? z.output<B> : undefined>,
    context: RouteContext,
  ): Promise<RouteResult>;
}

/** A route with its type parameters erased, for the table. */
export interface Route extends Omit<RouteSpec<z.ZodObject, z.ZodObject, z.ZodType | undefined>, 'handle'> {
  handle(input: RouteInput<unknown, unknown, unknown>, context: RouteContext): Promise<RouteResult>;
}

function defineRoute<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}

/** Scores of the current run change only when a new run is published; the pointer cache is seconds. */
const CURRENT_RUN_CACHE = 'private, max-age=60';
/** A finished run never changes; a running one does. */
const RUN_CACHE = (status: string) => (status === 'running' ? 'private, no-cache' : 'private, max-age=3600');
const INGEST_CACHE = 'private, no-cache';
const NO_STORE = 'no-store';

async function requireCurrentRunId(context: RouteContext): Promise<string> {
  const runId = await context.readModel.currentRunId();
  if (runId === null) {
    throw new ApiError(
      404,
      'no_current_run',
      'No run has been published yet: ingest transactions and start a recalculation (POST /runs) first',
    );
  }
  return runId;
}

async function requireRun(context: RouteContext, runId: string, field: string) {
  const run = await context.readModel.getRun(runId);
  if (!run) throw new ApiError(404, 'not_found', `${field}: run ${quote(runId)} does not exist`);
  return run;
}

function segmentPath(scores: CustomerScore[]) {
  return scores.map(({ runId, asOf, segment }) => ({ runId, asOf, segment }));
}

export const ROUTES: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/customers/{customerId}',
    operationId: 'getCustomerScore',
    summary: "A customer's score in the current run",
    access: 'read',
    params: customerPathSchema,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'CustomerScore', schema: customerScoreSchema, description: 'The score' },
    errors: [404],
    async handle({ params }, context) {
      const runId = await requireCurrentRunId(context);
      const score = await context.readModel.getScore(params.customerId, runId);
      if (!score) {
        throw new ApiError(
          404,
          'not_found',
          `path.customerId: no score for customer ${quote(params.customerId)} in the current run ${quote(runId)}`,
        );
      }
      return { status: 200, body: score, etagBasis: runId, cacheControl: CURRENT_RUN_CACHE };
    },
  }),

  defineRoute({
    method: 'POST',
    path: '/customers/batch-get',
    operationId: 'batchGetCustomerScores',
    summary: 'Scores of up to 100 customers in the current run',
    access: 'read',
    params: noParams,
    query: noParams,
    body: batchGetRequestSchema,
    response: {
      status: 200,
      name: 'BatchGetResult',
      schema: batchGetResponseSchema,
      description: 'Found scores and the ids without one',
    },
    errors: [404, 413, 415],
    async handle({ body }, context) {
      const runId = await requireCurrentRunId(context);
      const found = await context.readModel.getScores(body.customerIds, runId);
      const seen = new Set<string>();
      const scores: CustomerScore[] = [];
      const notFound: string[] = [];
      for (const id of body.customerIds) {
        if (seen.has(id)) continue;
        seen.add(id);
        const score = found.get(id);
        if (score) scores.push(score);
        else notFound.push(id);
      }
      return {
        status: 200,
        body: { runId, found: scores, notFound },
        etagBasis: runId,
        cacheControl: NO_STORE,
      };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/customers/{customerId}/history',
    operationId: 'getCustomerHistory',
    summary: "A customer's scores over past runs and their segment path",
    access: 'read',
    params: customerPathSchema,
    query: noParams,
    body: undefined,
    response: {
      status: 200,
      name: 'CustomerHistory',
      schema: customerHistorySchema,
      description: 'Scores, oldest run first',
    },
    errors: [404],
    async handle({ params }, context) {
      const scores = await context.readModel.getCustomerHistory(params.customerId);
      if (scores.length === 0) {
        throw new ApiError(
          404,
          'not_found',
          `path.customerId: no scores for customer ${quote(params.customerId)}`,
        );
      }
      const latest = scores[scores.length - 1]!;
      return {
        status: 200,
        body: { customerId: params.customerId, scores, segmentPath: segmentPath(scores) },
        etagBasis: latest.runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  defineRoute({
    method: 'DELETE',
    path: '/customers/{customerId}',
    operationId: 'forgetCustomer',
    summary: "Erase a customer's scores (right to erasure); admin only",
    access: 'admin',
    params: customerPathSchema,
    query: noParams,
    body: undefined,
    response: {
      status: 200,
      name: 'ForgetResult',
      schema: forgetResultSchema,
      description: 'How many stored scores were removed',
    },
    errors: [],
    async handle({ params }, context) {
      const { removedScores } = await context.admin.forgetCustomer(params.customerId);
      return { status: 200, body: { customerId: params.customerId, removedScores }, cacheControl: NO_STORE };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/segments',
    operationId: 'listSegments',
    summary: 'Segment summaries of the current run',
    access: 'read',
    params: noParams,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'SegmentList', schema: segmentListSchema, description: 'Segments' },
    errors: [404],
    async handle(_input, context) {
      const runId = await requireCurrentRunId(context);
      const run = await requireRun(context, runId, 'current run');
      return {
        status: 200,
        body: { runId, asOf: run.asOf, currency: run.currency, segments: run.segments },
        etagBasis: runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/segments/{segment}/customers',
    operationId: 'listSegmentCustomers',
    summary: "A segment's customers, CLV descending, paginated",
    description:
      'Follow `nextCursor` until it is null to walk the whole segment. A cursor stays on the run the walk ' +
      'started on, so a publish during the walk causes neither repeats nor gaps.',
    access: 'read',
    params: segmentPathSchema,
    query: pageQuerySchema,
    body: undefined,
    response: {
      status: 200,
      name: 'SegmentCustomersPage',
      schema: segmentCustomersPageSchema,
      description: 'One page of customers',
    },
    errors: [404],
    async handle({ params, query }, context) {
      const cursor =
        query.cursor === undefined ? undefined : decodeSegmentCursor(query.cursor, params.segment);
      const runId = cursor?.runId ?? (await requireCurrentRunId(context));
      const run = await context.readModel.getRun(runId);
      if (!run) {
        throw new ApiError(
          400,
          'invalid_cursor',
          `query.cursor: the run ${quote(runId)} this cursor belongs to no longer exists; start again without a cursor`,
        );
      }
      if (!run.segments.some((summary) => summary.segment === params.segment)) {
        const known = run.segments.map((summary) => summary.segment);
        throw new ApiError(
          404,
          'not_found',
          `path.segment: ${quote(params.segment)} is not a segment of run ${quote(runId)}; known segments: ${known.map((s) => JSON.stringify(s)).join(', ') || 'none'}`,
        );
      }
      const page = await context.readModel.listSegmentMembers({
        runId,
        segment: params.segment,
        limit: query.limit,
        ...(cursor ? { after: cursor.after } : {}),
      });
      const nextCursor =
        page.nextPosition === null
          ? null
          : encodeCursor({ kind: 'segment', runId, segment: params.segment, after: page.nextPosition });
      return {
        status: 200,
        body: { runId, segment: params.segment, customers: page.items, nextCursor },
        etagBasis: runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/runs/current',
    operationId: 'getCurrentRun',
    summary: 'The current run: model, parameters, holdout accuracy, segments, migration matrix',
    access: 'read',
    params: noParams,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'RunRecord', schema: runRecordSchema, description: 'The run' },
    errors: [404],
    async handle(_input, context) {
      const runId = await requireCurrentRunId(context);
      const run = await requireRun(context, runId, 'current run');
      return { status: 200, body: run, etagBasis: runId, cacheControl: CURRENT_RUN_CACHE };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/runs/{runId}',
    operationId: 'getRun',
    summary: 'One run by id',
    access: 'read',
    params: runPathSchema,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'RunRecord', schema: runRecordSchema, description: 'The run' },
    errors: [404],
    async handle({ params }, context) {
      const run = await requireRun(context, params.runId, 'path.runId');
      return { status: 200, body: run, etagBasis: run.runId, cacheControl: RUN_CACHE(run.status) };
    },
  }),

  defineRoute({
    method: 'POST',
    path: '/runs',
    operationId: 'startRecalculation',
    summary: 'Start a value recalculation; admin only',
    access: 'admin',
    params: noParams,
    query: noParams,
    body: startRunRequestSchema,
    response: {
      status: 202,
      name: 'RecalculationStarted',
      schema: recalculationStartedSchema,
      description: 'The recalculation was started',
    },
    errors: [409, 413, 415, 503],
    async handle({ body }, context) {
      const started = await context.admin.startRecalculation(body);
      return { status: 202, body: started, cacheControl: NO_STORE };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/ingests',
    operationId: 'listIngests',
    summary: 'Ingest reports, newest first, paginated',
    access: 'read',
    params: noParams,
    query: pageQuerySchema,
    body: undefined,
    response: {
      status: 200,
      name: 'IngestPage',
      schema: ingestPageSchema,
      description: 'One page of reports',
    },
    errors: [],
    async handle({ query }, context) {
      const cursor = query.cursor === undefined ? undefined : decodeIngestCursor(query.cursor);
      const page = await context.readModel.listIngests({
        limit: query.limit,
        ...(cursor ? { after: cursor.after } : {}),
      });
      const nextCursor =
        page.nextPosition === null ? null : encodeCursor({ kind: 'ingests', after: page.nextPosition });
      return {
        status: 200,
        body: { ingests: page.items, nextCursor },
        cacheControl: INGEST_CACHE,
        etagBasis: 'ingests',
      };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/ingests/{ingestId}',
    operationId: 'getIngest',
    summary: 'One ingest report',
    access: 'read',
    params: ingestPathSchema,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'IngestReport', schema: ingestReportSchema, description: 'The report' },
    errors: [404],
    async handle({ params }, context) {
      const report = await context.readModel.getIngest(params.ingestId);
      if (!report) {
        throw new ApiError(
          404,
          'not_found',
          `path.ingestId: ingest ${quote(params.ingestId)} does not exist`,
        );
      }
      return { status: 200, body: report, cacheControl: INGEST_CACHE, etagBasis: 'ingest' };
    },
  }),

  defineRoute({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This API as an OpenAPI 3.1 document',
    access: 'public',
    params: noParams,
    query: noParams,
    body: undefined,
    response: {
      status: 200,
      name: 'OpenApiDocument',
      schema: openApiDocumentSchema,
      description: 'The OpenAPI document',
    },
    errors: [],
    async handle(_input, context) {
      return {
        status: 200,
        body: context.openApiDocument(),
        etagBasis: 'openapi',
        cacheControl: 'public, max-age=300',
      };
    },
  }),
];

/** Method and path template of every route with its access level, e.g. for the CDK app's resources. */
export const ROUTE_ACCESS = ROUTES.map(({ method, path, access }) => ({ method, path, access }));

/** Each route's path template split into segments once, `undefined` where a segment is a `{param}`. */
const ROUTE_TEMPLATES = ROUTES.map((route) => ({
  route,
  segments: splitPath(route.path).map((part) => (part.startsWith('{') ? undefined : part)),
}));

/**
 * Finds the route a request path matches, as API Gateway would (exact segments, `{param}` = one segment).
 * Static segments win over parameters, so `/customers/batch-get` is not read as a customer id.
 */
export function matchRouteTemplate(method: string, path: string): Route | undefined {
  const segments = splitPath(path);
  let best: { route: Route; score: number } | undefined;
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
