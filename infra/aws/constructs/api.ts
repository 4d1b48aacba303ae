import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MAX_BATCH_IDS } from '../../../functions/api/schemas.ts';
import { ENV } from '../../../shared/adapters/config.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { Storage } from './storage.ts';

/** One calling application: its own API key and usage plan. */
export interface ApiClient {
  /** Becomes the API key and usage plan name. */
  readonly name: string;
  /** Requests per second. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** @default - no daily quota */
  readonly quotaPerDay?: number;
}

export interface ApiProps {
  readonly storage: Storage;
  /** Runtime variables shared by every function (bucket, table, currency, retention). */
  readonly environment: Record<string, string>;
  /** `POST /runs` starts it. */
  readonly stateMachine: sfn.IStateMachine;
  /** Prefix of the API name, e.g. `cvm-dev`. */
  readonly namePrefix: string;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Origins allowed by CORS. @default [] (no CORS) */
  readonly corsOrigins?: string[];
  /** Stage-wide throttling. @default { rateLimit: 100, burstLimit: 200 } */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /** @default [{ name: 'default', rateLimit: 20, burstLimit: 40 }] */
  readonly clients?: ApiClient[];
  /** Retention of the function and access logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The scores API: API Gateway REST API in front of one Lambda (proxy integration). Read routes need
 * an API key (usage plan per calling application); admin routes need SigV4-signed requests (AWS_IAM).
 */
export class Api extends Construct {
  readonly restApi: apigw.RestApi;
  readonly handler: PipelineFunction;
  readonly accessLogGroup: logs.LogGroup;
  readonly apiKeys: apigw.IApiKey[] = [];
  readonly usagePlans: apigw.UsagePlan[] = [];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { storage } = props;
    const corsOrigins = props.corsOrigins ?? [];
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };

