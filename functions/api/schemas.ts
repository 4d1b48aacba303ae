/**
 * Request and response schemas of the scores API. The route table (`routes.ts`) points at these; the
 * handler validates with them and the OpenAPI document is generated from them, so each shape is written once.
 */

import * as z from 'zod';
import { customerIdProblem } from '#domain/customer-id.ts';
import { HIGH_VALUE_DETRACTORS_LIST } from '#domain/economics/satisfaction.ts';
import { ingestReportSchema } from '#domain/ingest-report.ts';
import { playbookSummarySchema } from '#domain/playbook/summary.ts';
import { modelChoiceSchema, modelFamilySchema } from '#domain/recalc-config.ts';
import { runRecordSchema, segmentSummarySchema } from '#domain/run.ts';
import { customerScoreSchema } from '#domain/score.ts';

/** Largest number of ids `POST /customers/batch-get` takes (DynamoDB BatchGetItem's limit). */
export const MAX_BATCH_IDS = 100;
export const MAX_PAGE_LIMIT = 1_000;
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_ID_LENGTH = 256;

/**
 * Ids arrive in URL paths and JSON bodies. Control characters, lone surrogates (not encodable as UTF-8),
 * slashes and dot-segments are refused so no id can smuggle path structure or break key encoding; any
 * other text, including non-Latin scripts, is a legitimate id (exports use whatever their shop uses).
 */
const idSchema = (name: string) =>
  z
    .string()
    .min(1, `${name} must not be empty`)
    .max(MAX_ID_LENGTH, `${name} must be at most ${MAX_ID_LENGTH} characters`)
    .refine((value) => !/[\p{Cc}\p{Cs}]/u.test(value), `${name} must not contain control characters`)
    .refine((value) => !/[/\\]/.test(value), `${name} must not contain '/' or '\\'`)
    .refine((value) => value !== '.' && value !== '..', `${name} must not be '.' or '..'`)
    .refine((value) => value.trim() === value, `${name} must not start or end with whitespace`);

/** Customer ids follow the one rule that ingest and erasure apply too (`shared/domain/customer-id.ts`). */
export const customerIdSchema = z
  .string()
  .meta({ maxLength: MAX_ID_LENGTH, description: `1–${MAX_ID_LENGTH} UTF-8 bytes` })
  .superRefine((value, ctx) => {
    const problem = customerIdProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `customerId ${problem}` });
  });
export const runIdSchema = idSchema('runId');
export const ingestIdSchema = idSchema('ingestId');
export const segmentNameSchema = z
  .string()
  .min(1, 'segment must not be empty')
  .max(100, 'segment must be at most 100 characters')
  .refine((value) => !/[\p{Cc}\p{Cs}]/u.test(value), 'segment must not contain control characters');

/** Playbook action names are slugs (they name the audience files). */
export const actionNameSchema = idSchema('action').regex(
  /^[a-z0-9][a-z0-9-]{0,62}$/,
  'action must be an action name of the playbook: lower-case letters, digits and dashes, e.g. second-order',
);

const cursorSchema = z
  .string()
  .min(1, 'cursor must not be empty')
  .max(2_048, 'cursor is too long')
  .optional()
  .describe('Opaque cursor from the previous page (`nextCursor`); omit for the first page');
const limitSchema = z.coerce
  .number('limit must be a whole number')
  .int('limit must be a whole number')
  .min(1, 'limit must be at least 1')
  .max(MAX_PAGE_LIMIT, `limit must be at most ${MAX_PAGE_LIMIT}`)
  .default(DEFAULT_PAGE_LIMIT)
  .describe(`Page size, 1–${MAX_PAGE_LIMIT}`);

// ── path and query parameters ────────────────────────────────────────────────────────────────────────
export const noParams = z.object({});
export const customerPathSchema = z.object({ customerId: customerIdSchema });
export const runPathSchema = z.object({ runId: runIdSchema });
export const ingestPathSchema = z.object({ ingestId: ingestIdSchema });
export const segmentPathSchema = z.object({ segment: segmentNameSchema });
export const pageQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema });
export const actionPathSchema = z.object({ action: actionNameSchema });
export const forgetQuerySchema = z.object({
  force: z
    .enum(['true', 'false'], "force must be 'true' or 'false'")
    .default('false')
    .describe(
      "'true' erases (and suppresses) an id that no run scored, e.g. data ingested after the last run; " +
        'without it such an id is answered with 404 and nothing changes (a typo must not add a suppression entry)',
    ),
});

