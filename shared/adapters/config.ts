/**
 * The runtime configuration every handler reads from its environment: its schema, the variable names the
 * CDK app and the local stack both set, and reading and writing them.
 */
import * as z from 'zod';

/**
 * Runtime configuration shared by every handler, read from the environment once.
 *
 * The same variables are set by the CDK app in AWS and by the embedded local stack, so a handler
 * never knows which of the two it runs in; only the optional endpoints differ.
 */
export const runtimeConfigSchema = z.object({
  /** AWS region; the local stack uses a fixed dummy region. */
  region: z.string().min(1).default('eu-west-1'),
  /** Bucket that holds `incoming/`, `clean/`, `rejected/`, `quarantine/`, `config/`, `runs/`. */
  bucket: z.string().min(1),
  /** Single DynamoDB table holding ingest reports, runs, scores, locks and the suppression list. */
  table: z.string().min(1),
  /** Set only for the local stand-ins (s3rver); path-style addressing is then forced. */
  s3Endpoint: z.url().optional(),
  /** Set only for the local stand-in (dynalite). */
  dynamoEndpoint: z.url().optional(),
  /** Static credentials for the local stand-ins; in AWS the default provider chain is used. */
  localCredentials: z.boolean().default(false),
  /** ISO 4217 currency assumed when an export has no currency column. */
  defaultCurrency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'CVM_DEFAULT_CURRENCY must be a three-letter ISO 4217 code such as EUR')
    .default('EUR'),
  /** How long run snapshots and customer history are kept before DynamoDB TTL removes them. */
  retentionWeeks: z.coerce.number().int().min(1).max(520).default(26),
  /** EventBridge bus for change events (AWS); locally events go to a JSON Lines file instead. */
  eventBusName: z.string().optional(),
  /** Athena workgroup and Glue database (AWS only). */
  athenaWorkgroup: z.string().optional(),
  glueDatabase: z.string().optional(),
  /** Step Functions state machine that runs a recalculation (AWS only; `POST /runs` starts it). */
  stateMachineArn: z.string().optional(),
  /**
   * Step Functions state machine of the erasure job that rewrites stored files without suppressed
   * customers (AWS only; `DELETE /customers/{id}` starts it).
   */
  erasureStateMachineArn: z.string().optional(),
  /** Comma-separated origins allowed by CORS on the API; empty = no CORS headers. */
  corsOrigins: z.string().optional(),
  /** Local state directory (local mode only). */
  home: z.string().optional(),
  /**
   * The recalculation Map's concurrency when the deployment sets one (AWS): `prepare` sizes the
   * run's index shards from it. Absent: the pipeline's own default.
   */
  scoreMaxConcurrency: z.coerce.number().int().min(1).max(1_000).optional(),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** Environment variable names, in one place so CDK and the local stack set the same ones. */
export const ENV = {
  region: 'AWS_REGION',
  bucket: 'CVM_BUCKET',
  table: 'CVM_TABLE',
  s3Endpoint: 'CVM_S3_ENDPOINT',
  dynamoEndpoint: 'CVM_DYNAMODB_ENDPOINT',
  localCredentials: 'CVM_LOCAL_CREDENTIALS',
  defaultCurrency: 'CVM_DEFAULT_CURRENCY',
  retentionWeeks: 'CVM_RETENTION_WEEKS',
  eventBusName: 'CVM_EVENT_BUS',
  athenaWorkgroup: 'CVM_ATHENA_WORKGROUP',
  glueDatabase: 'CVM_GLUE_DATABASE',
  stateMachineArn: 'CVM_STATE_MACHINE_ARN',
  erasureStateMachineArn: 'CVM_ERASURE_STATE_MACHINE_ARN',
  corsOrigins: 'CVM_CORS_ORIGINS',
  home: 'CVM_HOME',
  scoreMaxConcurrency: 'CVM_SCORE_MAX_CONCURRENCY',
} as const satisfies Record<keyof RuntimeConfig, string>;

/** Reads and validates the runtime configuration; the error names every missing variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const raw: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[field] = value;
  }
  if (typeof raw.localCredentials === 'string') raw.localCredentials = raw.localCredentials === 'true';
  const parsed = runtimeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = String(issue.path[0] ?? '');
      const variable = ENV[field as keyof typeof ENV] ?? field;
      return `${variable}: ${issue.message}`;
    });
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The inverse of {@link configFromEnv}: the variables that reproduce a configuration. */
export function configToEnv(config: RuntimeConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [field, name] of Object.entries(ENV)) {
    const value = config[field as keyof RuntimeConfig];
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}
