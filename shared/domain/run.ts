import * as z from 'zod';

export const runStatusSchema = z.enum(['running', 'published', 'failed']);

export const segmentSummarySchema = z.object({
  segment: z.string(),
  customers: z.number().int().nonnegative(),
  totalClv: z.number(),
  meanClv: z.number(),
  shareOfValue: z.number().min(0).max(1),
});
export type SegmentSummary = z.infer<typeof segmentSummarySchema>;

export const fittedModelSchema = z.object({
  name: z.string().describe('bgnbd | mbgnbd | pareto | bgbb | sbg | gammagamma'),
  params: z.record(z.string(), z.number()),
  logLikelihood: z.number(),
  standardErrors: z.record(z.string(), z.number().nullable()).optional(),
  converged: z.boolean(),
  customers: z.number().int().nonnegative(),
  /** False when the data do not pin the parameters down (see `warnings`); absent in older runs. */
  identified: z.boolean().optional(),
  /** What a user should know about the fit (unidentified parameters, boundary estimates, …). */
  warnings: z.array(z.string()).optional(),
  /** Model family of the run (purchase models only; absent in older runs = noncontractual-continuous). */
  family: z.enum(['noncontractual-continuous', 'noncontractual-discrete', 'contractual']).optional(),
  /** Period of a discrete or contractual family: one opportunity (BG/BB) or renewal (sBG). */
  period: z.enum(['year', 'month']).optional(),
});

export const holdoutAccuracySchema = z.object({
  calibrationEnd: z.string(),
  holdoutEnd: z.string(),
  model: z.string(),
  predictedRepeatPurchases: z.number(),
  actualRepeatPurchases: z.number(),
  aggregateErrorPct: z
    .number()
    .nullable()
    .describe(
      '(predicted − actual) / actual in %; null when the check is not possible (see notPossibleReason)',
    ),
  /** Why predicted and actual cannot be compared (e.g. no purchases at all in the holdout window). */
  notPossibleReason: z.string().optional(),
  meanAbsoluteError: z.number(),
  correlation: z.number().nullable(),
  /** Weekly tracking series: cumulative or incremental repeat transactions, actual vs predicted. */
  weekly: z.array(
    z.object({
      week: z.number().int(),
      weekStart: z.string(),
      actual: z.number(),
      predicted: z.number(),
      period: z.enum(['calibration', 'holdout']),
    }),
  ),
});

/**
 * A recalculation run: stored in DynamoDB next to its scores and served by `GET /runs/{runId}`.
 * The migration matrix maps previous segment → current segment → customers.
 */
export const runRecordSchema = z.object({
  runId: z.string(),
  status: runStatusSchema,
  asOf: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  timeUnit: z.enum(['days', 'weeks']),
  currency: z.string(),
  customers: z.number().int().nonnegative(),
  model: fittedModelSchema.nullable(),
  spendModel: fittedModelSchema.nullable(),
  clvSettings: z.object({
    horizonMonths: z.number(),
    annualDiscountRate: z.number(),
    margin: z.number(),
    periodDays: z.number().describe('Length of one CLV period in days (a month = 365.25/12 days)'),
  }),
  holdout: holdoutAccuracySchema.nullable(),
  segments: z.array(segmentSummarySchema),
  previousRunId: z.string().nullable(),
  migration: z.record(z.string(), z.record(z.string(), z.number().int().nonnegative())).nullable(),
  message: z.string().optional(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;
