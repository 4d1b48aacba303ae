import * as z from 'zod';

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
      'Probability the customer is still active; bgbb: alive at the next period; sbg: still a member (1) or cancelled (0)',
    ),
  expectedOrderValue: z.number(),
  expectedNextPurchaseDate: z.string().nullable().describe('YYYY-MM-DD, null when not expected'),
  churnRisk: churnRiskSchema,
  historicRevenue: z.number(),
  historicOrders: z.number().int().nonnegative(),
  frequency: z
    .number()
    .nonnegative()
    .describe('Repeat purchase days (x); bgbb: later periods with a transaction; sbg: renewals made'),
  recency: z
    .number()
    .nonnegative()
    .describe(
      'First to last purchase, in the run time unit (t_x); bgbb: number of the last period with a transaction; sbg: renewals made',
    ),
  T: z
    .number()
    .nonnegative()
    .describe(
      'First purchase to as-of date, in the run time unit; bgbb and sbg: periods (opportunities) observed after the first',
    ),
  rfm: z.object({
    r: z.number().int().min(1).max(5),
    f: z.number().int().min(1).max(5),
    m: z.number().int().min(1).max(5),
  }),
  segment: z.string().describe('RFM segment name'),
  valueTier: valueTierSchema,
});
export type CustomerScore = z.infer<typeof customerScoreSchema>;