// ── request bodies ───────────────────────────────────────────────────────────────────────────────────
export const batchGetRequestSchema = z.strictObject({
  customerIds: z
    .array(customerIdSchema, 'customerIds must be an array of customer id strings')
    .min(1, 'customerIds must hold at least 1 id')
    .max(MAX_BATCH_IDS, `customerIds must hold at most ${MAX_BATCH_IDS} ids`),
});

export const startRunRequestSchema = z
  .strictObject({
    asOf: z.iso.date('asOf must be a date written YYYY-MM-DD').optional().describe('Observation end date'),
    model: modelChoiceSchema
      .optional()
      .describe('Purchase model; `auto` picks the lowest holdout error; the configured default when omitted'),
    family: modelFamilySchema
      .optional()
      .describe(
        'Model family to score; sources of other families are left out and listed (reason `family`); the configured family when omitted',
      ),
    resume: runIdSchema
      .optional()
      .describe(
        'Resume this failed run instead of starting one: the steps it finished are skipped and only the parts without a result are scored; it keeps its own settings',
      ),
  })
  .refine(
    (body) =>
      body.resume === undefined ||
      (body.asOf === undefined && body.model === undefined && body.family === undefined),
    {
      message: 'resume takes no asOf, model or family: a resumed run keeps the settings it started with',
      path: ['resume'],
    },
  );

// ── responses ────────────────────────────────────────────────────────────────────────────────────────
export const batchGetResponseSchema = z.object({
  runId: z.string(),
  found: z.array(customerScoreSchema),
  notFound: z.array(z.string()).describe('Requested ids without a score in the run, in request order'),
});

export const customerHistorySchema = z.object({
  customerId: z.string(),
  scores: z.array(customerScoreSchema).describe('One score per run, oldest run first'),
  segmentPath: z
    .array(z.object({ runId: z.string(), asOf: z.string(), segment: z.string() }))
    .describe("The customer's segment in each run, oldest first"),
});

export const segmentListSchema = z.object({
  runId: z.string(),
  asOf: z.string(),
  currency: z.string(),
  segments: z.array(segmentSummarySchema),
});

export const segmentCustomersPageSchema = z.object({
  runId: z.string().describe('The run the page comes from; a cursor stays on its run'),
  segment: z.string(),
  customers: z.array(customerScoreSchema).describe('CLV descending, ties by customer id'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

export const playbookSchema = playbookSummarySchema
  .extend({ runId: z.string(), asOf: z.string(), currency: z.string() })
  .describe('The value playbook of the current run: ladder funnel, actions, backtest and movement');

export const playbookCustomersPageSchema = z.object({
  runId: z.string().describe('The run the page comes from; a cursor stays on its run'),
  action: z.string(),
  customers: z.array(customerScoreSchema).describe('Value at stake descending, ties by customer id'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

export const runListPageSchema = z.object({
  runId: z.string().describe('The run the page comes from; a cursor stays on its run'),
  list: z.literal(HIGH_VALUE_DETRACTORS_LIST),
  total: z
    .number()
    .int()
    .nonnegative()
    .describe('Customers on the whole list (the run record’s count); 0 in runs without economics data'),
  advice: z
    .string()
    .nullable()
    .describe('What to add when the run has no satisfaction scores (then the list is empty); else null'),
  customers: z.array(customerScoreSchema).describe('Net CLV descending, ties by customer id'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

export const ingestPageSchema = z.object({
  ingests: z.array(ingestReportSchema).describe('Newest first'),
  nextCursor: z.string().nullable(),
});

export const recalculationStartedSchema = z.object({
  runId: z.string().optional().describe('Set when the run id is known at once (local mode)'),
  executionArn: z.string().optional().describe('Step Functions execution (AWS)'),
});

export const forgetResultSchema = z.object({
  customerId: z.string(),
  removedScores: z.number().int().nonnegative(),
  storedFiles: z
    .object({
      status: z
        .enum(['erased', 'erasing'])
        .describe(
          "'erased': every stored file was rewritten before the answer; 'erasing': an erasure job rewrites them",
        ),
      objectsRewritten: z.number().int().nonnegative().optional(),
      rowsRemoved: z.number().int().nonnegative().optional(),
      versionsDeleted: z.number().int().nonnegative().optional(),
      /** The erasure job (AWS: a Step Functions execution). */
      job: z.string().optional(),
    })
    .describe(
      "The customer's rows in stored files (uploads, clean data, run files) and their earlier versions",
    ),
});

export const openApiDocumentSchema = z.looseObject({ openapi: z.string() });

export { customerScoreSchema, ingestReportSchema, runRecordSchema };
