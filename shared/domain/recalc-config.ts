import * as z from 'zod';
import { RECALC_CONFIG_KEY } from './bucket-layout.ts';
import { economicsConfigSchema } from './economics/economics-config.ts';
import { CvmError } from './errors.ts';
import { playbookSettingsSchema } from './playbook/playbook-config.ts';
import { SAMPLE_SOURCE } from './recalc/data-selection.ts';
import { DEFAULT_PART_CUSTOMERS } from './recalc/summary-parts.ts';
import { DEFAULT_SEGMENT_NAMES } from './score.ts';

/**
 * Settings of the weekly value recalculation. Stored as JSON at `config/recalc.json` in the bucket
 * (optional: every field has a default) and overridable per run from the CLI or the Step Functions
 * input. Every setting a run used is copied into its run record, so a published snapshot says how
 * it was computed.
 */

const scoreRange = z
  .tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)])
  .refine(([low, high]) => low <= high, { message: 'range must be [low, high] with low ≤ high' });

/** One cell rule of the RFM grid: customers whose R and FM scores fall in both ranges. */
export const segmentRuleSchema = z.object({
  name: z.string().min(1).max(64),
  /** Recency score range, inclusive (5 = bought most recently). */
  r: scoreRange,
  /** Range of the combined frequency/monetary score FM = round((F + M) / 2), inclusive. */
  fm: scoreRange,
});
export type SegmentRule = z.infer<typeof segmentRuleSchema>;

/**
 * The common RFM segment grid over recency (R) and the combined frequency/monetary score (FM).
 * Rules are tried in order; the first match wins. Together they cover all 25 (R, FM) cells.
 *
 * |        | FM 1          | FM 2                | FM 3                | FM 4            | FM 5            |
 * |--------|---------------|---------------------|---------------------|-----------------|-----------------|
 * | R 5    | New Customers | Potential Loyalists | Potential Loyalists | Champions       | Champions       |
 * | R 4    | Promising     | Potential Loyalists | Potential Loyalists | Loyal Customers | Loyal Customers |
 * | R 3    | About to Sleep| About to Sleep      | Need Attention      | Loyal Customers | Loyal Customers |
 * | R 2    | Hibernating   | Hibernating         | At Risk             | At Risk         | Can't Lose Them |
 * | R 1    | Lost          | Lost                | At Risk             | At Risk         | Can't Lose Them |
 */
export const DEFAULT_SEGMENT_GRID: SegmentRule[] = [
  { name: 'Champions', r: [5, 5], fm: [4, 5] },
  { name: 'Loyal Customers', r: [3, 4], fm: [4, 5] },
  { name: 'Potential Loyalists', r: [4, 5], fm: [2, 3] },
  { name: 'New Customers', r: [5, 5], fm: [1, 1] },
  { name: 'Promising', r: [4, 4], fm: [1, 1] },
  { name: 'Need Attention', r: [3, 3], fm: [3, 3] },
  { name: 'About to Sleep', r: [3, 3], fm: [1, 2] },
  { name: "Can't Lose Them", r: [1, 2], fm: [5, 5] },
  { name: 'At Risk', r: [1, 2], fm: [3, 4] },
  { name: 'Hibernating', r: [2, 2], fm: [1, 2] },
  { name: 'Lost', r: [1, 1], fm: [1, 2] },
];

/** First rule matching (r, fm), or undefined. */
export function matchSegmentRule(
  grid: readonly SegmentRule[],
  r: number,
  fm: number,
): SegmentRule | undefined {
  return grid.find((rule) => r >= rule.r[0] && r <= rule.r[1] && fm >= rule.fm[0] && fm <= rule.fm[1]);
}

export const segmentGridSchema = z
  .array(segmentRuleSchema)
  .min(1)
  .superRefine((grid, context) => {
    const uncovered: string[] = [];
    for (let r = 1; r <= 5; r++) {
      for (let fm = 1; fm <= 5; fm++) {
        if (!matchSegmentRule(grid, r, fm)) uncovered.push(`R${r}/FM${fm}`);
      }
    }
    if (uncovered.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `the segment grid must give every (R, FM) cell a segment; uncovered: ${uncovered.join(', ')}`,
      });
    }
  });

/**
 * Value tiers by predicted CLV percentile: a customer is `top1` when their CLV is in the top 1 %
 * (by rank), else `top10`, else `top25`, else `rest`. Shares are cumulative fractions of customers.
 */
