/**
 * CDK construct every pipeline Lambda is built with: runtime, architecture, ESM bundling, log group and
 * a least-privilege role decided in one place.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Root of the repository (this file is infra/aws/constructs/pipeline-function.ts). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** CloudWatch namespace of the pipeline's own (EMF) metrics, shared with the Powertools metrics setup. */
export const METRICS_NAMESPACE = 'CvmPipeline';

/**
 * Bundles are ES modules; some dependencies are CommonJS and call `require` for Node built-ins,
 * which ESM lacks. The banner provides it. The alias avoids clashing with bundled identifiers.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __cvmCreateRequire } from 'node:module'; const require = __cvmCreateRequire(import.meta.url);";

export interface PipelineFunctionProps {
  /** Handler file relative to the repository root, e.g. `functions/api/handler.ts`. */
  readonly entry: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Powertools service name (logger and metrics `service` dimension). */
  readonly serviceName: string;
  /** @default lambda.Architecture.ARM_64 (cheaper per GB-second; only native modules need x86_64) */
  readonly architecture?: lambda.Architecture;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default Size.mebibytes(512) (the free amount) */
  readonly ephemeralStorageSize?: Size;
  /** Variables on top of the Powertools ones. @default {} */
  readonly environment?: Record<string, string>;
  /** Retention of the function's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Reserved concurrency, to cap pressure on a downstream. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Packages esbuild must leave out of the bundle. @default [] (everything, AWS SDK included, is bundled) */
  readonly externalModules?: string[];
  /** Hooks around esbuild, e.g. to copy native modules next to the bundle. @default - none */
  readonly commandHooks?: nodejs.ICommandHooks;
}

/**
 * A Node.js Lambda function with the pipeline's defaults built in once: nodejs22.x, ARM64, ESM bundle
 * with source maps and the AWS SDK bundled (pinned SDK version, faster cold start than the runtime's
 * copy), its own log group with a retention, and its own role that can write only to that log group
 * (no AWSLambdaBasicExecutionRole managed policy with its `*` resource). Callers grant the rest.
 */
export class PipelineFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const entry = join(PROJECT_ROOT, props.entry);
    if (!existsSync(entry)) {
      throw new Error(`${this.node.path}: Lambda entry ${props.entry} does not exist (expected at ${entry})`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: props.handler ?? 'handler',
      description: props.description,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      ephemeralStorageSize: props.ephemeralStorageSize ?? Size.mebibytes(512),
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
        banner: ESM_REQUIRE_BANNER,
        externalModules: props.externalModules ?? [],
        ...(props.commandHooks ? { commandHooks: props.commandHooks } : {}),
      },
    });
  }
}
