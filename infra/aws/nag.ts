/**
 * Helpers that acknowledge cdk-nag findings with a reason and an exact scope: one finding id, or IAM5
 * wildcard findings for the named resource ARNs only.
 */
import { Stack, Validations } from 'aws-cdk-lib';
// Not re-exported by the package index; the same function names IAM5 findings, so ids match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding (e.g. `AwsSolutions-APIG3`) on `scope` and everything below it.
 * The reason is what a security reviewer reads, so it must say why the finding is acceptable here.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges AwsSolutions-IAM5 wildcard-resource findings for exactly these resource ARNs (tokens
 * allowed), e.g. the `clean/*` objects of the data bucket. Each ARN is turned into the finding id
 * cdk-nag reports, so an acknowledgement never covers a wildcard it was not written for.
 */
export function acknowledgeWildcardResources(scope: IConstruct, resources: string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    const flat = flattenCfnReference(stack.resolve(resource));
    acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
  }
}

/** Reason shared by every grant on a key prefix of the data bucket. */
export const PREFIX_WILDCARD_REASON =
  'Object-level access limited to one key prefix of the data bucket. Object keys under it are ' +
  'data-dependent (source, date, content hash, run id), so a prefix wildcard is the narrowest grant possible.';
