import type { Method } from 'aws-cdk-lib/aws-apigateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_IDS } from '../../functions/api/schemas.ts';
import { ENV } from '../../shared/adapters/config.ts';
import { TABLE_KEYS } from '../../shared/adapters/dynamo/keys.ts';
import {
  type CfnJson,
  logicalIdOf,
  onlyResource,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

const READ_ROUTES = [
  'GET /customers/{customerId}',
  'POST /customers/batch-get',
  'GET /customers/{customerId}/history',
  'GET /segments',
  'GET /segments/{segment}/customers',
  'GET /runs/current',
  'GET /runs/{runId}',
  'GET /ingests',
  'GET /ingests/{ingestId}',
  'GET /openapi.json',
];
const ADMIN_ROUTES = ['POST /runs', 'DELETE /customers/{customerId}'];
const ORIGINS = ['https://crm.example.com', 'http://localhost:5173'];

let synth: SynthesizedPipeline;
let resources: Record<string, { Type: string; Properties: Record<string, CfnJson> }>;
beforeAll(() => {
  synth = synthPipeline({
    corsOrigins: ORIGINS,
    apiClients: [
      { name: 'crm', rateLimit: 10, burstLimit: 20, quotaPerDay: 50_000 },
      { name: 'bi', rateLimit: 2, burstLimit: 5 },
    ],
  });
  resources = synth.template.toJSON().Resources;
});
afterAll(() => synth.cleanup());

const routeOf = (method: Method) => `${method.httpMethod} ${method.resource.path}`;
const methodProperties = (route: string) => {
  const method = synth.stack.api.restApi.methods.find((candidate) => routeOf(candidate) === route);
  if (!method) throw new Error(`no method for ${route}`);
  return resources[logicalIdOf(synth.stack, method)]!.Properties;
};
const apiFunctionId = () => logicalIdOf(synth.stack, synth.stack.api.handler.function);

describe('API: routes and authorization', () => {
  it('has exactly the read and admin routes (plus CORS preflights)', () => {
    const routes = synth.stack.api.restApi.methods
      .map(routeOf)
      .filter((route) => !route.startsWith('OPTIONS'));
    expect(routes.sort()).toEqual([...READ_ROUTES, ...ADMIN_ROUTES].sort());
  });

  it.each(READ_ROUTES)('%s needs an API key and proxies to the one function', (route) => {
    const properties = methodProperties(route);
    expect(properties.ApiKeyRequired).toBe(true);
    expect(properties.AuthorizationType).toBe('NONE');
    expect(properties.Integration.Type).toBe('AWS_PROXY');
    expect(JSON.stringify(properties.Integration.Uri)).toContain(apiFunctionId());
  });

  it.each(ADMIN_ROUTES)('%s needs SigV4 (AWS_IAM) and no API key', (route) => {
    const properties = methodProperties(route);
    expect(properties.AuthorizationType).toBe('AWS_IAM');
    expect(properties.ApiKeyRequired ?? false).toBe(false);
    expect(JSON.stringify(properties.Integration.Uri)).toContain(apiFunctionId());
  });

  it('requires the path parameters of parameterized routes', () => {
    expect(methodProperties('GET /segments/{segment}/customers').RequestParameters).toEqual({
      'method.request.path.segment': true,
    });
    expect(methodProperties('DELETE /customers/{customerId}').RequestParameters).toEqual({
      'method.request.path.customerId': true,
    });
  });

  it('validates the batch-get body against a model capped at the handler limit', () => {
    const properties = methodProperties('POST /customers/batch-get');
    const validator = resources[properties.RequestValidatorId.Ref]!.Properties;
    expect(validator.ValidateRequestBody).toBe(true);
    const model = onlyResource(synth.template, 'AWS::ApiGateway::Model').properties;
    expect(model.Schema.required).toEqual(['customerIds']);
    expect(model.Schema.properties.customerIds).toMatchObject({
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH_IDS,
    });
  });

  it('answers API Gateway errors in the handler error shape', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      ResponseTemplates: {
        'application/json':
          '{"error":"invalid_request","message":"$context.error.validationErrorString","requestId":"$context.requestId"}',
      },
    });
    synth.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
    });
  });

  it('answers CORS preflights for the configured origins only', () => {
    const preflights = synth.stack.api.restApi.methods.filter((method) => method.httpMethod === 'OPTIONS');
    expect(preflights.length).toBeGreaterThan(0);
    const integration = resources[logicalIdOf(synth.stack, preflights[0]!)]!.Properties.Integration;
    expect(JSON.stringify(integration.IntegrationResponses)).toContain(ORIGINS[0]);
    const variables = resources[apiFunctionId()]!.Properties.Environment.Variables;
    expect(variables[ENV.corsOrigins]).toBe(ORIGINS.join(','));
  });
});

