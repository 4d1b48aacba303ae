/**
 * Synthesized API: exactly the route table's methods with their access levels, the stage's throttling,
 * keys and logging, and least privilege for the read and admin functions.
 */
import type { Method } from 'aws-cdk-lib/aws-apigateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#adapters/config.ts';
import { TABLE_KEYS } from '#adapters/dynamo/keys.ts';
import { type Access, functionServing, ROUTE_TABLE } from '#functions/api/route-table.ts';
import { MAX_BATCH_IDS } from '#functions/api/schemas.ts';
import {
  type CfnJson,
  logicalIdOf,
  onlyResource,
  type SynthesizedPipeline,
  synthPipeline,
} from './synth-pipeline.ts';

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
const readFunctionId = () => logicalIdOf(synth.stack, synth.stack.api.readHandler.function);
const adminFunctionId = () => logicalIdOf(synth.stack, synth.stack.api.adminHandler.function);
const functionIdFor = (access: Access) =>
  functionServing(access) === 'admin' ? adminFunctionId() : readFunctionId();
const otherFunctionIdFor = (access: Access) =>
  functionServing(access) === 'admin' ? readFunctionId() : adminFunctionId();

/** The route table as `METHOD /path` with its access level: what the gateway must expose. */
const TABLE = ROUTE_TABLE.map(({ method, path, access }) => ({ route: `${method} ${path}`, access }));

