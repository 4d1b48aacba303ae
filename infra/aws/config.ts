/**
 * Deployment configuration of the CDK app: the schema of the `cvm` context block, a default for every
 * field, and parsing whose errors name the key.
 */
import * as z from 'zod';
import { modelChoiceSchema } from '#domain/recalc-config.ts';

/** The CDK context key (in `cdk.json` → `context`) that holds the deployment configuration. */
export const CONTEXT_KEY = 'cvm';

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

function isIanaTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** A CORS origin is scheme + host (+ port), without path or trailing slash, e.g. `https://app.example.com`. */
const corsOriginSchema = z
  .string()
  .regex(
    /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i,
    'must be an origin such as https://app.example.com (scheme and host, no path or trailing slash)',
  );

const apiClientSchema = z.object({
  /** Name of the calling application; becomes the API key and usage plan name. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"'),
  /** Steady-state requests per second allowed for this application. */
  rateLimit: z.number().positive().max(10_000).default(20),
  /** Burst of requests allowed for this application. */
  burstLimit: z.number().int().positive().max(5_000).default(40),
  /** Requests per day; omit for no quota. */
  quotaPerDay: z.number().int().positive().optional(),
});

/**
 * Deployment configuration read from CDK context `cvm` at synth time. Every field has a default so a
 * fresh clone deploys as-is; `cdk.json` lists them all so they are easy to find and change.
 */
export const deploymentConfigSchema = z.object({
  /** Short name that prefixes the stack and resource names: one deployment per name and account. */
  environmentName: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be 1-20 lowercase letters, digits or "-", starting with a letter')
    .default('dev'),
  /** EventBridge Scheduler expression of the recalculation; `cron(...)` is read in `scheduleTimezone`. */
  scheduleExpression: z
    .string()
    .regex(/^(cron|rate)\(.+\)$/, 'must be an EventBridge Scheduler expression such as cron(0 3 ? * MON *)')
    .default('cron(0 3 ? * MON *)'),
  /** IANA time zone of the schedule, so 03:00 stays 03:00 across daylight saving time. */
  scheduleTimezone: z
    .string()
    .refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Amsterdam')
    .default('Europe/Amsterdam'),
  /** Whether the weekly schedule starts enabled. */
  scheduleEnabled: z.boolean().default(true),
  /** Weeks that run snapshots and customer history are kept (DynamoDB TTL). */
  retentionWeeks: z.number().int().min(1).max(520).default(26),
  /** Where alarm notifications go; empty = alarms only, no subscription. */
  alarmEmail: z.union([z.literal(''), z.email('must be an e-mail address or empty')]).default(''),
  /** Browser origins allowed by CORS on the API; empty = no CORS. */
  corsOrigins: z.array(corsOriginSchema).default([]),
  /** ISO 4217 currency assumed when an export has no currency column. */
  defaultCurrency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR')
    .default('EUR'),
  /** Purchase model of scheduled recalculations (`auto` picks the best on the holdout check). */
  model: modelChoiceSchema.default('bgnbd'),
  /**
   * CLV settings of scheduled recalculations. Omit to use `config/recalc.json` in the bucket (or its
   * defaults): when set here, they override that file for scheduled runs.
   */
  clv: z
    .object({
      horizonMonths: z.number().int().min(1).max(120),
      annualDiscountRate: z.number().min(0).max(1),
      margin: z.number().gt(0).max(1),
    })
    .partial()
    .optional(),
  /** Retention of every log group (Lambda, API access logs, state machine). */
  logRetentionDays: z
    .number()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .default(30),
  /**
   * Transactions the clean data is expected to hold (all sources, all history) before the next
   * deployment: sizes the Athena bytes-scanned cutoff (see {@link athenaBytesScannedCutoffMbOf}).
   */
  expectedTransactions: z.number().int().min(1).default(100_000_000),
  /**
   * Athena stops (and bills no further) any query that would scan more than this. Minimum 10 MB.
   * Omit to derive it from `expectedTransactions`.
   */
  athenaBytesScannedCutoffMb: z.number().int().min(10).optional(),
  /**
   * The scoring Map's MaxConcurrency: parallel ScorePart invocations. Each writes ≈ 8,000 WRU/s (4
   * BatchWriteItem calls of 25 items in flight, item + GSI1), so the default 4 stays inside a table
   * pre-warmed to 40,000 WRU/s (docs/scale.md, "Map concurrency"); raise it with the table's throughput.
   */
  scoreMaxConcurrency: z.number().int().min(1).max(1_000).default(4),
  /** Parallel ingest invocations fed by the queue (SQS event source maximum concurrency, 2 or more). */
  ingestMaxConcurrency: z.number().int().min(2).max(1_000).default(4),
  /** Stage-wide throttling of the API (requests per second and burst). */
  apiThrottle: z
    .object({
      rateLimit: z.number().positive().default(100),
      burstLimit: z.number().int().positive().default(200),
    })
    .default({ rateLimit: 100, burstLimit: 200 }),
  /** One API key and usage plan per calling application. */
  apiClients: z
    .array(apiClientSchema)
    .min(1)
    .default([{ name: 'default', rateLimit: 20, burstLimit: 40 }]),
  /** Reject ratio (rejected rows / rows read) above which the ingest alarm fires. */
  rejectRatioAlarmThreshold: z.number().gt(0).max(1).default(0.05),
  /**
   * Days an uploaded export (and each earlier version of it) stays in `incoming/` after upload. Its
   * rows live on in clean Parquet; the raw file is personal data nothing reads again after its ingest.
   */
  incomingRetentionDays: z.number().int().min(1).max(3650).default(30),
  /**
   * Keep the data bucket, access-log bucket and table when the stack is deleted. Set to false only
   * for throw-away test environments.
   */
  retainData: z.boolean().default(true),
});

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof deploymentConfigSchema>;

