/**
 * Puts the pipeline stack into a CDK app from the validated `cvm` context, with the cdk-nag checks that
 * fail the synth on any unacknowledged finding.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_KEY, parseDeploymentConfig } from './config.ts';
import { PipelineStack } from './pipeline-stack.ts';

/**
 * Adds the pipeline stack to `app`, configured from the `cvm` context (validated; a bad value stops
 * the synth with a message naming the key), and registers the cdk-nag AwsSolutions checks, which fail
 * the synth on any finding that is not acknowledged with a reason.
 */
export function addPipelineStack(app: App): PipelineStack {
  const config = parseDeploymentConfig(app.node.tryGetContext(CONTEXT_KEY));
  const stack = new PipelineStack(app, `CvmPipeline-${config.environmentName}`, {
    config,
    description: `Customer Value Management pipeline (${config.environmentName})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