export const valueTierConfigSchema = z
  .object({
    top1: z.number().gt(0).lt(1).default(0.01),
    top10: z.number().gt(0).lt(1).default(0.1),
    top25: z.number().gt(0).lt(1).default(0.25),
  })
  .refine((t) => t.top1 < t.top10 && t.top10 < t.top25, {
    message: 'value tier shares must increase: top1 < top10 < top25',
  });

/**
 * Churn-risk bands (the engine's `ChurnBands`) on the model's probability that the customer buys at
 * least once in the next `horizonDays` (default 90), given their history: low risk at or above
 * `lowRiskMin`, medium at or above `mediumRiskMin`, high below it. Not on P(alive), which is 1 for
 * every BG/NBD one-time buyer however long ago they bought.
 */
export const churnBandConfigSchema = z
  .object({
    lowRiskMin: z.number().min(0).max(1).default(0.7),
    mediumRiskMin: z.number().min(0).max(1).default(0.3),
    /** Days ahead the purchase probability looks; the engine's default (90) when omitted. */
    horizonDays: z.number().int().min(1).max(3660).optional(),
  })
  .refine((b) => b.mediumRiskMin <= b.lowRiskMin, {
    message: 'churn bands: mediumRiskMin must not exceed lowRiskMin',
  });

export const modelChoiceSchema = z.enum(['bgnbd', 'mbgnbd', 'pareto', 'auto']);
export type ModelChoice = z.infer<typeof modelChoiceSchema>;

/**
 * Model families (docs/recalc.md, "Model families"): how customers transact and leave.
 * - `noncontractual-continuous`: purchases at any time, departure unobserved (BG/NBD, MBG/NBD, Pareto/NBD).
 * - `noncontractual-discrete`: at most one transaction counted per period (a yearly gift, a monthly
 *   campaign), departure unobserved (BG/BB).
 * - `contractual`: one payment per period while a member; a member who misses a period's payment has
 *   cancelled (sBG).
 */
export const MODEL_FAMILIES = [
  'noncontractual-continuous',
  'noncontractual-discrete',
  'contractual',
] as const;
export const modelFamilySchema = z.enum(MODEL_FAMILIES);
export type ModelFamily = z.infer<typeof modelFamilySchema>;

/**
 * Period of the discrete and contractual families: calendar years or calendar months (UTC), or
 * campaigns (`campaigns`: each period runs from one campaign start to the next).
 */
export const familyPeriodSchema = z.enum(['year', 'month', 'campaign']);
export type FamilyPeriod = z.infer<typeof familyPeriodSchema>;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const isCalendarDay = (value: string) =>
  ISO_DAY.test(value) && new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) === value;

/**
 * Campaign starts (`period: "campaign"`): ISO dates, increasing (so each once), at least two. A
 * campaign's period lasts until the next one starts; the last lasts until the as-of date.
 */
export const campaignCalendarSchema = z
  .array(z.string().refine(isCalendarDay, { message: 'a campaign start is a calendar date YYYY-MM-DD' }))
  .min(2, 'campaigns: give at least two campaign start dates')
  .superRefine((starts, context) => {
    for (let i = 1; i < starts.length; i++) {
      if (!(starts[i]! > starts[i - 1]!)) {
        context.addIssue({
          code: 'custom',
          path: [i],
          message: `campaign starts must be sorted and unique: ${starts[i]} does not come after ${starts[i - 1]}`,
        });
      }
    }
  });

/** Average length of one period in days: a year, a month, or the mean gap between campaign starts. */
export function periodLengthDays(config: {
  period: FamilyPeriod;
  campaigns?: readonly string[] | undefined;
}) {
  if (config.period === 'year') return 365.25;
  if (config.period === 'month') return 365.25 / 12;
  const starts = config.campaigns ?? [];
  if (starts.length < 2) return 365.25;
  const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
  return (day(starts[starts.length - 1]!) - day(starts[0]!)) / (starts.length - 1);
}