/**
 * Validates the `cvm` context value. `cdk -c cvm='{"environmentName":"prod"}'` passes a JSON string,
 * `cdk.json` an object; both are accepted. Errors name the context key and the offending value.
 */
export function parseDeploymentConfig(raw: unknown): DeploymentConfig {
  let value = raw ?? {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new Error(
        `Invalid CDK context "${CONTEXT_KEY}": not a JSON object (${(error as Error).message}). ` +
          `Set it in cdk.json under context.${CONTEXT_KEY} or pass -c ${CONTEXT_KEY}='{"environmentName":"prod"}'.`,
      );
    }
  }
  const parsed = deploymentConfigSchema.strict().safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = [CONTEXT_KEY, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown key(s) ${issue.keys.join(', ')} (known: ${Object.keys(deploymentConfigSchema.shape).join(', ')})`;
    }
    return `${path}: ${issue.message}`;
  });
  throw new Error(`Invalid CDK context in cdk.json:\n  ${problems.join('\n  ')}`);
}

/**
 * Bytes a statement scans per clean transaction: ~30 B/row for the columns the SQL reads (ids,
 * order_ts, amount, currency, ingest columns; Parquet, Snappy, dictionary-encoded ids), docs/scale.md.
 */
export const ATHENA_BYTES_PER_TRANSACTION = 30;
/**
 * Headroom over the estimate: growth between deployments, the economics columns the run profile
 * reads, Parquet overhead of many small files. Twice the estimate still stops a runaway query (a
 * missing source filter, a cross join) at a bounded cost.
 */
export const ATHENA_CUTOFF_MARGIN = 2;
/** The cutoff never goes below 10 GiB: small deployments keep Athena's usual guard. */
export const ATHENA_CUTOFF_FLOOR_MB = 10_240;

/**
 * The workgroup's bytes-scanned cutoff in MiB: the configured value, else
 * max(floor, ⌈expectedTransactions × bytes per transaction × margin ÷ 2^20⌉). Every statement scans
 * the clean table once, so the cutoff of one query is the size of one scan.
 */
export function athenaBytesScannedCutoffMbOf(
  config: Pick<DeploymentConfig, 'expectedTransactions' | 'athenaBytesScannedCutoffMb'>,
): number {
  if (config.athenaBytesScannedCutoffMb !== undefined) return config.athenaBytesScannedCutoffMb;
  const estimateMb = Math.ceil(
    (config.expectedTransactions * ATHENA_BYTES_PER_TRANSACTION * ATHENA_CUTOFF_MARGIN) / 2 ** 20,
  );
  return Math.max(ATHENA_CUTOFF_FLOOR_MB, estimateMb);
}
