/**
 * CDK construct of the weekly recalculation: Glue table and Athena workgroup over the clean Parquet, the
 * state machine built from the shared step list, its schedule and the change-event bus.
 */
import { Aws, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENV } from '#adapters/config.ts';
import {
  CUSTOMER_ATTRIBUTES_RELATION,
  SUBSCRIPTIONS_RELATION,
  TRANSACTIONS_RELATION,
} from '#adapters/warehouse/queries.ts';
import {
  type LambdaStep,
  type MapStep,
  RECALC_PIPELINE,
  type RecalcHandlerName,
  type ResultPath,
  type RetryRule,
  resumableSteps,
  type WarehouseStep,
  warehouseQueries,
} from '#app/recalc/pipeline.ts';
import {
  CLEAN_CUSTOMER_ATTRIBUTES_PREFIX,
  CLEAN_SUBSCRIPTIONS_PREFIX,
  CLEAN_TRANSACTIONS_PREFIX,
} from '#domain/bucket-layout.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { DATA_PREFIXES, type Storage } from './storage.ts';

/** Entry of the recalculation steps; each step is a named export of it. */
export const RECALC_ENTRY = 'functions/recalc/handler.ts';

/**
 * Every query of a run (`queries: {<name>: UNLOAD text}` rendered by the Lambda step before each
 * warehouse step): the state machine runs each as an Athena `.sync` task, so no Lambda waits for a
 * query. The customer-summary UNLOAD writes the Parquet parts the Distributed Map scores
 * (`summaryPrefix`); the other outputs are read by the next Lambda step.
 */
export const SUMMARY_QUERIES: readonly string[] = warehouseQueries(RECALC_PIPELINE);

/**
 * Columns of `clean/transactions/` Parquet files, exactly as documented in
 * `shared/domain/transaction.ts` (Hive/Glue type names).
 */
export const TRANSACTION_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'customer_id', type: 'string' },
  { name: 'order_id', type: 'string' },
  { name: 'order_ts', type: 'timestamp' },
  { name: 'amount', type: 'decimal(18,2)' },
  { name: 'currency', type: 'string' },
  { name: 'channel', type: 'string' },
  { name: 'quantity', type: 'bigint' },
  { name: 'ingest_id', type: 'string' },
  { name: 'ingested_at', type: 'timestamp' },
  { name: 'line_number', type: 'bigint' },
  // Order economics, nullable. Athena reads Parquet columns by name, so files written before these
  // columns existed read them as NULL.
  { name: 'cost', type: 'decimal(18,2)' },
  { name: 'margin_amount', type: 'decimal(18,2)' },
  { name: 'discount', type: 'decimal(18,2)' },
  { name: 'shipping_cost', type: 'decimal(18,2)' },
  { name: 'returned_amount', type: 'decimal(18,2)' },
  { name: 'returned', type: 'boolean' },
];

/**
 * Columns of `clean/customer_attributes/` Parquet files, as the ingest writes them
 * (`CLEAN_ATTRIBUTE_COLUMNS` in shared/adapters/ingest/attributes-ingest.ts; Hive/Glue type names).
 */
export const CUSTOMER_ATTRIBUTE_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'customer_id', type: 'string' },
  { name: 'updated_at', type: 'timestamp' },
  { name: 'acquired_at', type: 'timestamp' },
  { name: 'acquisition_channel', type: 'string' },
  { name: 'acquisition_cost', type: 'decimal(18,2)' },
  { name: 'service_contacts', type: 'bigint' },
  { name: 'service_cost', type: 'decimal(18,2)' },
  { name: 'satisfaction_scale', type: 'string' },
  { name: 'satisfaction_score', type: 'bigint' },
  { name: 'marketing_consent', type: 'boolean' },
  { name: 'ingest_id', type: 'string' },
  { name: 'ingested_at', type: 'timestamp' },
  { name: 'line_number', type: 'bigint' },
];

/**
 * Columns of `clean/subscriptions/` Parquet files, as the ingest writes them
 * (`CLEAN_SUBSCRIPTION_COLUMNS` in shared/adapters/ingest/subscriptions-ingest.ts; Hive/Glue type
 * names). Parquet columns are nullable: an active subscription has no `cancelled_at`.
 */