export const recalcConfigSchema = z
  .object({
    /** Model family of the data; the discrete and contractual families ignore `model`. */
    family: modelFamilySchema.default('noncontractual-continuous'),
    /** Transaction opportunity of the discrete and contractual families (renewal period for contractual). */
    period: familyPeriodSchema.default('year'),
    /** Campaign starts of `period: "campaign"` (e.g. a spring and a Christmas appeal each year). */
    campaigns: campaignCalendarSchema.optional(),
    /**
     * Family per source (`{ "club": { "family": "contractual", "period": "year" } }`): a run reads the
     * sources of its own `family` and lists the others as left out (reason `family`). A source without
     * an entry is `contractual` when it has a subscriptions export, else of the run's `family`. The
     * entry's `period` is used when the run reads that source (the sources read must agree on it).
     */
    sources: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a source name is letters, digits, ".", "_" or "-"'),
        z.strictObject({ family: modelFamilySchema.optional(), period: familyPeriodSchema.optional() }),
      )
      .optional(),
    /**
     * Wall-clock budget of one model fit in seconds; a fit that runs out fails the run with a message
     * saying what to try.
     */
    fitTimeLimitSeconds: z.number().positive().max(900).default(60),
    /** Purchase model; `auto` picks the lowest holdout error among the three. */
    model: modelChoiceSchema.default('bgnbd'),
    /** Time unit of recency/T and of the fitted rates. */
    timeUnit: z.enum(['days', 'weeks']).default('weeks'),
    /** Currency of the run; transactions in other currencies are left out. Default: the most used one. */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'currency must be a three-letter ISO 4217 code such as EUR')
      .optional(),
    /**
     * Currency the run reports in (same meaning as `currency`, which it overrides). Rows in other
     * currencies are converted with `fxRates` when a rate is given, else left out (and reported).
     */
    reportingCurrency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'reportingCurrency must be a three-letter ISO 4217 code such as EUR')
      .optional(),
    /**
     * Fixed conversion rates into the run currency: `{ "USD": 0.92 }` = 1 USD counts as 0.92 of the
     * run currency. Applied in the warehouse SQL to every row in that currency.
     */
    fxRates: z
      .record(
        z.string().regex(/^[A-Z]{3}$/, 'fxRates keys are three-letter ISO 4217 codes'),
        z.number().min(0.000001).max(1_000_000),
      )
      .optional(),
    /**
     * Identical (customer, order time, amount, currency) rows in two sources (the same export dropped
     * under two names): `keep` uses both and reports them, `collapse` uses the first source's copy only.
     */
    crossSourceDuplicates: z.enum(['keep', 'collapse']).default('keep'),
    /**
     * A clean object an ingest wrote is gone from the bucket: `fail` stops the run naming it and its
     * ingest; `exclude` runs without it and says so in the run's data warnings.
     */
    missingCleanObjects: z.enum(['fail', 'exclude']).default('fail'),
    /**
     * Share of summary parts (percent) that may fail to score after their retries while the run still
     * publishes: their customers keep their previous score (served as stale), and the run record names
     * the parts. 0 = any failed part fails the run (it can then be resumed: `cvm recalc --resume`).
     */
    toleratedFailedPartsPercent: z.number().min(0).max(100).default(0),
    /** A run whose as-of date is more than this many days after the last transaction warns. */
    staleAsOfDays: z.number().int().min(1).max(3650).default(90),
    /**
     * The bundled demo data (source `sample`): `auto` leaves it out as soon as another source has
     * clean data, `never` always leaves it out, `always` keeps it.
     */
    includeSample: z.enum(['auto', 'always', 'never']).default('auto'),
    clv: z
      .object({
        horizonMonths: z.number().int().min(1).max(120).default(12),
        /** Yearly discount rate, e.g. 0.10 for 10 %. */
        annualDiscountRate: z.number().min(0).max(1).default(0.1),
        /** Share of revenue that is profit; 1.0 makes CLV a revenue figure. */
        margin: z.number().gt(0).max(1).default(1),
      })
      .prefault({}),
    /** Length of the holdout period at the end of the observed data, for the accuracy check. */
    holdoutWeeks: z.number().int().min(1).max(104).default(26),
    /** L2 penalty of the fits (lifetimes convention); 0 = plain maximum likelihood. */
    penalizer: z.number().min(0).default(0),
    segments: segmentGridSchema.default(DEFAULT_SEGMENT_GRID),
    valueTiers: valueTierConfigSchema.prefault({}),
    churnBands: churnBandConfigSchema.prefault({}),
    /** Weeks a run's items stay in DynamoDB before TTL removes them. Default: the runtime setting. */
    retentionWeeks: z.number().int().min(1).max(520).optional(),
    /** Hash customer ids (sha256) in change events instead of sending them plain. */
    hashIdsInEvents: z.boolean().default(false),
    /**
     * Largest number of customers the CLV thresholds of the value tiers are computed from exactly;
     * above it an evenly spaced sample of about this size is used.
     */
    statisticsSampleSize: z.number().int().min(1000).default(1_000_000),
    /**
     * Customers per part of the run's summaries, so one ScorePart task scores at most about this many
     * (docs/scale.md: measured seconds per 100 k customers). The part count is ceil(customers /
     * partCustomers), at most 100 (Athena UNLOAD's partition limit), see recalc/summary-parts.ts.
     */
    partCustomers: z.number().int().min(1).max(10_000_000).default(DEFAULT_PART_CUSTOMERS),
    /**
     * Customer economics (docs/economics.md §5): margin rates, cost to serve, acquisition costs. Absent
     * = the defaults, which keep today's CLV; runs without economics data ignore it.
     */
    economics: economicsConfigSchema.optional(),
    /**
     * The value playbook (docs/playbook.md): a preset (`web-shop`, the default, or `non-profit` for
     * donors), optionally with its own `ladder` and/or `actions` replacing the preset's.
     */
    playbook: playbookSettingsSchema.prefault({}),
  })
  .superRefine((config, context) => {
    if (config.period === 'campaign' && config.campaigns === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['campaigns'],
        message: 'period "campaign" needs campaigns: the start dates, e.g. ["2024-03-01", "2024-11-15"]',
      });
    }
    // Campaigns are discrete opportunities (an appeal); memberships renew by the calendar.
    if (config.period === 'campaign' && config.family !== 'noncontractual-discrete') {
      context.addIssue({
        code: 'custom',
        path: ['period'],
        message:
          'period "campaign" is for the noncontractual-discrete family (donors answering appeals); set "family": "noncontractual-discrete", or use "year" or "month"',
      });
    }
  });