describe('API: stage, throttling, keys', () => {
  it('throttles the stage, logs access as JSON and errors, and traces', () => {
    const { properties } = onlyResource(synth.template, 'AWS::ApiGateway::Stage');
    expect(properties.StageName).toBe('v1');
    expect(properties.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
      }),
    ]);
    expect(properties.AccessLogSetting.DestinationArn).toEqual({
      'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.api.accessLogGroup), 'Arn'],
    });
    expect(properties.AccessLogSetting.Format).toContain('"requestId":"$context.requestId"');
    expect(properties.TracingEnabled).toBe(true);
  });

  it('gives each calling application its own key and usage plan with its own throttle', () => {
    const plans = Object.values(synth.template.findResources('AWS::ApiGateway::UsagePlan')).map(
      (plan) => plan.Properties,
    );
    expect(plans.map((plan) => [plan.UsagePlanName, plan.Throttle, plan.Quota]).sort()).toEqual(
      [
        ['cvm-dev-bi', { RateLimit: 2, BurstLimit: 5 }, undefined],
        ['cvm-dev-crm', { RateLimit: 10, BurstLimit: 20 }, { Limit: 50_000, Period: 'DAY' }],
      ].sort(),
    );
    expect(Object.keys(synth.template.findResources('AWS::ApiGateway::ApiKey'))).toHaveLength(2);
    expect(Object.keys(synth.template.findResources('AWS::ApiGateway::UsagePlanKey'))).toHaveLength(2);
  });
});

describe('API: function permissions', () => {
  const statements = () =>
    Object.values(synth.template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        JSON.stringify(policy.Properties.Roles).includes(
          logicalIdOf(synth.stack, synth.stack.api.handler.role),
        ),
      )
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, CfnJson>>);

  it('reads the table and GSI1 by exact ARN and erases customers, nothing broader', () => {
    const tableId = logicalIdOf(synth.stack, synth.stack.storage.table);
    const read = statements().find((statement) => statement.Sid === 'ReadScores')!;
    expect(read.Action).toEqual(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']);
    expect(read.Resource).toEqual([
      { 'Fn::GetAtt': [tableId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, `/index/${TABLE_KEYS.gsi1Name}`]] },
    ]);
    const erase = statements().find((statement) => statement.Sid === 'EraseCustomers')!;
    expect(erase.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    expect(JSON.stringify(statements())).not.toContain('s3:');
  });

  it('may start the recalculation state machine, whose ARN it gets in its environment', () => {
    const stateMachineId = logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine);
    expect(statements()).toContainEqual(
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: stateMachineId } }),
    );
    const variables = resources[apiFunctionId()]!.Properties.Environment.Variables;
    expect(variables[ENV.stateMachineArn]).toEqual({ Ref: stateMachineId });
  });

  it('runs on ARM64 and may be invoked only by this API', () => {
    expect(resources[apiFunctionId()]!.Properties.Architectures).toEqual(['arm64']);
    const { properties } = onlyResource(synth.template, 'AWS::Lambda::Permission');
    expect(properties.Principal).toBe('apigateway.amazonaws.com');
    expect(JSON.stringify(properties.SourceArn)).toContain(logicalIdOf(synth.stack, synth.stack.api.restApi));
  });
});
