import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRecalcRepositories, type RecalcRepositories } from '#adapters/dynamo/recalc-repositories.ts';
import { hashCustomerId } from '#app/customer-id-hash.ts';
import { RecalcLockedError } from '#app/ports/recalc-lock.ts';
import { PointerMovedError } from '#app/ports/run-repository.ts';
import { DEFAULT_LEASE_MINUTES, renewLease } from '#app/recalc/lease.ts';
import type { CustomerScore } from '#domain/score.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';

const score = (customerId: string, runId: string): CustomerScore => ({
  customerId,
  runId,
  computedAt: '2026-01-05T06:00:00.000Z',
  asOf: '2026-01-04',
  currency: 'EUR',
  clv: 12.5,
  expectedPurchases90d: 0.4,
  pAlive: 0.8,
  expectedOrderValue: 30,
  expectedNextPurchaseDate: '2026-03-01',
  churnRisk: 'low',
  historicRevenue: 90,
  historicOrders: 3,
  frequency: 2,
  recency: 10,
  T: 20,
  rfm: { r: 4, f: 3, m: 3 },
  segment: 'Potential Loyalists',
  valueTier: 'rest',
});

// The recalculation's repositories (lock, runs and pointer, scores, suppression) and the read model's getScore.
describe('recalculation repositories on DynamoDB (dynalite)', () => {
  let stack: LocalStack;
  let repos: RecalcRepositories;
  let readModel: ReturnType<typeof createScoreReadModel>;
  beforeAll(async () => {
    stack = await startLocalStack();
    repos = createRecalcRepositories({ dynamo: stack.clients.dynamo, table: stack.config.table });
    readModel = createScoreReadModel(stack.clients, stack.config.table);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("renews a live run's lease at each step; a run whose lease ran out and was taken over must stop", async () => {
    const t0 = new Date('2026-02-01T06:00:00Z');
    const minutes = (m: number) => new Date(t0.getTime() + m * 60_000);
    await repos.lock.acquire('long-run', t0, DEFAULT_LEASE_MINUTES);
    // Steps of a long run renew the lease, so another run is refused long after the first lease.
    await renewLease({ lock: repos.lock, now: () => minutes(80) }, { runId: 'long-run' });
    await expect(repos.lock.acquire('other', minutes(DEFAULT_LEASE_MINUTES + 10), 10)).rejects.toBeInstanceOf(
      RecalcLockedError,
    );
    // A run that stops renewing frees the lock one lease after its last step...
    const afterLease = minutes(80 + DEFAULT_LEASE_MINUTES + 1);
    await repos.lock.acquire('other', afterLease, DEFAULT_LEASE_MINUTES);
    // ...and if it wakes up, its next step is refused instead of publishing over the new run.
    await expect(
      renewLease(
        { lock: repos.lock, now: () => minutes(80 + DEFAULT_LEASE_MINUTES + 2) },
        { runId: 'long-run' },
      ),
    ).rejects.toBeInstanceOf(RecalcLockedError);
    await repos.lock.release('other');
  });

  it('lets one run hold the lock, refuses others until it is released or its lease ends', async () => {
    const t0 = new Date('2026-01-05T06:00:00Z');
    await repos.lock.acquire('run-a', t0, 10);
    await repos.lock.acquire('run-a', t0, 10); // a retried acquire by the holder succeeds
    const refused = repos.lock.acquire('run-b', new Date(t0.getTime() + 60_000), 10);
    await expect(refused).rejects.toBeInstanceOf(RecalcLockedError);
    await expect(refused).rejects.toThrow(
      /run run-a holds the lock since 2026-01-05T06:00:00.000Z.*run-b was refused.*frees itself at 2026-01-05T06:10:00.000Z/,
    );
    expect(await repos.lock.release('run-b')).toBe(false); // not the holder: nothing released
    await expect(repos.lock.acquire('run-b', new Date(t0.getTime() + 120_000), 10)).rejects.toThrow(
      RecalcLockedError,
    );
    // After the lease: taken over.
    await repos.lock.acquire('run-b', new Date(t0.getTime() + 11 * 60_000), 10);
    expect(await repos.lock.release('run-b')).toBe(true);
    await repos.lock.acquire('run-c', t0, 10);
    expect(await repos.lock.release('run-c')).toBe(true);
  });

  it('flips the pointer only from the run it expects, and accepts a repeated flip of the same run', async () => {
    expect(await repos.runs.getCurrentRunId()).toBeNull();
    await repos.runs.flipCurrentRun('r1', null, new Date());
    await expect(repos.runs.flipCurrentRun('r2', null, new Date())).rejects.toBeInstanceOf(PointerMovedError);
    await repos.runs.flipCurrentRun('r2', 'r1', new Date());
    await repos.runs.flipCurrentRun('r2', 'r1', new Date());
    await expect(repos.runs.flipCurrentRun('r3', 'r1', new Date())).rejects.toThrow(/no longer r1/);
    expect(await repos.runs.getCurrentRunId()).toBe('r2');
  });

  it('erases a customer: every run’s score deleted, hashed id suppressed, others untouched', async () => {
    await repos.scores.writeScores(
      [score('alice', 'r1'), score('bob', 'r1'), score('alice', 'r2')],
      2_000_000_000,
    );
    expect(await readModel.getScore('alice', 'r2')).toEqual(score('alice', 'r2'));
    const previous = await repos.scores.getPreviousScores(['alice', 'bob', 'carol'], 'r1');
    expect([...previous.keys()].sort()).toEqual(['alice', 'bob']);
    expect(previous.get('bob')).toEqual({ segment: 'Potential Loyalists', churnRisk: 'low' });

    const erased = await repos.suppression.eraseCustomer('alice', new Date());
    expect(erased).toEqual({ customerIdHash: hashCustomerId('alice'), deletedScores: 2 });
    expect(await readModel.getScore('alice', 'r1')).toBeNull();
    expect(await readModel.getScore('alice', 'r2')).toBeNull();
    expect(await readModel.getScore('bob', 'r1')).not.toBeNull();
    expect(await repos.suppression.isSuppressed('alice')).toBe(true);
    expect(await repos.suppression.isSuppressed('bob')).toBe(false);
    expect(await repos.suppression.listSuppressedHashes()).toEqual([hashCustomerId('alice')]);
    // Idempotent.
    expect((await repos.suppression.eraseCustomer('alice', new Date())).deletedScores).toBe(0);
    await expect(repos.suppression.eraseCustomer('  ', new Date())).rejects.toThrow(/must not be empty/);
  });
});