export type RecalcConfig = z.infer<typeof recalcConfigSchema>;
export type RecalcConfigInput = z.input<typeof recalcConfigSchema>;

/** The sources a run reads name different periods in their `sources` entries. */
export class SourcePeriodConflictError extends CvmError {
  override readonly name = 'SourcePeriodConflictError';
  readonly code = 'config_invalid';
}

/**
 * Each source's family: its `sources` entry, else `contractual` when it has a subscriptions export,
 * else the run's `family`.
 */
export function sourceFamiliesOf(
  config: Pick<RecalcConfig, 'family' | 'sources'>,
  sources: Iterable<string>,
  withSubscriptions: ReadonlySet<string>,
): Record<string, ModelFamily> {
  const families: Record<string, ModelFamily> = {};
  for (const source of sources) {
    // The bundled sample is a web shop's orders (CDNOW): continuous whatever the run's family.
    const unconfigured =
      source === SAMPLE_SOURCE
        ? 'noncontractual-continuous'
        : withSubscriptions.has(source)
          ? 'contractual'
          : config.family;
    families[source] = config.sources?.[source]?.family ?? unconfigured;
  }
  return families;
}

/**
 * The period of a run reading `sources`: the one their `sources` entries name (they must agree),
 * else the run's `period`. Throws naming the entries that disagree.
 */
export function runPeriodOf(config: Pick<RecalcConfig, 'period' | 'sources'>, sources: readonly string[]) {
  const named = sources
    .map((source) => ({ source, period: config.sources?.[source]?.period }))
    .filter((entry): entry is { source: string; period: FamilyPeriod } => entry.period !== undefined);
  const periods = [...new Set(named.map((entry) => entry.period))];
  if (periods.length > 1) {
    throw new SourcePeriodConflictError(
      `${RECALC_CONFIG_KEY}: the sources of one run must share a period, but ${named.map((e) => `sources.${e.source}.period is "${e.period}"`).join(', ')}; run them separately or give them one period`,
    );
  }
  return periods[0] ?? config.period;
}

/**
 * Validates a configuration document; the error names the source and every offending field path,
 * e.g. `config/recalc.json: clv.horizonMonths: Too big: expected number to be <=120`.
 */
export function parseRecalcConfig(input: unknown, source = RECALC_CONFIG_KEY): RecalcConfig {
  const parsed = recalcConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    throw new Error(`${source}: invalid recalculation settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Every default segment name appears in the default grid (and vice versa). */
export const DEFAULT_SEGMENTS: readonly string[] = DEFAULT_SEGMENT_NAMES;
