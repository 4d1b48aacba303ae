/**
 * The Map concurrency a deployment sets reaches `prepare`, which sizes the run's index shards for it:
 * the environment variable the CDK app sets, the recalculation settings, the shard count.
 */
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '#adapters/aws-clients.ts';
import { configFromEnv, ENV, type RuntimeConfig } from '#adapters/config.ts';
import { RECALC_PIPELINE } from '#app/recalc/pipeline.ts';
import { runIndexShards } from '#app/recalc/prepare.ts';
import { createRecalcDeps } from '#functions/recalc/handler.ts';

const BASE_ENV = { [ENV.bucket]: 'data', [ENV.table]: 'cvm' };

describe('index shards of a run', () => {
  it('reads the Map concurrency from the environment, refusing a value the Map cannot have', () => {
    expect(configFromEnv({ ...BASE_ENV, [ENV.scoreMaxConcurrency]: '25' }).scoreMaxConcurrency).toBe(25);
    expect(configFromEnv(BASE_ENV).scoreMaxConcurrency).toBeUndefined();
    expect(() => configFromEnv({ ...BASE_ENV, [ENV.scoreMaxConcurrency]: '0' })).toThrow(
      /CVM_SCORE_MAX_CONCURRENCY/,
    );
  });

  it('hands it to the recalculation steps as a setting', () => {
    const settingsOf = (config: RuntimeConfig) =>
      createRecalcDeps({
        config,
        clients: createAwsClients({ ...config, localCredentials: true }),
        warehouse: () => Promise.reject(new Error('not used')),
        publisher: { publish: () => Promise.reject(new Error('not used')) } as never,
        logger: console as never,
      }).settings;
    expect(
      settingsOf(configFromEnv({ ...BASE_ENV, [ENV.scoreMaxConcurrency]: '25' })).scoreMaxConcurrency,
    ).toBe(25);
    expect(settingsOf(configFromEnv(BASE_ENV)).scoreMaxConcurrency).toBeUndefined();
  });

  it("sizes the shards for the deployment's Map concurrency, else the pipeline's", () => {
    const map = RECALC_PIPELINE.body.steps.find((step) => step.kind === 'map');
    expect(map?.kind === 'map' && map.maxConcurrency).toBe(4);
    // 250 k customers = 3 parts: 3 × 4,000 writes/s at concurrency ≥ 3, 4,000 at concurrency 1.
    expect(runIndexShards({}, 250_000)).toBe(24);
    expect(runIndexShards({ scoreMaxConcurrency: 1 }, 250_000)).toBe(8);
    expect(runIndexShards({ scoreMaxConcurrency: 100 }, 10_000_000)).toBe(27);
    expect(runIndexShards({}, 400)).toBe(1);
  });
});