    this.handler = new PipelineFunction(this, 'Handler', {
      entry: 'functions/api/handler.ts',
      description: 'Scores API: customers, segments, runs and ingests',
      serviceName: 'cvm-api',
      // More memory = more CPU = shorter cold starts; reads are small.
      memorySize: 1024,
      timeout: Duration.seconds(15),
      environment: {
        ...props.environment,
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        ...(corsOrigins.length > 0 ? { [ENV.corsOrigins]: corsOrigins.join(',') } : {}),
      },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.grantHandlerPermissions(storage, props.stateMachine);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: `${props.namePrefix}-api`,
      description: 'Customer Value Management scores API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      // Execution logging needs the account-level API Gateway → CloudWatch role; keep it on stack
      // deletion because other APIs in the account/region may rely on the same setting.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Errors only: INFO would log every request twice (access log + execution log).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      ...(corsOrigins.length > 0
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: corsOrigins,
              allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
              allowHeaders: [...apigw.Cors.DEFAULT_HEADERS, 'X-Api-Key'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    this.addGatewayResponses();

    // One permission for the whole API instead of one per method keeps the function policy small.
    const integration = new apigw.LambdaIntegration(this.handler.function, {
      proxy: true,
      scopePermissionToMethod: false,
    });
    const validateParameters = this.restApi.addRequestValidator('ValidateParameters', {
      validateRequestParameters: true,
    });
    const validateBody = this.restApi.addRequestValidator('ValidateBody', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const pathParameters = (path: string) =>
      Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map((m) => [`method.request.path.${m[1]}`, true]));

    const read = (path: string, method = 'GET', options: apigw.MethodOptions = {}) =>
      this.resourceAt(path).addMethod(method, integration, {
        apiKeyRequired: true,
        authorizationType: apigw.AuthorizationType.NONE,
        requestParameters: pathParameters(path),
        requestValidator: validateParameters,
        ...options,
      });
    const admin = (path: string, method: string) =>
      this.resourceAt(path).addMethod(method, integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        requestParameters: pathParameters(path),
        requestValidator: validateParameters,
      });

    const batchGetModel = this.restApi.addModel('BatchGetRequest', {
      contentType: 'application/json',
      modelName: 'BatchGetRequest',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        type: apigw.JsonSchemaType.OBJECT,
        required: ['customerIds'],
        properties: {
          customerIds: {
            type: apigw.JsonSchemaType.ARRAY,
            minItems: 1,
            maxItems: MAX_BATCH_IDS,
            items: { type: apigw.JsonSchemaType.STRING, minLength: 1 },
          },
        },
      },
    });

    read('/customers/{customerId}');
    read('/customers/batch-get', 'POST', {
      requestValidator: validateBody,
      requestModels: { 'application/json': batchGetModel },
    });
    read('/customers/{customerId}/history');
    read('/segments');
    read('/segments/{segment}/customers');
    read('/runs/current');
    read('/runs/{runId}');
    read('/ingests');
    read('/ingests/{ingestId}');
    read('/openapi.json');
    admin('/runs', 'POST');
    admin('/customers/{customerId}', 'DELETE');

    for (const client of props.clients ?? [{ name: 'default', rateLimit: 20, burstLimit: 40 }]) {
      const plan = this.restApi.addUsagePlan(`UsagePlan-${client.name}`, {
        name: `${props.namePrefix}-${client.name}`,
        description: `Read access for ${client.name}`,
        throttle: { rateLimit: client.rateLimit, burstLimit: client.burstLimit },
        ...(client.quotaPerDay ? { quota: { limit: client.quotaPerDay, period: apigw.Period.DAY } } : {}),
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
      const key = this.restApi.addApiKey(`ApiKey-${client.name}`, {
        apiKeyName: `${props.namePrefix}-${client.name}`,
        description: `API key of ${client.name}`,
      });
      plan.addApiKey(key);
      this.apiKeys.push(key);
      this.usagePlans.push(plan);
    }
  }

  /** The resource at `path`, creating missing segments. */
  private resourceAt(path: string): apigw.IResource {
    return this.restApi.root.resourceForPath(path);
  }

  /**
   * Errors API Gateway answers itself get the same JSON body as the handler's
   * (`{error, message, requestId}`), so clients parse one shape.
   */
  private addGatewayResponses() {
    const body = (code: string, message: string) =>
      `{"error":"${code}","message":"${message}","requestId":"$context.requestId"}`;
    const responses: Array<[string, apigw.ResponseType, string, string, string?]> = [
      [
        'BadRequestBody',
        apigw.ResponseType.BAD_REQUEST_BODY,
        'invalid_request',
        '$context.error.validationErrorString',
      ],
      [
        'BadRequestParameters',
        apigw.ResponseType.BAD_REQUEST_PARAMETERS,
        'invalid_request',
        '$context.error.validationErrorString',
      ],
      // API Gateway answers unknown routes with 403 "Missing Authentication Token"; say what it is.
      [
        'UnknownRoute',
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        'route_not_found',
        'No such route',
        '404',
      ],
      [
        'InvalidApiKey',
        apigw.ResponseType.INVALID_API_KEY,
        'forbidden',
        'Missing or invalid X-Api-Key header',
      ],
      ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, 'forbidden', '$context.error.message'],
      ['ServerError', apigw.ResponseType.DEFAULT_5XX, 'internal_error', '$context.error.message'],
    ];
    for (const [id, type, code, message, statusCode] of responses) {
      this.restApi.addGatewayResponse(id, {
        type,
        ...(statusCode ? { statusCode } : {}),
        templates: { 'application/json': body(code, message) },
      });
    }
  }

  private grantHandlerPermissions(storage: Storage, stateMachine: sfn.IStateMachine) {
    const role = this.handler.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadScores',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [storage.table.tableArn, storage.gsi1Arn],
      }),
    );
    // DELETE /customers/{id}: add the hashed id to the suppression list, then delete the customer's
    // score items (Query on the customer's partition + BatchWriteItem deletes).
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EraseCustomers',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
        resources: [storage.table.tableArn],
      }),
    );
    stateMachine.grantStartExecution(role);
  }
}
