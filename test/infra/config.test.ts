/**
 * Deployment configuration: the `cvm` context block in cdk.json is complete and valid, defaults fill
 * absent keys, and bad values are refused naming the key.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEY, deploymentConfigSchema, parseDeploymentConfig } from '#infra/aws/config.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

describe('deployment config (CDK context "cvm")', () => {
  it('accepts the block in cdk.json and fills every default', () => {
    const config = parseDeploymentConfig(cdkJson.context[CONTEXT_KEY]);
    expect(config.environmentName).toBe('dev');
    expect(config.scheduleExpression).toBe('cron(0 3 ? * MON *)');
    expect(config.scheduleTimezone).toBe('Europe/Amsterdam');
    expect(config.apiClients.length).toBeGreaterThan(0);
  });

  it('lists every key in cdk.json so they are discoverable, except the optional overrides (CLV, Athena cutoff)', () => {
    const block = cdkJson.context[CONTEXT_KEY] as Record<string, unknown>;
    // The cutoff is derived from expectedTransactions unless set: listing it would freeze the default.
    const optional = ['clv', 'athenaBytesScannedCutoffMb'];
    const expected = Object.keys(deploymentConfigSchema.shape).filter((key) => !optional.includes(key));
    expect(Object.keys(block).sort()).toEqual(expected.sort());
  });

  it('gives defaults for an absent block', () => {
    expect(parseDeploymentConfig(undefined)).toEqual(parseDeploymentConfig({}));
  });

  it('accepts the block as a JSON string (cdk -c cvm=...)', () => {
    expect(parseDeploymentConfig('{"environmentName":"prod"}').environmentName).toBe('prod');
  });

  it('rejects a string that is not JSON, naming the context key', () => {
    expect(() => parseDeploymentConfig('environmentName=prod')).toThrow(/context "cvm": not a JSON object/);
  });

  it.each([
    [{ scheduleTimezone: 'Mars/Olympus_Mons' }, /cvm\.scheduleTimezone: must be an IANA time zone/],
    [
      { scheduleExpression: '0 3 * * 1' },
      /cvm\.scheduleExpression: must be an EventBridge Scheduler expression/,
    ],
    [{ alarmEmail: 'ops at example.com' }, /cvm\.alarmEmail: must be an e-mail address/],
    [{ corsOrigins: ['https://app.example.com/'] }, /cvm\.corsOrigins\.0: must be an origin/],
    [{ retentionWeeks: 0 }, /cvm\.retentionWeeks/],
    [{ logRetentionDays: 31 }, /cvm\.logRetentionDays: must be one of 1, 3, 5/],
    [{ model: 'lifetimes' }, /cvm\.model/],
    [{ apiClients: [{ name: 'has space' }] }, /cvm\.apiClients\.0\.name/],
    [{ athenaBytesScannedCutoffMb: 1 }, /cvm\.athenaBytesScannedCutoffMb/],
    [{ environment: 'prod' }, /cvm: unknown key\(s\) environment \(known: environmentName/],
  ])('rejects %j with a message naming the key', (input, message) => {
    expect(() => parseDeploymentConfig(input)).toThrow(message);
  });

  it('names cvm.environmentName for any name that is not lowercase-dns-like', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }).filter((name) => !/^[a-z][a-z0-9-]{0,19}$/.test(name)),
        (name) => {
          expect(() => parseDeploymentConfig({ environmentName: name })).toThrow(/cvm\.environmentName/);
        },
      ),
    );
  });

  it('keeps any valid environment name as given', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,19}$/), (name) => {
        expect(parseDeploymentConfig({ environmentName: name }).environmentName).toBe(name);
      }),
    );
  });
});