describe('API: routes and authorization', () => {
  it('has exactly the routes of the route table (plus CORS preflights), no extra methods', () => {
    const routes = synth.stack.api.restApi.methods
      .map(routeOf)
      .filter((route) => !route.startsWith('OPTIONS'));
    expect(routes.sort()).toEqual(TABLE.map(({ route }) => route).sort());
  });

  it.each(TABLE)('$route is $access in the gateway and proxies to its function', ({ route, access }) => {
    const properties = methodProperties(route);
    const expected = {
      public: { AuthorizationType: 'NONE', ApiKeyRequired: false },
      read: { AuthorizationType: 'NONE', ApiKeyRequired: true },
      admin: { AuthorizationType: 'AWS_IAM', ApiKeyRequired: false },
    }[access];
    expect({
      AuthorizationType: properties.AuthorizationType,
      ApiKeyRequired: properties.ApiKeyRequired ?? false,
    }).toEqual(expected);
    expect(properties.Integration.Type).toBe('AWS_PROXY');
    const uri = JSON.stringify(properties.Integration.Uri);
    expect(uri).toContain(functionIdFor(access));
    expect(uri).not.toContain(otherFunctionIdFor(access));
  });

  it('serves the OpenAPI document without a key, as the handler, the docs and the local server do', () => {
    const properties = methodProperties('GET /openapi.json');
    expect(properties.AuthorizationType).toBe('NONE');
    expect(properties.ApiKeyRequired ?? false).toBe(false);
  });

  it('requires the path parameters of parameterized routes', () => {
    expect(methodProperties('GET /segments/{segment}/customers').RequestParameters).toEqual({
      'method.request.path.segment': true,
    });
    expect(methodProperties('GET /playbook/{action}/customers').RequestParameters).toEqual({
      'method.request.path.action': true,
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
    for (const id of [readFunctionId(), adminFunctionId()]) {
      expect(resources[id]!.Properties.Environment.Variables[ENV.corsOrigins], id).toBe(ORIGINS.join(','));
    }
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

describe('API: function permissions (least privilege per function)', () => {
  const statementsOf = (role: { node: { defaultChild?: unknown } }) =>
    Object.values(synth.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(logicalIdOf(synth.stack, role)))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, CfnJson>>);
  const readStatements = () => statementsOf(synth.stack.api.readHandler.role);
  const adminStatements = () => statementsOf(synth.stack.api.adminHandler.role);
  const actionsOf = (statements: Array<Record<string, CfnJson>>) =>
    statements.flatMap((statement) => [statement.Action].flat() as string[]);
  const tableId = () => logicalIdOf(synth.stack, synth.stack.storage.table);

  it('lets the read function only read the table, GSI1, GSI2 and GSI3 by exact ARN', () => {
    const read = readStatements().find((statement) => statement.Sid === 'ReadScores')!;
    expect(read.Action).toEqual(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']);
    expect(read.Resource).toEqual([
      { 'Fn::GetAtt': [tableId(), 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId(), 'Arn'] }, `/index/${TABLE_KEYS.gsi1Name}`]] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId(), 'Arn'] }, `/index/${TABLE_KEYS.gsi2Name}`]] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId(), 'Arn'] }, `/index/${TABLE_KEYS.gsi3Name}`]] },
    ]);
    const dynamoActions = actionsOf(readStatements()).filter((action) => action.startsWith('dynamodb:'));
    expect(dynamoActions.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('gives the read function no write action, no StartExecution and no S3', () => {
    const actions = actionsOf(readStatements());
    const writes = [
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:TransactWriteItems',
    ];
    expect(actions.filter((action) => writes.includes(action))).toEqual([]);
    expect(actions.filter((action) => action.startsWith('states:'))).toEqual([]);
    expect(actions.filter((action) => action.startsWith('s3:'))).toEqual([]);
    const variables = resources[readFunctionId()]!.Properties.Environment.Variables;
    expect(variables[ENV.stateMachineArn]).toBeUndefined();
  });

  it('lets the admin function erase customers on the table only, nothing broader', () => {
    const erase = adminStatements().find((statement) => statement.Sid === 'EraseCustomers')!;
    expect(erase.Action).toEqual([
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:BatchWriteItem',
    ]);
    expect(erase.Resource).toEqual({ 'Fn::GetAtt': [tableId(), 'Arn'] });
    const dynamoActions = actionsOf(adminStatements()).filter((action) => action.startsWith('dynamodb:'));
    expect(dynamoActions.sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    // Stored files are the erasure job's: the API function has no S3 access at all.
    expect(actionsOf(adminStatements()).filter((action) => action.startsWith('s3:'))).toEqual([]);
  });

  it('lets the admin function start the erasure job, whose ARN it gets', () => {
    const erasureId = logicalIdOf(synth.stack, synth.stack.erasure.stateMachine);
    expect(adminStatements()).toContainEqual(
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: erasureId } }),
    );
    const variables = resources[adminFunctionId()]!.Properties.Environment.Variables;
    expect(variables[ENV.erasureStateMachineArn]).toEqual({ Ref: erasureId });
    expect(
      resources[readFunctionId()]!.Properties.Environment.Variables[ENV.erasureStateMachineArn],
    ).toBeUndefined();
  });

  it('lets only the admin function start the recalculation state machine, whose ARN it gets', () => {
    const stateMachineId = logicalIdOf(synth.stack, synth.stack.recalculation.stateMachine);
    expect(adminStatements()).toContainEqual(
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: stateMachineId } }),
    );
    const variables = resources[adminFunctionId()]!.Properties.Environment.Variables;
    expect(variables[ENV.stateMachineArn]).toEqual({ Ref: stateMachineId });
  });

  it('runs both functions on ARM64 from the same entry, each invocable only by this API', () => {
    const handlers = { [readFunctionId()]: 'index.readHandler', [adminFunctionId()]: 'index.adminHandler' };
    for (const [id, handler] of Object.entries(handlers)) {
      expect(resources[id]!.Properties.Architectures, id).toEqual(['arm64']);
      expect(resources[id]!.Properties.Handler, id).toBe(handler);
    }
    const apiFunctions = [readFunctionId(), adminFunctionId()];
    const permissions = Object.values(synth.template.findResources('AWS::Lambda::Permission'))
      .map((permission) => permission.Properties)
      .filter((p) => apiFunctions.includes(p.FunctionName['Fn::GetAtt']?.[0]));
    expect(permissions).toHaveLength(2);
    expect(permissions.map((p) => p.FunctionName['Fn::GetAtt'][0]).sort()).toEqual(
      [readFunctionId(), adminFunctionId()].sort(),
    );
    for (const properties of permissions) {
      expect(properties.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(properties.SourceArn)).toContain(
        logicalIdOf(synth.stack, synth.stack.api.restApi),
      );
    }
  });
});
