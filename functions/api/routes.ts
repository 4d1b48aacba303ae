/**
 * What each route of the table does: its input schemas, response schema and implementation. The handler
 * routes with these (through @middy/http-router) and the OpenAPI document is built from them; which
 * routes exist and who may call them comes from route-table.ts.
 */
import type { z } from 'zod';
import type { Page, ScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { UnknownCustomerError } from '#app/erasure/erase-customer.ts';
import { HIGH_VALUE_DETRACTORS_LIST } from '#domain/economics/satisfaction.ts';
import { indexShardsOf, type RunRecord } from '#domain/run.ts';
import type { CustomerScore } from '#domain/score.ts';
import type { AdminOperations } from './admin.ts';
import {
  decodeIngestCursor,
  decodeListCursor,
  decodePlaybookCursor,
  decodeSegmentCursor,
  encodeCursor,
} from './cursor.ts';
import { ApiError, quote } from './errors.ts';
import { type OperationId, ROUTE_TABLE, type RouteEntry } from './route-table.ts';
import {
  actionPathSchema,
  batchGetRequestSchema,
  batchGetResponseSchema,
  customerHistorySchema,
  customerPathSchema,
  customerScoreSchema,
  forgetQuerySchema,
  forgetResultSchema,
  ingestPageSchema,
  ingestPathSchema,
  ingestReportSchema,
  noParams,
  openApiDocumentSchema,
  pageQuerySchema,
  playbookCustomersPageSchema,
  playbookSchema,
  recalculationStartedSchema,
  runListPageSchema,
  runPathSchema,
  runRecordSchema,
  segmentCustomersPageSchema,
  segmentListSchema,
  segmentPathSchema,
  startRunRequestSchema,
} from './schemas.ts';

export type { Access, HttpMethod } from './route-table.ts';

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

/** What a route does; the table entry with the same operation id says where it lives and who may call it. */
export interface RouteSpec<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined> {
  summary: string;
  description?: string;
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

/** An implementation with its type parameters erased, for the table. */
interface RouteImplementation
  extends Omit<RouteSpec<z.ZodObject, z.ZodObject, z.ZodType | undefined>, 'handle'> {
  handle(input: RouteInput<unknown, unknown, unknown>, context: RouteContext): Promise<RouteResult>;
}

/** A route of the table with its implementation. */
export interface Route extends RouteImplementation, RouteEntry {
  readonly operationId: OperationId;
}

function implement<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType | undefined>(
  spec: RouteSpec<P, Q, B>,
): RouteImplementation {
  return spec as unknown as RouteImplementation;
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

/**
 * The run a paged walk (segment or audience pages) reads: the cursor's run, else the current one.
 * A cursor whose run has expired cannot continue: the walk starts again.
 */
async function runOfWalk(context: RouteContext, cursorRunId: string | undefined) {
  const runId = cursorRunId ?? (await requireCurrentRunId(context));
  const run = await context.readModel.getRun(runId);
  if (!run) {
    throw new ApiError(
      400,
      'invalid_cursor',
      `query.cursor: the run ${quote(runId)} this cursor belongs to no longer exists; start again without a cursor`,
    );
  }
  return { runId, run };
}

/**
 * One page of a walk over a run's index (a segment, an audience, a run list): the run the cursor
 * started on (else the current one), the page below the cursor's position, and the cursor of the next
 * page (null on the last). `read` checks that the run has what the path names before it reads.
 */
async function walkRunPage(
  context: RouteContext,
  cursor: { runId: string; after: string } | undefined,
  read: (runId: string, run: RunRecord, after: { after?: string }) => Promise<Page<CustomerScore>>,
  cursorAfter: (runId: string, after: string) => string,
) {
  const { runId, run } = await runOfWalk(context, cursor?.runId);
  const page = await read(runId, run, cursor ? { after: cursor.after } : {});
  const nextCursor = page.nextPosition === null ? null : cursorAfter(runId, page.nextPosition);
  return { runId, run, customers: page.items, nextCursor };
}

/** A path value (segment, action) the run does not have, with the ones it has. */
function notInRun(field: 'segment' | 'action', value: string, runId: string, known: string[]): ApiError {
  const article = field === 'action' ? 'an' : 'a';
  return new ApiError(
    404,
    'not_found',
    `path.${field}: ${quote(value)} is not ${article} ${field} of run ${quote(runId)}; known ${field}s: ${known.map((k) => JSON.stringify(k)).join(', ') || 'none'}`,
  );
}

/**
 * A customer the current run has no score for because their summary part failed (the run published
 * within its tolerated share of failed parts): their latest published score, marked stale. Customers
 * the run simply does not have (unknown, erased) stay 404.
 */
async function staleScore(
  context: RouteContext,
  customerId: string,
  runId: string,
): Promise<CustomerScore | null> {
  const run = await context.readModel.getRun(runId);
  if (!run?.failedParts?.length) return null;
  const latest = (await context.readModel.getCustomerHistory(customerId)).at(-1);
  return latest ? { ...latest, stale: true } : null;
}

function segmentPath(scores: CustomerScore[]) {
  return scores.map(({ runId, asOf, segment }) => ({ runId, asOf, segment }));
}

const IMPLEMENTATIONS: Record<OperationId, RouteImplementation> = {
  getCustomerScore: implement({
    summary: "A customer's score in the current run",
    params: customerPathSchema,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'CustomerScore', schema: customerScoreSchema, description: 'The score' },
    errors: [404],
    async handle({ params }, context) {
      const runId = await requireCurrentRunId(context);
      const score =
        (await context.readModel.getScore(params.customerId, runId)) ??
        (await staleScore(context, params.customerId, runId));
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

  batchGetCustomerScores: implement({
    summary: 'Scores of up to 100 customers in the current run',
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

  getCustomerHistory: implement({
    summary: "A customer's scores over past published runs and their segment path",
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

  forgetCustomer: implement({
    summary:
      'Erase a customer (right to erasure): suppress the id, delete its scores of every run and ' +
      "rewrite every stored file without the customer's rows; admin only. An id that no run scored " +
      'is answered with 404 and changes nothing unless force=true.',
    params: customerPathSchema,
    query: forgetQuerySchema,
    body: undefined,
    response: {
      status: 200,
      name: 'ForgetResult',
      schema: forgetResultSchema,
      description: 'How many stored scores were removed, and the erasure of stored files',
    },
    errors: [404],
    async handle({ params, query }, context) {
      try {
        const outcome = await context.admin.forgetCustomer(params.customerId, {
          force: query.force === 'true',
        });
        return { status: 200, body: { customerId: params.customerId, ...outcome }, cacheControl: NO_STORE };
      } catch (error) {
        if (error instanceof UnknownCustomerError) {
          throw new ApiError(
            404,
            'not_found',
            `path.customerId: no customer ${quote(params.customerId)} in any run: nothing was erased. Check the ` +
              'id (ids are case-sensitive); to erase it anyway (e.g. its data was ingested after the last run), ' +
              'add ?force=true',
          );
        }
        throw error;
      }
    },
  }),

  listSegments: implement({
    summary: 'Segment summaries of the current run',
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

  listSegmentCustomers: implement({
    summary: "A segment's customers, CLV descending, paginated",
    description:
      'Follow `nextCursor` until it is null to walk the whole segment. A cursor stays on the run the walk ' +
      'started on, so a publish during the walk causes neither repeats nor gaps.',
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
      const { runId, customers, nextCursor } = await walkRunPage(
        context,
        cursor,
        (runId, run, after) => {
          const known = run.segments.map((summary) => summary.segment);
          if (!known.includes(params.segment)) throw notInRun('segment', params.segment, runId, known);
          return context.readModel.listSegmentMembers({
            runId,
            segment: params.segment,
            limit: query.limit,
            ...after,
            indexShards: indexShardsOf(run),
          });
        },
        (runId, after) => encodeCursor({ kind: 'segment', runId, segment: params.segment, after }),
      );
      return {
        status: 200,
        body: { runId, segment: params.segment, customers, nextCursor },
        etagBasis: runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  getPlaybook: implement({
    summary: 'The value playbook of the current run',
    description:
      'The ladder funnel (customers and value share per rung and off-ladder state), every action with its ' +
      'audience size, summed value at stake, cost per customer and backtest on the holdout split, the ' +
      'movement along the ladder since the previous run, and what became of the previous run’s audiences.',
    params: noParams,
    query: noParams,
    body: undefined,
    response: { status: 200, name: 'Playbook', schema: playbookSchema, description: 'The playbook' },
    errors: [404],
    async handle(_input, context) {
      const runId = await requireCurrentRunId(context);
      const run = await requireRun(context, runId, 'current run');
      if (!run.playbook) {
        throw new ApiError(
          404,
          'not_found',
          `run ${quote(runId)} was published before the value playbook existed; start a recalculation (POST /runs)`,
        );
      }
      return {
        status: 200,
        body: { runId, asOf: run.asOf, currency: run.currency, ...run.playbook },
        etagBasis: runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  listPlaybookCustomers: implement({
    summary: "An action's audience, value at stake descending, paginated",
    description:
      'Same conventions as segment pages: follow `nextCursor` until it is null; a cursor stays on the run ' +
      'the walk started on. `let-go` lists the customers no action pays off for.',
    params: actionPathSchema,
    query: pageQuerySchema,
    body: undefined,
    response: {
      status: 200,
      name: 'PlaybookCustomersPage',
      schema: playbookCustomersPageSchema,
      description: 'One page of customers',
    },
    errors: [404],
    async handle({ params, query }, context) {
      const cursor =
        query.cursor === undefined ? undefined : decodePlaybookCursor(query.cursor, params.action);
      const { runId, customers, nextCursor } = await walkRunPage(
        context,
        cursor,
        (runId, run, after) => {
          const known = run.playbook?.actions.map((action) => action.action) ?? [];
          if (!known.includes(params.action)) throw notInRun('action', params.action, runId, known);
          return context.readModel.listAudienceMembers({
            runId,
            action: params.action,
            limit: query.limit,
            ...after,
            indexShards: indexShardsOf(run),
          });
        },
        (runId, after) => encodeCursor({ kind: 'playbook', runId, action: params.action, after }),
      );
      return {
        status: 200,
        body: { runId, action: params.action, customers, nextCursor },
        etagBasis: runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  listHighValueDetractors: implement({
    summary: 'The high-value detractors of the current run, net CLV descending, paginated',
    description:
      'Customers whose latest satisfaction score is a detractor’s (NPS 0–6, CSAT 1–3) and whose value ' +
      'is high: value tier at or above `economics.highValue.minValueTier` (default top10), or net CLV ≥ ' +
      '`economics.highValue.minNetClv`. Same paging conventions as segment pages. Empty when the run ' +
      'has no satisfaction scores (`advice` then says what to add) or no economics data.',
    params: noParams,
    query: pageQuerySchema,
    body: undefined,
    response: {
      status: 200,
      name: 'RunListPage',
      schema: runListPageSchema,
      description: 'One page of customers',
    },
    errors: [404],
    async handle({ query }, context) {
      const list = HIGH_VALUE_DETRACTORS_LIST;
      const cursor = query.cursor === undefined ? undefined : decodeListCursor(query.cursor, list);
      const { runId, run, customers, nextCursor } = await walkRunPage(
        context,
        cursor,
        (runId, _run, after) =>
          context.readModel.listRunListMembers({ runId, list, limit: query.limit, ...after }),
        (runId, after) => encodeCursor({ kind: 'list', runId, list, after }),
      );
      const advice =
        run.economics?.satisfactionAdvice ??
        (run.economics
          ? null
          : 'This run has no customer economics: add a customer attributes export with a customer_id ' +
            'and an nps (0–10) or csat (1–5) column, then recalculate.');
      return {
        status: 200,
        body: {
          runId,
          list,
          total: run.economics?.highValueDetractors ?? 0,
          advice,
          customers,
          nextCursor,
        },
        etagBasis: runId,
        cacheControl: CURRENT_RUN_CACHE,
      };
    },
  }),

  getCurrentRun: implement({
    summary: 'The current run: model, parameters, holdout accuracy, segments, migration matrix',
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

  getRun: implement({
    summary: 'One run by id',
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

  startRecalculation: implement({
    summary: 'Start a value recalculation; admin only',
    params: noParams,
    query: noParams,
    body: startRunRequestSchema,
    response: {
      status: 202,
      name: 'RecalculationStarted',
      schema: recalculationStartedSchema,
      description: 'The recalculation was started',
    },
    errors: [404, 409, 413, 415, 503],
    async handle({ body }, context) {
      if (body.resume !== undefined) {
        // Refused here, before an execution starts, when the answer is already known; the lock step
        // checks again (and whether the clean data changed) when it runs.
        const run = await context.readModel.getRun(body.resume);
        if (!run) {
          throw new ApiError(404, 'not_found', `body.resume: no run ${quote(body.resume)} to resume`);
        }
        if (run.status === 'published') {
          throw new ApiError(
            409,
            'conflict',
            `body.resume: run ${quote(body.resume)} was published; start a new run instead`,
          );
        }
      }
      const started = await context.admin.startRecalculation(body);
      return { status: 202, body: started, cacheControl: NO_STORE };
    },
  }),

  listIngests: implement({
    summary: 'Ingest reports, newest first, paginated',
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

  getIngest: implement({
    summary: 'One ingest report',
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

  getOpenApiDocument: implement({
    summary: 'This API as an OpenAPI 3.1 document',
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
};

/**
 * The route table with each route's implementation: the table (route-table.ts) says which routes exist
 * and who may call them, and every operation there has exactly one implementation here (the
 * `Record<OperationId, …>` type refuses a missing or extra one).
 */
export const ROUTES: Route[] = ROUTE_TABLE.map((entry) => ({
  ...IMPLEMENTATIONS[entry.operationId],
  ...entry,
}));
