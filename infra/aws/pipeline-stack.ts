/**
 * The pipeline's one CloudFormation stack: storage, ingest, recalculation, API and monitoring wired
 * together with the shared runtime variables, tags and outputs.
 */
import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '#adapters/config.ts';
import { athenaBytesScannedCutoffMbOf, type DeploymentConfig } from './config.ts';
import { Api } from './constructs/api.ts';
import { Erasure } from './constructs/erasure.ts';
import { Ingest } from './constructs/ingest.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { Recalculation } from './constructs/recalculation.ts';
import { Storage } from './constructs/storage.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';

export interface PipelineStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/** The whole pipeline in one stack: storage, ingest, recalculation, API, monitoring. */
export class PipelineStack extends Stack {
  readonly storage: Storage;
  readonly ingest: Ingest;
  readonly recalculation: Recalculation;
  readonly api: Api;
  readonly erasure: Erasure;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const namePrefix = `cvm-${config.environmentName}`;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    Tags.of(this).add('project', 'cvm-pipeline');
    Tags.of(this).add('environment', config.environmentName);

    this.storage = new Storage(this, 'Storage', {
      retainData: config.retainData,
      incomingRetentionDays: config.incomingRetentionDays,
    });

    // Every function reads the same configuration (see shared/adapters/config.ts).
    const environment = {
      [ENV.bucket]: this.storage.dataBucket.bucketName,
      [ENV.table]: this.storage.table.tableName,
      [ENV.defaultCurrency]: config.defaultCurrency,
      [ENV.retentionWeeks]: String(config.retentionWeeks),
    };

    this.ingest = new Ingest(this, 'Ingest', {
      storage: this.storage,
      environment,
      logRetention,
      maxConcurrency: config.ingestMaxConcurrency,
    });

    this.recalculation = new Recalculation(this, 'Recalculation', {
      storage: this.storage,
      environment,
      namePrefix,
      logRetention,
      scheduleExpression: config.scheduleExpression,
      scheduleTimezone: config.scheduleTimezone,
      scheduleEnabled: config.scheduleEnabled,
      // A RecalcRequest (shared/app/recalc/types.ts), like the body of POST /runs.
      scheduleInput: {
        model: config.model,
        ...(config.clv ? { config: { clv: config.clv } } : {}),
        requestedBy: 'schedule',
      },
      bytesScannedCutoffMb: athenaBytesScannedCutoffMbOf(config),
      scoreMaxConcurrency: config.scoreMaxConcurrency,
    });

    this.erasure = new Erasure(this, 'Erasure', {
      storage: this.storage,
      environment,
      namePrefix,
      logRetention,
    });

    // The API depends on the state machine (POST /runs starts it), never the other way round.
    this.api = new Api(this, 'Api', {
      storage: this.storage,
      environment,
      stateMachine: this.recalculation.stateMachine,
      erasureStateMachine: this.erasure.stateMachine,
      namePrefix,
      corsOrigins: config.corsOrigins,
      throttle: config.apiThrottle,
      clients: config.apiClients,
      logRetention,
    });

    const steps = this.recalculation.steps;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      namePrefix,
      ingestQueue: this.ingest.queue,
      ingestDeadLetterQueue: this.ingest.deadLetterQueue,
      ingestServiceName: 'cvm-ingest',
      functions: {
        Ingest: this.ingest.handler.function,
        ApiRead: this.api.readHandler.function,
        ApiAdmin: this.api.adminHandler.function,
        AcquireLock: steps.acquireLock.function,
        Prepare: steps.prepare.function,
        SelectData: steps.selectData.function,
        PlanRun: steps.planRun.function,
        FitModels: steps.fitModels.function,
        ScorePart: steps.scorePart.function,
        Finalize: steps.finalize.function,
        SendChangeEvents: steps.sendChangeEvents.function,
        ReleaseLock: steps.releaseLock.function,
        ExecutionEnded: steps.executionEnded.function,
        Erasure: this.erasure.handler.function,
      },
      stateMachine: this.recalculation.stateMachine,
      erasureStateMachine: this.erasure.stateMachine,
      restApi: this.api.restApi,
      table: this.storage.table,
      rejectRatioThreshold: config.rejectRatioAlarmThreshold,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });

    acknowledgeNagFindings(this);

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(
      'DataBucketName',
      this.storage.dataBucket.bucketName,
      'Upload exports to s3://<bucket>/incoming/<source>/',
    );
    output('TableName', this.storage.table.tableName, 'DynamoDB table of reports, runs and scores');
    output('ApiUrl', this.api.restApi.url, 'Base URL of the scores API');
    output(
      'ApiKeyIds',
      this.api.apiKeys.map((key) => key.keyId).join(','),
      'aws apigateway get-api-key --include-value --api-key <id> prints a key',
    );
    output('StateMachineArn', this.recalculation.stateMachine.stateMachineArn, 'Recalculation state machine');
    output('ChangeEventBusName', this.recalculation.eventBus.eventBusName, 'Change events after each run');
    output('AlarmTopicArn', this.monitoring.alarmTopic.topicArn, 'Subscribe here to receive alarms');
  }
}
