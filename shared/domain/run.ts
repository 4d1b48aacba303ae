import * as z from 'zod';
import { economicsReportSchema } from './economics/economics-report.ts';
import { playbookSummarySchema } from './playbook/summary.ts';
import { MAX_INDEX_SHARDS } from './recalc/index-shards.ts';

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
  period: z.enum(['year', 'month', 'campaign']).optional(),
  /** Campaign starts of `period: "campaign"`. */
  campaigns: z.array(z.string()).optional(),
  /** What a contractual run read: subscriptions exports (absent = the transactions). */
  input: z.enum(['subscriptions']).optional(),
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
 * What a run left out of its input and why (data selection, `shared/domain/recalc/data-selection.ts`):
 * one entry per source and currency, so nothing is dropped without the run saying so.
 */
export const exclusionReasonSchema = z.enum(['sample', 'currency', 'after_as_of', 'superseded', 'family']);
export type ExclusionReason = z.infer<typeof exclusionReasonSchema>;

export const excludedRowsSchema = z.object({
  reason: exclusionReasonSchema,
  source: z.string(),
  /** Currency of the rows as exported; `amount` is in it (not converted). */
  currency: z.string(),
  rows: z.number().int().nonnegative(),
  amount: z.number(),
  /** Reason `family`: the family of the source, which another run reads. */
  family: z.enum(['noncontractual-continuous', 'noncontractual-discrete', 'contractual']).optional(),
});
export type ExcludedRows = z.infer<typeof excludedRowsSchema>;

export const runExclusionsSchema = z.object({
  rows: z.array(excludedRowsSchema),
  /** Customer ids on the suppression list when the run started (erased customers are never scored). */
  suppressedIds: z.number().int().nonnegative(),
  /** Identical (customer, order time, amount, currency) rows in two sources, among the rows used. */
  crossSourceDuplicates: z.object({
    rows: z.number().int().nonnegative(),
    /** In the run currency. */
    amount: z.number(),
    /** `collapse`: only the copy of the first source (by name) was used; `keep`: all were used. */
    handling: z.enum(['keep', 'collapse']),
  }),
});
export type RunExclusions = z.infer<typeof runExclusionsSchema>;

/** The data a run used: its date range and size, and the currencies it read (with their rates). */
export const runDataRangeSchema = z.object({
  firstDate: z.string().nullable(),
  lastDate: z.string().nullable(),
  sources: z.array(z.string()),
  rows: z.number().int().nonnegative(),
  orders: z.number().int().nonnegative(),
  customers: z.number().int().nonnegative(),
  /** Summarized customers with no repeat purchase day. */
  oneTimeBuyers: z.number().int().nonnegative(),
  /** Currencies read: the run currency (rate 1) and any converted with a fixed `fxRates` rate. */
  currencies: z.array(
    z.object({ currency: z.string(), rate: z.number(), rows: z.number().int().nonnegative() }),
  ),
  /** How the run currency was chosen. */
  currencyChoice: z.enum(['configured', 'most rows', 'default']),
});
export type RunDataRange = z.infer<typeof runDataRangeSchema>;

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
  /** The value playbook of the run (absent on runs recorded before it existed). */
  playbook: playbookSummarySchema.optional(),
  /** The data the run used (absent on runs recorded before data selection was reported). */
  dataRange: runDataRangeSchema.optional(),
  /** Everything the run left out, and why. */
  exclusions: runExclusionsSchema.optional(),
  /** Data problems a reader must see before trusting the run (e.g. an as-of far past the data). */
  dataWarnings: z.array(z.string()).optional(),
  /** True when the bundled sample (source `sample`) was left out because other data exists. */
  sampleExcluded: z.boolean().optional(),
  /**
   * Summary parts that failed to score in a run published within `toleratedFailedPartsPercent`: their
   * customers have no score in this run (the API serves their latest published one, marked stale).
   */
  failedParts: z
    .array(z.object({ partKey: z.string(), error: z.string() }))
    .optional()
    .describe('Summary parts without a score in this run, and the error each failed with'),
  /** Customers of the failed parts: they have no new score in this run. */
  customersWithoutNewScore: z.number().int().nonnegative().optional(),
  /** Executions of this run: 1, plus one per resume (`cvm recalc --resume`). */
  attempts: z.number().int().positive().optional(),
  /** When the run was last resumed. */
  resumedAt: z.string().optional(),
  /** Runs with economics data: revenue vs net contribution, CLV/CAC by channel, satisfaction bands. */
  economics: economicsReportSchema.optional(),
  /**
   * Shards of the run's segment and audience index keys (see recalc/index-shards.ts): readers query
   * each of them. Absent on runs written before sharding, whose keys carry no shard: the same as 1.
   */
  indexShards: z
    .number()
    .int()
    .min(1)
    .max(MAX_INDEX_SHARDS)
    .optional()
    .describe('Shards of the run’s segment and audience index keys (storage detail; absent = 1)'),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** The run's index shard count: what it recorded, or 1 (unsharded keys) for runs recorded before. */
export const indexShardsOf = (run: Pick<RunRecord, 'indexShards'>): number => run.indexShards ?? 1;
