/**
 * CDK construct of the monitoring: CloudWatch alarms for everything that needs a person, sent to one SNS
 * topic, and a dashboard of the same signals.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { INGEST_METRICS } from '#adapters/ingest-metrics.ts';
import { METRICS_NAMESPACE } from './pipeline-function.ts';

/** EMF metrics the ingest publishes through Powertools (namespace {@link METRICS_NAMESPACE}). */
export { INGEST_METRICS } from '#adapters/ingest-metrics.ts';

export interface MonitoringProps {
  /** Prefix of the dashboard name, e.g. `cvm-dev`. */
  readonly namePrefix: string;
  readonly ingestQueue: sqs.IQueue;
  readonly ingestDeadLetterQueue: sqs.IQueue;
  /** Powertools service name of the ingest: the `service` dimension of its metrics. */
  readonly ingestServiceName: string;
  /** Functions whose errors raise an alarm, by display name. */
  readonly functions: Record<string, lambda.IFunction>;
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The erasure job: a failed or timed-out execution leaves erased customers' rows in stored files.
   * @default - no erasure alarm
   */
  readonly erasureStateMachine?: sfn.IStateMachine;
  readonly restApi: apigw.RestApi;
  readonly table: dynamodb.ITable;
  /** Subscribed to the alarm topic when set. @default - no subscription */
  readonly alarmEmail?: string;
  /** Rejected rows / rows read (per hour) above which the reject-ratio alarm fires. @default 0.05 */
  readonly rejectRatioThreshold?: number;
  /** 5xx responses per 5 minutes that raise the API alarm. @default 1 */
  readonly api5xxThreshold?: number;
}

/**
 * Alarms (to one SNS topic) for everything that needs a person: messages in the dead-letter queue,
 * function errors, failed recalculations, a high share of rejected rows, API server errors; and a
 * dashboard with the same signals.
 */
export class Monitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  readonly rejectRatio: cloudwatch.MathExpression;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const fiveMinutes = Duration.minutes(5);

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${props.namePrefix} pipeline alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const action = new cloudwatchActions.SnsAction(this.alarmTopic);
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data = nothing happened (an idle pipeline is healthy).
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };

    const deadLetters = props.ingestDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: fiveMinutes,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm(
      'IngestDeadLetters',
      deadLetters,
      1,
      'Upload notifications failed repeatedly and sit in the ingest dead-letter queue: inspect, fix, redrive.',
    );
    const oldestMessageAge = props.ingestQueue.metricApproximateAgeOfOldestMessage({
      period: fiveMinutes,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    alarm('IngestBacklog', oldestMessageAge, 3600, 'An upload has waited over an hour for its ingest.');

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        1,
        `The ${name} function failed (see its log group).`,
      );
    }

    const runFailures = new cloudwatch.MathExpression({
      label: 'Failed or timed-out recalculations',
      expression: 'failed + timedOut',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        timedOut: props.stateMachine.metricTimedOut({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      },
      period: fiveMinutes,
    });
    alarm(
      'RecalculationFailed',
      runFailures,
      1,
      'A recalculation failed or timed out; its lock was released.',
    );
    if (props.erasureStateMachine) {
      const machine = props.erasureStateMachine;
      alarm(
        'ErasureFailed',
        new cloudwatch.MathExpression({
          label: 'Failed or timed-out erasure jobs',
          expression: 'erasureFailed + erasureTimedOut',
          usingMetrics: {
            erasureFailed: machine.metricFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
            erasureTimedOut: machine.metricTimedOut({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
          },
          period: fiveMinutes,
        }),
        1,
        'An erasure job failed after its retries: erased customers may still be in stored files. Start the ' +
          'erasure state machine again (it erases every suppressed customer) after fixing the cause.',
      );
    }

    const ingestMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: props.ingestServiceName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.hours(1),
      });
    this.rejectRatio = new cloudwatch.MathExpression({
      label: 'Rejected rows / rows read',
      // IF avoids a division by zero in hours without ingests.
      expression: 'IF(rowsRead > 0, rowsRejected / rowsRead, 0)',
      usingMetrics: {
        rowsRead: ingestMetric(INGEST_METRICS.rowsRead),
        rowsRejected: ingestMetric(INGEST_METRICS.rowsRejected),
      },
      period: Duration.hours(1),
    });
    alarm(
      'RejectRatio',
      this.rejectRatio,
      props.rejectRatioThreshold ?? 0.05,
      'Many uploaded rows were rejected in the last hour: check the rejected/ files and the source mapping.',
    );

    // A failed ingest is recorded as a report, not a Lambda error: without this alarm a broken grant
    // or source config would fail every upload silently.
    alarm(
      'IngestFilesFailed',
      ingestMetric(INGEST_METRICS.filesFailed),
      1,
      'An uploaded export failed to ingest (see its ingest report: GET /ingests/{ingestId}).',
    );

    alarm(
      'Api5xx',
      props.restApi.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      props.api5xxThreshold ?? 1,
      'The scores API answered with server errors.',
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.namePrefix}-pipeline`,
      defaultInterval: Duration.days(7),
    });
    const functionMetric = (pick: (fn: lambda.IFunction) => cloudwatch.IMetric) =>
      Object.entries(props.functions).map(([name, fn]) => {
        const metric = pick(fn);
        return metric instanceof cloudwatch.Metric ? metric.with({ label: name }) : metric;
      });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
      new cloudwatch.GraphWidget({
        title: 'Ingest rows',
        left: [ingestMetric(INGEST_METRICS.rowsRead), ingestMetric(INGEST_METRICS.rowsRejected)],
        right: [this.rejectRatio],
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest queue',
        left: [
          props.ingestQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes }),
          deadLetters,
        ],
        right: [oldestMessageAge],
      }),
      new cloudwatch.GraphWidget({
        title: 'Recalculations',
        left: [
          props.stateMachine.metricSucceeded({ period: Duration.hours(1) }),
          props.stateMachine.metricFailed({ period: Duration.hours(1) }),
        ],
        right: [props.stateMachine.metricTime({ period: Duration.hours(1) })],
      }),
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [
          props.restApi.metricCount({ period: fiveMinutes }),
          props.restApi.metricClientError({ period: fiveMinutes }),
          props.restApi.metricServerError({ period: fiveMinutes }),
        ],
        right: [props.restApi.metricLatency({ period: fiveMinutes, statistic: 'p99' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: functionMetric((fn) =>
          fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p99)',
        left: functionMetric((fn) => fn.metricDuration({ period: fiveMinutes, statistic: 'p99' })),
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB consumed capacity',
        left: [
          props.table.metricConsumedReadCapacityUnits({ period: fiveMinutes }),
          props.table.metricConsumedWriteCapacityUnits({ period: fiveMinutes }),
        ],
        right: [props.table.metricThrottledRequestsForOperations({ period: fiveMinutes })],
      }),
    );
  }
}
