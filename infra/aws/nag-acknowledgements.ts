/**
 * The security review of the stack in one place: each cdk-nag AwsSolutions finding the design accepts,
 * acknowledged on the narrowest construct with the reason a reviewer reads.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledge, acknowledgeWildcardResources } from './nag.ts';
import type { PipelineStack } from './pipeline-stack.ts';

/**
 * The cdk-nag (AwsSolutions) findings this design accepts, each with the reason a reviewer needs.
 * Prefix-wildcard grants on the data bucket are acknowledged where they are granted
 * (`Storage.grantObjects`); everything else is here, on the narrowest construct that has it.
 */
export function acknowledgeNagFindings(stack: PipelineStack): void {
  const { ingest, recalculation, api, erasure } = stack;

  const functions = [
    ingest.handler,
    erasure.handler,
    api.readHandler,
    api.adminHandler,
    ...Object.values(recalculation.steps),
  ];
  for (const fn of functions) {
    acknowledge(
      fn.function,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x, the runtime the project targets and tests (maintained until 2027-04). A newer ' +
        'runtime is adopted together with the development Node version and DuckDB native binding, not implicitly.',
    );
  }

  // Step Functions: LambdaInvoke grants the function and its versions/aliases (`<arn>:*`).
  acknowledgeWildcardResources(
    recalculation.stateMachine.role,
    Object.values(recalculation.steps).map((fn) => `${fn.function.functionArn}:*`),
    'Invoke permission on one step function, including its versions and aliases (the `:*` suffix); ' +
      'no other function is reachable.',
  );
  acknowledge(
    recalculation.stateMachine.role,
    'AwsSolutions-IAM5[Resource::*]',
    'Only for actions without resource-level permissions: X-Ray PutTraceSegments/PutTelemetryRecords ' +
      '(tracing) and CloudWatch Logs vended delivery (CreateLogDelivery, DescribeResourcePolicies, …) ' +
      'that the state machine needs to log to its log group.',
  );
  acknowledgeWildcardResources(
    erasure.stateMachine.role,
    [`${erasure.handler.function.functionArn}:*`],
    'Invoke permission on the erasure function, including its versions and aliases (the `:*` suffix).',
  );
  acknowledge(
    erasure.stateMachine.role,
    'AwsSolutions-IAM5[Resource::*]',
    'Only for actions without resource-level permissions: X-Ray tracing and CloudWatch Logs vended ' +
      'delivery that the state machine needs to log to its log group.',
  );
  const distributedMapPolicy = recalculation.stateMachine.node.tryFindChild('DistributedMapPolicy');
  if (distributedMapPolicy) {
    acknowledgeDistributedMapExecutions(distributedMapPolicy);
  }

  // The singleton custom resource CDK uses to put the bucket's event notification configuration.
  const notificationsHandler = stack.node
    .findAll()
    .find((construct) => construct.node.id.startsWith('BucketNotificationsHandler'));
  if (notificationsHandler) {
    acknowledge(
      notificationsHandler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-provided deployment-time custom resource that sets the bucket notification; the managed ' +
        'policy only lets it write its own logs. It never runs outside deployments.',
    );
  }

  acknowledge(
    api.restApi,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'Account-level role API Gateway uses to write execution logs; this AWS managed policy is the one AWS ' +
      'documents for it and grants only CloudWatch Logs writes.',
  );
  acknowledge(
    api.restApi,
    'AwsSolutions-APIG3',
    'No WAF web ACL by default: it costs a fixed monthly fee per ACL and rule against the "cheap when idle" ' +
      'goal. Every read needs an API key with per-client usage-plan throttling, admin routes need SigV4, ' +
      'and the stage is throttled. Attach a web ACL when exposing the API to untrusted networks.',
  );
  acknowledge(
    api.restApi,
    'AwsSolutions-APIG4',
    'Read routes are authorized with API keys bound to usage plans (one per calling application), as ' +
      'designed for server-to-server integrations; admin routes use AWS_IAM. GET /openapi.json is public ' +
      'on purpose: it is the API contract and holds no customer data.',
  );
  acknowledge(
    api.restApi,
    'AwsSolutions-COG4',
    'The API has no end users to sign in: applications use API keys (reads) and IAM SigV4 (admin), ' +
      'so a Cognito user pool would hold no one; the public GET /openapi.json serves only the contract.',
  );
}

/**
 * A Distributed Map starts child executions of its own state machine; Step Functions requires
 * DescribeExecution/StopExecution on their ARNs, which only exist at run time. Only the execution
 * ARNs of this policy are acknowledged (read from the policy itself, so nothing else slips through).
 */
function acknowledgeDistributedMapExecutions(policy: IConstruct) {
  const document = policy.node.findAll().find((child) => child instanceof iam.CfnPolicy) as
    | iam.CfnPolicy
    | undefined;
  if (!document) return;
  const resolved = Stack.of(policy).resolve(document.policyDocument) as {
    Statement?: Array<{ Resource?: unknown }>;
  };
  const executionArns = (resolved.Statement ?? [])
    .flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]))
    .filter((resource) => JSON.stringify(resource).includes(':execution:'));
  acknowledgeWildcardResources(
    policy,
    executionArns.map((resource) => Token.asString(resource)),
    'Child executions this state machine starts from its Distributed Map; their ARNs are generated at run ' +
      'time, so they are matched under the parent state machine name.',
  );
}
