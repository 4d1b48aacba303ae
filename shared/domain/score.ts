import * as z from 'zod';
import { customerEconomicsScoreSchema } from './economics/economics-score.ts';
import { playbookScoreFields } from './playbook/score-fields.ts';

/** The RFM segment grid's names (configurable grid; these are the defaults). */
export const DEFAULT_SEGMENT_NAMES = [
  'Champions',
  'Loyal Customers',
  'Potential Loyalists',
  'New Customers',
  'Promising',
  'Need Attention',
  'About to Sleep',
  'At Risk',
  "Can't Lose Them",
  'Hibernating',
  'Lost',
] as const;

export const valueTierSchema = z.enum(['top1', 'top10', 'top25', 'rest']);
export type ValueTier = z.infer<typeof valueTierSchema>;

/** Unit of the times (recency, T) of a score: the run's time unit. */
export const timeUnitSchema = z.enum(['days', 'weeks']);

export const churnRiskSchema = z.enum(['low', 'medium', 'high']);
export type ChurnRisk = z.infer<typeof churnRiskSchema>;

/**
 * One customer's score in one run: what the API serves and the recalculation publishes.
 * Money is in the run's currency; purchase counts are in repeat purchase days.
 */
export const customerScoreSchema = z.object({
  customerId: z.string(),
  runId: z.string(),
  computedAt: z.string().describe('ISO 8601 UTC time the run scored this customer'),
  asOf: z.string().describe('Observation end date of the run (YYYY-MM-DD)'),
  currency: z.string(),
  clv: z.number().describe('Predicted discounted customer lifetime value over the run horizon'),
  expectedPurchases90d: z
    .number()
    .nonnegative()
    .describe(
      'Expected repeat purchases in the next 90 days; for the period families (run model bgbb or sbg) the expected transactions (renewals) in the CLV horizon’s periods',
    ),
  pAlive: z
    .number()
    .min(0)
    .max(1)
    .describe(
      'Probability the customer is still active. Under BG/NBD a customer with no repeat purchase (frequency 0) has pAlive 1 by construction (that model lets customers drop out only after a repeat purchase), however long ago they bought: read churnRisk, not pAlive, for such customers. bgbb: alive at the next period; sbg: still a member (1) or cancelled (0)',
    ),
  expectedOrderValue: z.number(),
  expectedNextPurchaseDate: z.string().nullable().describe('YYYY-MM-DD, null when not expected'),
  // The value playbook (docs/playbook.md); optional: scores published before it have none.
  ...playbookScoreFields,
  churnRisk: churnRiskSchema.describe(
    "Band of the model's probability of at least one purchase in the next 90 days given the customer's history (configurable thresholds, default low ≥ 0.7, medium ≥ 0.3, else high)",
  ),
  historicRevenue: z.number(),
  historicOrders: z.number().int().nonnegative(),
  timeUnit: timeUnitSchema
    .optional()
    .describe(
      'Unit of recency and T (the run time unit); absent only on scores published before it was recorded',
    ),
  frequency: z
    .number()
    .nonnegative()
    .describe(
      'Repeat purchase days (x): a count, not a time; bgbb: later periods with a transaction; sbg: renewals made',
    ),
  recency: z
    .number()
    .nonnegative()
    .describe(
      'First to last purchase day (t_x), in `timeUnit` (days or weeks; 0 when frequency is 0); bgbb: number of the last period with a transaction; sbg: renewals made',
    ),
  T: z
    .number()
    .nonnegative()
    .describe(
      'First purchase day to the as-of date, in `timeUnit` (days or weeks); bgbb and sbg: periods (opportunities) observed after the first',
    ),
  rfm: z.object({
    r: z.number().int().min(1).max(5),
    f: z.number().int().min(1).max(5),
    m: z.number().int().min(1).max(5),
  }),
  segment: z.string().describe('RFM segment name'),
  valueTier: valueTierSchema,
  economics: customerEconomicsScoreSchema.optional(),
  stale: z
    .literal(true)
    .optional()
    .describe(
      'Set when the current run published without this customer (its summary part failed to score within the tolerated share): the score is from the latest published run that scored them, named by runId',
    ),
});
export type CustomerScore = z.infer<typeof customerScoreSchema>;
