/**
 * CDK construct of the scores API: one REST method per route-table entry, the read and admin functions
 * and their grants, an API key and usage plan per calling application.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '#adapters/config.ts';
import {
  type Access,
  type ApiFunctionKind,
  functionServing,
  type OperationId,
  ROUTE_TABLE,
} from '#functions/api/route-table.ts';
import { MAX_BATCH_IDS } from '#functions/api/schemas.ts';
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
  /** `DELETE /customers/{id}` starts it after erasing the customer's records. */
  readonly erasureStateMachine: sfn.IStateMachine;
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

/** How API Gateway enforces each access level of the route table. */
const METHOD_AUTHORIZATION: Record<Access, apigw.MethodOptions> = {
  public: { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: false },
  read: { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true },
  admin: { authorizationType: apigw.AuthorizationType.IAM },
};

/**
 * The scores API: API Gateway REST API with one method per entry of the route table
 * (`functions/api/route-table.ts`), proxied to two Lambda functions that share the handler code: the
 * read function (public and read routes; read-only table access) and the admin function (admin
 * routes; erasure writes and starting a recalculation). Public routes need nothing, read routes an
 * API key (usage plan per calling application), admin routes SigV4-signed requests (AWS_IAM).
 */
export class Api extends Construct {
  readonly restApi: apigw.RestApi;
  /** Serves public and read routes; may only read the table. */
  readonly readHandler: PipelineFunction;
  /** Serves admin routes; may erase customers and start the recalculation. */
  readonly adminHandler: PipelineFunction;
  readonly accessLogGroup: logs.LogGroup;
  readonly apiKeys: apigw.IApiKey[] = [];
  readonly usagePlans: apigw.UsagePlan[] = [];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { storage } = props;
    const corsOrigins = props.corsOrigins ?? [];
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };

    const functionProps = (kind: ApiFunctionKind) => ({
      entry: 'functions/api/handler.ts',
      handler: `${kind}Handler`,
      serviceName: 'cvm-api',
      // More memory = more CPU = shorter cold starts; reads are small.
      memorySize: 1024,
      timeout: Duration.seconds(15),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    const corsEnvironment: Record<string, string> =
      corsOrigins.length > 0 ? { [ENV.corsOrigins]: corsOrigins.join(',') } : {};
    this.readHandler = new PipelineFunction(this, 'ReadHandler', {
      ...functionProps('read'),
      description: 'Scores API, public and read routes: customers, segments, runs and ingests',
      environment: { ...props.environment, ...corsEnvironment },
    });
    this.adminHandler = new PipelineFunction(this, 'AdminHandler', {
      ...functionProps('admin'),
      description: 'Scores API, admin routes: start a recalculation, erase a customer',
      environment: {
        ...props.environment,
        ...corsEnvironment,
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [ENV.erasureStateMachineArn]: props.erasureStateMachine.stateMachineArn,
      },
    });
    this.grantReadPermissions(storage);
    this.grantAdminPermissions(storage, props.stateMachine, props.erasureStateMachine);

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

    // One permission per function for the whole API instead of one per method keeps the policies small.
    const integrations: Record<ApiFunctionKind, apigw.LambdaIntegration> = {
      read: new apigw.LambdaIntegration(this.readHandler.function, {
        proxy: true,
        scopePermissionToMethod: false,
      }),
      admin: new apigw.LambdaIntegration(this.adminHandler.function, {
        proxy: true,
        scopePermissionToMethod: false,
      }),
    };
    const validateParameters = this.restApi.addRequestValidator('ValidateParameters', {
      validateRequestParameters: true,
    });
    const validateBody = this.restApi.addRequestValidator('ValidateBody', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const pathParameters = (path: string) =>
      Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map((m) => [`method.request.path.${m[1]}`, true]));

    // Bodies the gateway validates before invoking a function; the handler validates every body anyway.
    const requestModels: Partial<Record<OperationId, apigw.IModel>> = {
      batchGetCustomerScores: this.restApi.addModel('BatchGetRequest', {
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
      }),
    };

    for (const route of ROUTE_TABLE) {
      const model = requestModels[route.operationId];
      this.resourceAt(route.path).addMethod(route.method, integrations[functionServing(route.access)], {
        ...METHOD_AUTHORIZATION[route.access],
        operationName: route.operationId,
        requestParameters: pathParameters(route.path),
        ...(model
          ? { requestValidator: validateBody, requestModels: { 'application/json': model } }
          : { requestValidator: validateParameters }),
      });
    }

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

  /** Read-only: single items, batches and queries on the table, GSI1, GSI2 and GSI3, nothing else. */
  private grantReadPermissions(storage: Storage) {
    this.readHandler.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadScores',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [storage.table.tableArn, storage.gsi1Arn, storage.gsi2Arn, storage.gsi3Arn],
      }),
    );
  }

  /**
   * DELETE /customers/{id}: is the id known (Query on the customer's partition, GetItem of its
   * suppression entry), add the hashed id to the suppression list (PutItem), delete the customer's
   * score items (BatchWriteItem), then start the erasure job for the stored files (no S3 access here).
   * POST /runs: start the recalculation state machine.
   */
  private grantAdminPermissions(
    storage: Storage,
    stateMachine: sfn.IStateMachine,
    erasureStateMachine: sfn.IStateMachine,
  ) {
    const role = this.adminHandler.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EraseCustomers',
        actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
        resources: [storage.table.tableArn],
      }),
    );
    stateMachine.grantStartExecution(role);
    erasureStateMachine.grantStartExecution(role);
  }
}
