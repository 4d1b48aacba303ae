/**
 * Synthesized monitoring: an alarm to the alarm topic for dead letters, function errors, failed
 * recalculations and ingests, the reject ratio and API 5xx, and a dashboard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_METRICS } from '#infra/aws/constructs/monitoring.ts';
import { METRICS_NAMESPACE } from '#infra/aws/constructs/pipeline-function.ts';
import {
  type CfnJson,
  logicalIdOf,
  onlyResource,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

let synth: SynthesizedPipeline;
let alarms: Array<Record<string, CfnJson>>;
beforeAll(() => {
  synth = synthPipeline({ alarmEmail: 'ops@example.com', rejectRatioAlarmThreshold: 0.1 });
  alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => alarm.Properties,
  );
});
afterAll(() => synth.cleanup());

const topicRef = () => ({ Ref: logicalIdOf(synth.stack, synth.stack.monitoring.alarmTopic) });
const alarmOn = (metricName: string, dimensionValue: unknown) =>
  alarms.find(
    (alarm) =>
      alarm.MetricName === metricName &&
      JSON.stringify(alarm.Dimensions ?? []).includes(JSON.stringify(dimensionValue)),
  );

describe('monitoring', () => {
  it('sends every alarm to the alarm topic and treats missing data as healthy', () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([topicRef()]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('subscribes the configured e-mail address and requires TLS on the topic', () => {
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef(),
    });
    const policy = onlyResource(synth.template, 'AWS::SNS::TopicPolicy').properties;
    expect(JSON.stringify(policy.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('alarms on any message in the ingest dead-letter queue', () => {
    const alarm = alarmOn('ApproximateNumberOfMessagesVisible', {
      'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.ingest.deadLetterQueue), 'QueueName'],
    });
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('alarms on errors of every function', () => {
    const functions = [
      synth.stack.ingest.handler,
      synth.stack.api.readHandler,
      synth.stack.api.adminHandler,
      synth.stack.erasure.handler,
      ...Object.values(synth.stack.recalculation.steps),
    ];
    for (const fn of functions) {
      const alarm = alarmOn('Errors', { Ref: logicalIdOf(synth.stack, fn.function) });
      expect(alarm, fn.node.path).toMatchObject({ Threshold: 1, Statistic: 'Sum', Namespace: 'AWS/Lambda' });
    }
  });

  it('alarms on failed or timed-out recalculations', () => {
    const stateMachineRef = { Ref: logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine) };
    const alarm = alarms.find((candidate) =>
      candidate.Metrics?.some((m: CfnJson) => m.Expression === 'failed + timedOut'),
    )!;
    const names = alarm.Metrics.filter((m: CfnJson) => m.MetricStat).map(
      (m: CfnJson) => m.MetricStat.Metric.MetricName,
    );
    expect(names.sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    expect(JSON.stringify(alarm.Metrics)).toContain(JSON.stringify(stateMachineRef));
  });

  it('alarms on failed or timed-out erasure jobs (erased customers may still be in stored files)', () => {
    const erasureRef = { Ref: logicalIdOf(synth.stack, synth.stack.erasure.stateMachine) };
    const alarm = alarms.find((candidate) =>
      candidate.Metrics?.some((m: CfnJson) => m.Expression === 'erasureFailed + erasureTimedOut'),
    )!;
    expect(alarm).toMatchObject({ Threshold: 1 });
    const names = alarm.Metrics.filter((m: CfnJson) => m.MetricStat).map(
      (m: CfnJson) => m.MetricStat.Metric.MetricName,
    );
    expect(names.sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    expect(JSON.stringify(alarm.Metrics)).toContain(JSON.stringify(erasureRef));
    expect(alarm.AlarmActions).toHaveLength(1);
  });

  it('alarms on the reject ratio computed from the ingest EMF metrics', () => {
    const alarm = alarms.find((candidate) =>
      candidate.Metrics?.some((m: CfnJson) => String(m.Expression).includes('rowsRejected / rowsRead')),
    )!;
    expect(alarm.Threshold).toBe(0.1);
    const metrics = alarm.Metrics.filter((m: CfnJson) => m.MetricStat).map(
      (m: CfnJson) => m.MetricStat.Metric,
    );
    expect(metrics).toEqual(
      expect.arrayContaining([
        {
          Namespace: METRICS_NAMESPACE,
          MetricName: INGEST_METRICS.rowsRead,
          Dimensions: [{ Name: 'service', Value: 'cvm-ingest' }],
        },
        {
          Namespace: METRICS_NAMESPACE,
          MetricName: INGEST_METRICS.rowsRejected,
          Dimensions: [{ Name: 'service', Value: 'cvm-ingest' }],
        },
      ]),
    );
    // The metrics' service dimension is the ingest function's Powertools service name.
    const ingestVariables =
      synth.template.toJSON().Resources[logicalIdOf(synth.stack, synth.stack.ingest.handler.function)]
        .Properties.Environment.Variables;
    expect(ingestVariables.POWERTOOLS_SERVICE_NAME).toBe('cvm-ingest');
  });

  it('alarms on any failed ingest (a failed report is not a Lambda error)', () => {
    const alarm = alarmOn(INGEST_METRICS.filesFailed, 'cvm-ingest');
    expect(alarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on API server errors', () => {
    const alarm = alarms.find((candidate) => candidate.MetricName === '5XXError')!;
    expect(alarm).toMatchObject({ Namespace: 'AWS/ApiGateway', Threshold: 1 });
  });

  it('has a dashboard', () => {
    const { properties } = onlyResource(synth.template, 'AWS::CloudWatch::Dashboard');
    expect(properties.DashboardName).toBe('cvm-dev-pipeline');
    expect(JSON.stringify(properties.DashboardBody)).toContain('Ingest rows');
  });
});
