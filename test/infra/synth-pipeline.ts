/**
 * Test support for the infrastructure tests: synthesizes the pipeline stack as the CDK app does (without
 * bundling), and helpers to find resources in its template.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { DeploymentConfigInput } from '#infra/aws/config.ts';
import { addPipelineStack } from '#infra/aws/pipeline-app.ts';
import type { PipelineStack } from '#infra/aws/pipeline-stack.ts';

/** Synthesized CloudFormation is untyped JSON; tests index into it freely. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no useful static type
export type CfnJson = any;

export interface SynthesizedPipeline {
  app: App;
  stack: PipelineStack;
  template: Template;
  /** Removes the cloud assembly directory. */
  cleanup(): void;
}

/**
 * Synthesizes the pipeline stack the way `infra/aws/app.ts` does (context → validated config →
 * stack, cdk-nag plugin registered), but without running esbuild (`aws:cdk:bundling-stacks: []`)
 * and into a temporary directory.
 */
export function synthPipeline(cvm: DeploymentConfigInput = {}): SynthesizedPipeline {
  const outdir = mkdtempSync(join(tmpdir(), 'cvm-cdk-test-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], cvm } });
  const stack = addPipelineStack(app);
  const template = Template.fromStack(stack);
  return { app, stack, template, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, CfnJson> }>;

/** Every resource of `type` in the template, by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The only resource of `type`; fails the test when there is not exactly one. */
export function onlyResource(
  template: Template,
  type: string,
): { id: string; properties: Record<string, CfnJson> } {
  const found = Object.entries(resourcesOfType(template, type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, properties: resource.Properties ?? {} };
}

/** Logical id of the CloudFormation resource behind a construct. */
export function logicalIdOf(stack: PipelineStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
}