export const SUBSCRIPTION_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'customer_id', type: 'string' },
  { name: 'subscription_id', type: 'string' },
  { name: 'plan', type: 'string' },
  { name: 'started_at', type: 'timestamp' },
  { name: 'cancelled_at', type: 'timestamp' },
  { name: 'fee', type: 'decimal(18,2)' },
  { name: 'currency', type: 'string' },
  { name: 'ingest_id', type: 'string' },
  { name: 'ingested_at', type: 'timestamp' },
  { name: 'line_number', type: 'bigint' },
];

/**
 * A Glue table over one clean data set: Parquet, Hive partitions `source` and `ingest_date` by
 * partition projection (Athena computes partition locations from the query instead of reading them
 * from the catalog, so new uploads are queryable without a crawler or MSCK REPAIR; `injected` means a
 * query must name the source(s) it reads).
 */
function cleanTableInput(
  name: string,
  description: string,
  location: string,
  columns: glue.CfnTable.ColumnProperty[],
): glue.CfnTable.TableInputProperty {
  return {
    name,
    description,
    tableType: 'EXTERNAL_TABLE',
    partitionKeys: [
      { name: 'source', type: 'string' },
      { name: 'ingest_date', type: 'date' },
    ],
    parameters: {
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'projection.enabled': 'true',
      'projection.source.type': 'injected',
      'projection.ingest_date.type': 'date',
      'projection.ingest_date.format': 'yyyy-MM-dd',
      'projection.ingest_date.range': '2000-01-01,NOW',
      'projection.ingest_date.interval': '1',
      'projection.ingest_date.interval.unit': 'DAYS',
      'storage.location.template': `${location}source=\${source}/ingest_date=\${ingest_date}/`,
    },
    storageDescriptor: {
      columns,
      location,
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  };
}

export interface RecalculationProps {
  readonly storage: Storage;
  /** Runtime variables shared by every function (bucket, table, currency, retention). */
  readonly environment: Record<string, string>;
  /** Prefix of named resources (workgroup, Glue database), e.g. `cvm-dev`. */
  readonly namePrefix: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default 'cron(0 3 ? * MON *)' (Mondays 03:00) */
  readonly scheduleExpression?: string;
  /** @default 'Europe/Amsterdam' */
  readonly scheduleTimezone?: string;
  /** @default true */
  readonly scheduleEnabled?: boolean;
  /** Execution input of scheduled runs (model and CLV defaults). @default {} */
  readonly scheduleInput?: Record<string, unknown>;
  /**
   * Athena cancels a query that would scan more (the deployment derives it from the expected
   * transactions, see `athenaBytesScannedCutoffMbOf`). @default 10240 (10 GiB)
   */
  readonly bytesScannedCutoffMb?: number;
  /** Concurrent ScorePart invocations: bounds DynamoDB write throughput. @default 4 */
  readonly scoreMaxConcurrency?: number;
  /** A run that takes longer is stopped (and its lock lease ends on its own). @default Duration.hours(4) */
  readonly timeout?: Duration;
}

type StepName = RecalcHandlerName;

/**
 * The weekly recalculation: Glue table with partition projection over the clean Parquet, an Athena
 * workgroup, the Step Functions state machine that runs the steps, the schedule that starts it and
 * the EventBridge bus Finalize publishes change events on.
 */
export class Recalculation extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly transactionsTable: glue.CfnTable;
  readonly customerAttributesTable: glue.CfnTable;
  readonly subscriptionsTable: glue.CfnTable;
  readonly workgroup: athena.CfnWorkGroup;
  readonly eventBus: events.EventBus;
  readonly steps: Record<StepName, PipelineFunction>;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineLogGroup: logs.LogGroup;
  readonly schedule: scheduler.Schedule;
  /** Routes unfinished execution ends (timed out, stopped, uncaught failure) to the lock release. */
  readonly executionEndedRule: events.Rule;

  constructor(scope: Construct, id: string, props: RecalculationProps) {
    super(scope, id);
    const { storage } = props;
    const bucketName = storage.dataBucket.bucketName;

    // --- Warehouse: Glue table (partition projection, no crawler) and Athena workgroup ---------------
    this.databaseName = props.namePrefix.replace(/[^a-z0-9]/g, '_');
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.databaseName,
        description: 'Customer Value Management: clean transactions',
      },
    });
    this.transactionsTable = new glue.CfnTable(this, 'TransactionsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: cleanTableInput(
        TRANSACTIONS_RELATION,
        'Clean transactions written by the ingest (one Parquet file per accepted export)',
        `s3://${bucketName}/${CLEAN_TRANSACTIONS_PREFIX}`,
        TRANSACTION_COLUMNS,
      ),
    });
    this.transactionsTable.node.addDependency(this.database);
    this.customerAttributesTable = new glue.CfnTable(this, 'CustomerAttributesTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: cleanTableInput(
        CUSTOMER_ATTRIBUTES_RELATION,
        'Clean customer attributes written by the ingest (incoming/<source>/customers/ exports); latest value wins when read',
        `s3://${bucketName}/${CLEAN_CUSTOMER_ATTRIBUTES_PREFIX}`,
        CUSTOMER_ATTRIBUTE_COLUMNS,
      ),
    });
    this.customerAttributesTable.node.addDependency(this.database);
    this.subscriptionsTable = new glue.CfnTable(this, 'SubscriptionsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: cleanTableInput(
        SUBSCRIPTIONS_RELATION,
        'Clean subscriptions written by the ingest (incoming/<source>/subscriptions/ exports); a later export wins per subscription when read',
        `s3://${bucketName}/${CLEAN_SUBSCRIPTIONS_PREFIX}`,
        SUBSCRIPTION_COLUMNS,
      ),
    });
    this.subscriptionsTable.node.addDependency(this.database);

    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: props.namePrefix,
      description: 'Recalculation queries of the CVM pipeline',
      state: 'ENABLED',
      // Lets the stack delete the workgroup although it has query history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: (props.bytesScannedCutoffMb ?? 10_240) * 1024 * 1024,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${bucketName}/${DATA_PREFIXES.athenaResults}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    this.eventBus = new events.EventBus(this, 'ChangeEvents', {
      description: 'Customer segment and value changes published after each recalculation',
    });

    // --- Step functions ---------------------------------------------------------------------------
    const environment = {
      ...props.environment,
      [ENV.eventBusName]: this.eventBus.eventBusName,
      [ENV.athenaWorkgroup]: props.namePrefix,
      [ENV.glueDatabase]: this.databaseName,
      // Prepare sizes the run's index shards for the Map's write rate (index-shards.ts).
      ...(props.scoreMaxConcurrency !== undefined
        ? { [ENV.scoreMaxConcurrency]: String(props.scoreMaxConcurrency) }
        : {}),
    };
    // Functions live in their own scope: their ids would clash with the state names below.
    const functionsScope = new Construct(this, 'Steps');
    const step = (
      name: StepName,
      description: string,
      sizing: { memorySize: number; timeout: Duration },
    ): PipelineFunction =>
      new PipelineFunction(functionsScope, name.charAt(0).toUpperCase() + name.slice(1), {
        entry: RECALC_ENTRY,
        handler: name,
        description: `Recalculation step ${name}: ${description}`,
        serviceName: 'cvm-recalc',
        ...sizing,
        environment,
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
    const short = { memorySize: 512, timeout: Duration.minutes(1) };
    this.steps = {
      acquireLock: step('acquireLock', 'takes the run lock', short),
      // The steps before the summaries render statements and read small results; Athena runs the
      // statements between them as task states, so none of these waits for a query.
      prepare: step('prepare', 'reads the settings and lists the sources', {
        memorySize: 1024,
        timeout: Duration.minutes(5),
      }),
      selectData: step('selectData', 'selects the data the run reads', {
        memorySize: 1024,
        timeout: Duration.minutes(2),
      }),
      planRun: step('planRun', 'renders the summary and fit statements', {
        memorySize: 1024,
        timeout: Duration.minutes(2),
      }),
      // Fitting is CPU-bound and reads the customer summaries for the value-tier thresholds:
      // 3008 MB buys about two vCPUs and room for a million summaries.
      fitModels: step('fitModels', 'fits the BTYD models', {
        memorySize: 3008,
        timeout: Duration.minutes(15),
      }),
      scorePart: step('scorePart', 'scores one Parquet part', {
        memorySize: 1769,
        timeout: Duration.minutes(10),
      }),
      finalize: step('finalize', 'publishes the run', { memorySize: 1024, timeout: Duration.minutes(15) }),
      // Stops a minute before its timeout and is invoked again from its checkpoint until done.
      sendChangeEvents: step('sendChangeEvents', 'sends the change events of the run', {
        memorySize: 512,
        timeout: Duration.minutes(15),
      }),
      releaseLock: step('releaseLock', 'releases the run lock', short),
      executionEnded: step(
        'executionEnded',
        'releases the lock of an execution that ended unfinished',
        short,
      ),
    };
    this.grantStepPermissions(storage);

    // --- State machine ---------------------------------------------------------------------------
    // Built from the pipeline definition (shared/app/recalc/pipeline.ts): state names, order, the
    // Athena tasks, the Distributed Map, retries and the catch → release-lock-as-failed path. Each
    // step returns the next state object (execution input → LockedRun → PreparedRun → FittedRun).
    const pipeline = RECALC_PIPELINE;
    const retry = (rule: RetryRule): sfn.RetryProps => ({
      errors: [...rule.errors],
      interval: Duration.seconds(rule.intervalSeconds),
      maxAttempts: rule.maxAttempts,
      backoffRate: rule.backoffRate,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const resultPath = (path: ResultPath) => (path === null ? sfn.JsonPath.DISCARD : path);
    const invoke = (step: LambdaStep, stateName = step.stateName, comment = step.comment) =>
      new tasks.LambdaInvoke(this, stateName, {
        comment,
        lambdaFunction: this.steps[step.handler].function,
        // No payload given: the whole state is the payload. The function's result is the output.
        payloadResponseOnly: true,
        resultPath: resultPath(step.resultPath),
        // Replaced by the explicit retry below (same errors, with jitter and more attempts).
        retryOnServiceExceptions: false,
      }).addRetry(retry(step.retry));

    const athenaQuery = (step: WarehouseStep, name: string) =>
      new sfn.CustomState(this, step.queryStateName(name), {
        // A raw state instead of tasks.AthenaStartQueryExecution: that task grants S3 access to every
        // bucket and Glue create/delete; the role here gets exactly what these queries need.
        stateJson: {
          Type: 'Task',
          Comment: `Athena query ${name} (rendered by the step before), waits for completion`,
          Resource: `arn:${Aws.PARTITION}:states:::athena:startQueryExecution.sync`,
          Parameters: {
            'QueryString.$': `$.queries.${name}`,
            WorkGroup: props.namePrefix,
            QueryExecutionContext: { Database: this.databaseName },
          },
          ResultSelector: {
            'queryExecutionId.$': '$.QueryExecution.QueryExecutionId',
            'outputLocation.$': '$.QueryExecution.ResultConfiguration.OutputLocation',
          },
        },
      }).addRetry(retry(step.retry));
    const warehouseStep = (step: WarehouseStep): sfn.INextable & sfn.IChainable => {
      const parallel = new sfn.Parallel(this, step.stateName, {
        comment: step.comment,
        resultPath: resultPath(step.resultPath),
        resultSelector: Object.fromEntries(step.queries.map((name, index) => [`${name}.$`, `$[${index}]`])),
      });
      for (const name of step.queries) {
        const query = athenaQuery(step, name);
        if (!step.optionalQueries.includes(name)) {
          parallel.branch(query);
          continue;
        }
        // A query the run did not render (no calibration period: no holdout statements) is skipped.
        const stateName = step.queryStateName(name);
        parallel.branch(
          new sfn.Choice(this, `${stateName}IfRendered`, { comment: `Runs ${name} when the run rendered it` })
            .when(sfn.Condition.isPresent(`$.queries.${name}`), query)
            .otherwise(
              new sfn.Pass(this, `${stateName}Skipped`, { result: sfn.Result.fromObject({ skipped: true }) }),
            ),
        );
      }
      return parallel;
    };
    const mapStep = (step: MapStep) => {
      const map = new sfn.DistributedMap(this, step.stateName, {
        comment: step.comment,
        itemReader: new sfn.S3ObjectsItemReader({
          bucket: storage.dataBucket,
          prefix: sfn.JsonPath.stringAt(`$.${step.itemsPrefixField}`),
        }),
        itemSelector: {
          run: sfn.JsonPath.objectAt('$'),
          partKey: sfn.JsonPath.stringAt('$$.Map.Item.Value.Key'),
        },
        // Each ScorePart writes with BatchWriteItem; this bounds the table's write burst.
        maxConcurrency: props.scoreMaxConcurrency ?? step.maxConcurrency,
        // Every part runs to its end; Finalize's part check fails the run (naming the parts) when more
        // failed than the run's config tolerates.
        toleratedFailurePercentage: step.toleratedFailurePercentage,
        // Part results can outgrow the 256 KB state limit; ScorePart stores each in S3 instead.
        resultPath: sfn.JsonPath.DISCARD,
      });
      map.itemProcessor(
        invoke(
          {
            kind: 'lambda',
            name: step.name,
            stateName: step.itemStateName,
            handler: step.handler,
            resultPath: '$',
            comment: step.itemComment,
            retry: step.retry,
          },
          step.itemStateName,
          step.itemComment,
        ).addRetry(retry(step.itemRetry)),
      );
      return map;
    };

    // The acquire step records the execution as the lock holder (payload: the execution input plus
    // `lockHolder`), so the end of an execution that never reached its release can be matched to
    // the lock it still holds.
    const acquireLock = new tasks.LambdaInvoke(this, pipeline.acquire.stateName, {
      comment: pipeline.acquire.comment,
      lambdaFunction: this.steps[pipeline.acquire.handler].function,
      payload: sfn.TaskInput.fromJsonPathAt(
        sfn.JsonPath.jsonMerge(
          sfn.JsonPath.objectAt('$'),
          sfn.JsonPath.stringToJson(
            sfn.JsonPath.format('\\{"lockHolder":"{}"\\}', sfn.JsonPath.stringAt(pipeline.lockHolderPath)),
          ),
        ),
      ),
      // A computed payload needs the lambda:invoke integration (its Parameters); the handler's
      // result is then the response's Payload.
      payloadResponseOnly: false,
      resultPath: resultPath(pipeline.acquire.resultPath),
      outputPath: '$.Payload',
      retryOnServiceExceptions: false,
    }).addRetry(retry(pipeline.acquire.retry));
    // Everything after the lock runs inside one Parallel so a single Catch covers the whole chain:
    // on any error the lock is released (the payload carries the error) and the execution fails.
    // Its input is the LockedRun, so the handler knows which run to release and record as failed.
    const recalculate = new sfn.Parallel(this, pipeline.body.stateName, {
      comment: pipeline.body.comment,
      outputPath: '$[0]',
    });
    let chain: sfn.Chain | undefined;
    // The state each step starts with, for the resume Choice below.
    const stepStates = new Map<string, sfn.IChainable>();
    for (const step of pipeline.body.steps) {
      const state =
        step.kind === 'lambda'
          ? invoke(step)
          : step.kind === 'warehouse'
            ? warehouseStep(step)
            : mapStep(step);
      stepStates.set(step.name, state);
      chain = chain ? chain.next(state) : sfn.Chain.start(state);
      if (step.kind === 'lambda' && step.repeatUntilDone) {
        // Loop back while the step reports `done: false` (it stopped before its timeout).
        const choice = new sfn.Choice(this, step.repeatUntilDone.choiceStateName, {
          comment: `Runs ${step.stateName} again until it reports done`,
        })
          .when(sfn.Condition.booleanEquals(`${step.resultPath}.done`, false), state)
          .otherwise(new sfn.Pass(this, step.repeatUntilDone.doneStateName));
        chain = chain.next(choice.afterwards());
      }
    }
    // A resumed run (acquireLock's output names `resumeAt`, with the state that step started with)
    // jumps to that step; every other run starts at the first.
    const resumeAt = new sfn.Choice(this, pipeline.body.resumeChoiceStateName, {
      comment: 'A resumed run starts at the step its checkpoint names ($.resumeAt)',
    });
    for (const step of resumableSteps(pipeline)) {
      const state = stepStates.get(step.name);
      if (!state) continue;
      resumeAt.when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.resumeAt'),
          sfn.Condition.stringEquals('$.resumeAt', step.name),
        ),
        state,
      );
    }
    resumeAt.otherwise(chain!.startState as sfn.State);
    recalculate.branch(resumeAt);
    const failed = new sfn.Fail(this, pipeline.onFailure.failStateName, {
      comment: 'The run failed; its lock was released and the run recorded as failed',
      errorPath: `${pipeline.onFailure.errorPath}.Error`,
      causePath: `${pipeline.onFailure.errorPath}.Cause`,
    });
    const releaseLockAfterFailure = invoke(pipeline.onFailure).next(failed);
    recalculate.addCatch(releaseLockAfterFailure, {
      errors: [...pipeline.onFailure.errors],
      resultPath: pipeline.onFailure.errorPath,
    });
    // Not getting the lock (another run holds it) ends the execution; there is nothing to release.
    acquireLock.addCatch(
      new sfn.Fail(this, pipeline.acquire.lockFailedStateName, {
        comment: 'Another recalculation holds the lock',
        errorPath: '$.error.Error',
        causePath: '$.error.Cause',
      }),
      { errors: ['States.ALL'], resultPath: '$.error' },
    );

    const definition = acquireLock
      .next(recalculate)
      .next(invoke(pipeline.release))
      .next(new sfn.Succeed(this, pipeline.succeedStateName));

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Weekly CLV recalculation',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(4),
      tracingEnabled: true,
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.grantAthenaQueries(this.stateMachine.role, storage);

    // Timeouts, StopExecution and errors the Catch cannot handle (States.Runtime,
    // States.DataLimitExceeded) skip the release path: their status-change events release the lock.
    this.executionEndedRule = new events.Rule(this, 'ExecutionEndedUnfinished', {
      description: pipeline.onExecutionEnded.comment,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: [...pipeline.onExecutionEnded.statuses],
        },
      },
      targets: [
        new eventsTargets.LambdaFunction(this.steps[pipeline.onExecutionEnded.handler].function, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });

    // --- Schedule ---------------------------------------------------------------------------------
    this.schedule = new scheduler.Schedule(this, 'WeeklySchedule', {
      description: 'Starts the weekly recalculation',
      schedule: scheduler.ScheduleExpression.expression(
        props.scheduleExpression ?? 'cron(0 3 ? * MON *)',
        TimeZone.of(props.scheduleTimezone ?? 'Europe/Amsterdam'),
      ),
      enabled: props.scheduleEnabled ?? true,
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject(props.scheduleInput ?? {}),
        retryAttempts: 3,
      }),
    });
  }

  /** What each step may touch: exact table/index ARNs, bucket prefixes, the bus. */
  private grantStepPermissions(storage: Storage) {
    const tableArns = [storage.table.tableArn, storage.gsi1Arn];
    const { runs } = DATA_PREFIXES;
    const {
      acquireLock,
      prepare,
      selectData,
      planRun,
      fitModels,
      scorePart,
      finalize,
      sendChangeEvents,
      releaseLock,
      executionEnded,
    } = this.steps;
    const allowTable = (fn: PipelineFunction, sid: string, actions: string[], resources = tableArns) =>
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid, actions: actions.map((a) => `dynamodb:${a}`), resources }),
      );

    // Lock and run record (conditional puts on single items).
    allowTable(acquireLock, 'TakeLock', ['GetItem', 'PutItem', 'UpdateItem'], [storage.table.tableArn]);
    // A resume reads the run's checkpoints and input listing, and lists the clean objects to compare.
    storage.grantObjects(acquireLock.role, 'ReadRunCheckpoints', ['s3:GetObject'], [runs]);
    storage.grantList(acquireLock.role, 'ListRunFilesAndCleanData', [runs, DATA_PREFIXES.clean]);
    for (const fn of [releaseLock, executionEnded]) {
      allowTable(
        fn,
        'ReleaseLockAndRecordRun',
        ['GetItem', 'PutItem', 'UpdateItem'],
        [storage.table.tableArn],
      );
    }

    // No step function runs a query (the state machine's Athena tasks do): they get no Athena or
    // Glue permission and no read of clean data, only the run files they read and write.
    allowTable(prepare, 'ReadRunStateAndRecordRun', ['GetItem', 'Query', 'PutItem', 'UpdateItem']);
    storage.grantObjects(prepare.role, 'ReadRunSettings', ['s3:GetObject'], [DATA_PREFIXES.config]);
    // A missing config/recalc.json must answer 404 (defaults apply), not 403.
    storage.grantList(prepare.role, 'ListRunSettings', [DATA_PREFIXES.config]);
    // Which sources have clean data, and whether an object went missing: a listing, no reads.
    storage.grantList(prepare.role, 'ListCleanData', [DATA_PREFIXES.clean]);
    // The suppression snapshot, and the empty UNLOAD targets of the statements each step renders.
    for (const fn of [prepare, selectData, planRun]) {
      storage.grantObjects(
        fn.role,
        'ReadResultsClearTargets',
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        [runs],
      );
      storage.grantList(fn.role, 'ListRunFiles', [runs]);
    }
    allowTable(selectData, 'RenewLease', ['GetItem', 'PutItem', 'UpdateItem'], [storage.table.tableArn]);
    allowTable(planRun, 'RecordRun', ['GetItem', 'PutItem', 'UpdateItem'], [storage.table.tableArn]);
    // FitModels reads the query results and summary parts, and writes the backtest's assignments.
    storage.grantObjects(
      fitModels.role,
      'ReadResultsWriteBacktest',
      ['s3:GetObject', 's3:PutObject'],
      [runs],
    );
    storage.grantList(fitModels.role, 'ListRunFiles', [runs]);
    allowTable(fitModels, 'RecordRun', ['GetItem', 'PutItem', 'UpdateItem'], [storage.table.tableArn]);

    storage.grantObjects(scorePart.role, 'ReadPartsWriteResults', ['s3:GetObject', 's3:PutObject'], [runs]);
    storage.grantList(scorePart.role, 'ListRunFiles', [runs]);
    allowTable(scorePart, 'WriteScores', ['BatchWriteItem', 'BatchGetItem', 'GetItem', 'PutItem', 'Query']);

    storage.grantObjects(finalize.role, 'ReadAndWriteRunFiles', ['s3:GetObject', 's3:PutObject'], [runs]);
    storage.grantList(finalize.role, 'ListRunFiles', [runs]);
    allowTable(finalize, 'PublishRun', [
      'GetItem',
      'PutItem',
      'UpdateItem',
      'Query',
      'BatchGetItem',
      'BatchWriteItem',
    ]);
    // Sending reads the run's change files and writes its checkpoint beside them.
    storage.grantObjects(
      sendChangeEvents.role,
      'ReadChangesWriteCheckpoint',
      ['s3:GetObject', 's3:PutObject'],
      [runs],
    );
    storage.grantList(sendChangeEvents.role, 'ListChangeFiles', [runs]);
    allowTable(
      sendChangeEvents,
      'RenewLease',
      ['GetItem', 'PutItem', 'UpdateItem'],
      [storage.table.tableArn],
    );
    this.eventBus.grantPutEventsTo(sendChangeEvents.role);
  }

  /**
   * Athena runs a query with its caller's credentials — the state machine's, whose tasks start every
   * query: it reads Glue metadata and the clean Parquet, writes results to the workgroup location and
   * UNLOAD parts under `runs/`. Nothing else.
   */
  private grantAthenaQueries(role: iam.IRole, storage: Storage) {
    const stack = Stack.of(this);
    const glueArn = (resource: string, name?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(name ? { resourceName: name } : {}) });
    const { clean, runs, athenaResults } = DATA_PREFIXES;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RunQueriesInWorkgroup',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroup.name }),
        ],
      }),
    );
    // The Athena task (.sync) resolves the default data catalog of the query context.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDataCatalog',
        actions: ['athena:GetDataCatalog'],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' }),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTableMetadata',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          glueArn('catalog'),
          glueArn('database', this.databaseName),
          glueArn('table', `${this.databaseName}/${TRANSACTIONS_RELATION}`),
          glueArn('table', `${this.databaseName}/${CUSTOMER_ATTRIBUTES_RELATION}`),
          glueArn('table', `${this.databaseName}/${SUBSCRIPTIONS_RELATION}`),
        ],
      }),
    );
    storage.grantObjects(role, 'ReadCleanTransactions', ['s3:GetObject'], [clean]);
    // UNLOAD needs an empty target: the warehouse deletes a retried run's earlier output first.
    storage.grantObjects(
      role,
      'WriteResultsAndUnloads',
      [
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      [athenaResults, runs],
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LocateBucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [storage.dataBucket.bucketArn],
      }),
    );
    storage.grantList(role, 'ListQueryPrefixes', [clean, athenaResults, runs]);
  }
}
