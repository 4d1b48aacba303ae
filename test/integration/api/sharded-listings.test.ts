/**
 * Segment and audience pages of a run whose index keys are sharded, over HTTP on dynalite: the pages
 * come in exactly the order one unsharded index gives (amount descending, then customer id by its
 * UTF-8 bytes, as DynamoDB orders keys), no customer twice, none skipped, whatever the page size,
 * and the walks add up to the run record's counts. A run written before sharding (no shard count in
 * its record, unsuffixed keys) pages as before, also when a walk of it continues after a sharded run
 * was published.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionPartition, segmentPartition } from '#adapters/dynamo/keys.ts';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { ensureTable } from '#adapters/dynamo/table.ts';
import { indexShardsOf } from '#domain/run.ts';
import type { CustomerScore } from '#domain/score.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { seedRun, syntheticRun } from '#test-support/seed-scores.ts';
import { ApiClient } from './http-client.ts';

const READ_KEY = 'sharded-read-key';
const SHARDS = 7;
const ACTIONS = ['win-back-call', 'loyalty-mail', 'let-go'];
// Ids where UTF-16 and UTF-8 order disagree (U+FF5E vs an emoji), '#', and plain ones.
const SPECIAL_IDS = ['～-wave', '😀-smile', 'A#1', 'Zoë', '顧客-7'];

/** DynamoDB's order of a listing: cents descending, then the customer id's UTF-8 bytes descending. */
function unshardedOrder(scores: CustomerScore[], amount: (score: CustomerScore) => number): string[] {
  const cents = (score: CustomerScore) => Math.round(amount(score) * 100);
  return [...scores]
    .sort(
      (a, b) =>
        cents(b) - cents(a) ||
        Buffer.compare(Buffer.from(b.customerId, 'utf8'), Buffer.from(a.customerId, 'utf8')),
    )
    .map((score) => score.customerId);
}

interface Page {
  runId: string;
  customers: CustomerScore[];
  nextCursor: string | null;
}

describe('sharded segment and audience pages (local server + dynalite)', () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  const legacy = syntheticRun({
    runId: 'run-before-shards',
    asOf: '2026-10-31',
    startedAt: '2026-11-01T03:00:00.000Z',
    customers: 150,
    seed: 5,
  });
  const sharded = syntheticRun({
    runId: 'run-sharded',
    asOf: '2026-11-07',
    startedAt: '2026-11-08T03:00:00.000Z',
    customers: 600,
    seed: 13,
    previousRunId: legacy.run.runId,
    indexShards: SHARDS,
    actions: ACTIONS,
    customerId: (i) => SPECIAL_IDS[i] ?? `C${String(i).padStart(6, '0')}`,
  });
  // Special ids share one CLV (a tie decided by their bytes) and one segment.
  for (const score of sharded.scores.slice(0, SPECIAL_IDS.length)) {
    score.clv = 123.45;
    score.segment = 'Champions';
    score.valueAtStake = 25;
    score.action = 'loyalty-mail';
  }
  const recount = (run: typeof sharded) => {
    for (const summary of run.run.segments) {
      summary.customers = run.scores.filter((s) => s.segment === summary.segment).length;
    }
    for (const action of run.run.playbook!.actions) {
      action.customers = run.scores.filter((s) => s.action === action.action).length;
    }
  };
  recount(sharded);

  /** Follows nextCursor from `first` (or the start) to the end; every page's run id is checked. */
  async function walk(path: string, limit: number, runId: string, from?: string | null) {
    const seen: string[] = [];
    let cursor: string | null | undefined = from;
    let pages = 0;
    do {
      const query = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await api.request('GET', `${path}?${query}`);
      expect(response.status, `${path} page ${pages}`).toBe(200);
      const page = response.json as Page;
      expect(page.runId).toBe(runId);
      if (page.nextCursor !== null) expect(page.customers).toHaveLength(limit);
      seen.push(...page.customers.map((customer) => customer.customerId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 1_000);
    return { seen, pages };
  }

  beforeAll(async () => {
    stack = await startLocalStack();
    // The run before sharding: written with the unsuffixed keys, its record without a shard count.
    await seedRun({ dynamo: stack.clients.dynamo, table: stack.config.table }, legacy, { makeCurrent: true });
    server = await startApiServer({
      handler: createApiHandler({
        config: stack.config,
        clients: stack.clients,
        serves: 'read',
        // The pointer is read on every request: the test publishes a run between two requests.
        readModel: createScoreReadModel(stack.clients, stack.config.table, { pointerTtlMs: 0 }),
      }),
      port: 0,
      apiKey: READ_KEY,
    });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  });

  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('pages a run written before sharding as before, and finishes its walk after a sharded run is published', async () => {
    expect(legacy.run.indexShards).toBeUndefined();
    const segment = 'Champions';
    const path = `/segments/${segment}/customers`;
    const expected = unshardedOrder(
      legacy.scores.filter((s) => s.segment === segment),
      (s) => s.clv,
    );
    expect((await walk(path, 4, legacy.run.runId)).seen).toEqual(expected);

    // Start a walk on the old run, publish the sharded run, then finish the walk with its cursor.
    const first = (await api.request('GET', `${path}?limit=5`)).json as Page;
    await seedRun({ dynamo: stack.clients.dynamo, table: stack.config.table }, sharded, {
      makeCurrent: true,
    });
    const rest = await walk(path, 5, legacy.run.runId, first.nextCursor);
    expect([...first.customers.map((c) => c.customerId), ...rest.seen]).toEqual(expected);
  });

  it('writes the sharded run under its shard keys only, spread over every shard', async () => {
    const items = async (partition: string, index: 'gsi1' | 'gsi2') => {
      const page = await stack.clients.dynamo.send(
        new QueryCommand({
          TableName: stack.config.table,
          IndexName: index,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': `${index}pk` },
          ExpressionAttributeValues: { ':pk': partition },
        }),
      );
      return page.Items ?? [];
    };
    const segment = 'Champions';
    expect(await items(segmentPartition(sharded.run.runId, segment), 'gsi1')).toHaveLength(0);
    const perShard = await Promise.all(
      Array.from({ length: SHARDS }, (_, s) =>
        items(`${segmentPartition(sharded.run.runId, segment)}#${s}`, 'gsi1'),
      ),
    );
    expect(perShard.every((shard) => shard.length > 0)).toBe(true);
    expect(perShard.reduce((sum, shard) => sum + shard.length, 0)).toBe(
      sharded.run.segments.find((s) => s.segment === segment)!.customers,
    );
    expect(await items(actionPartition(sharded.run.runId, 'let-go'), 'gsi2')).toHaveLength(0);
    expect(await items(`${actionPartition(sharded.run.runId, 'let-go')}#0`, 'gsi2')).not.toHaveLength(0);
  });

  it.each([7, 50, 1000])(
    'walks every segment of the sharded run in the unsharded order with pages of %i',
    async (limit) => {
      let total = 0;
      for (const summary of sharded.run.segments) {
        const expected = unshardedOrder(
          sharded.scores.filter((s) => s.segment === summary.segment),
          (s) => s.clv,
        );
        const { seen, pages } = await walk(
          `/segments/${encodeURIComponent(summary.segment)}/customers`,
          limit,
          sharded.run.runId,
        );
        expect(seen, summary.segment).toEqual(expected);
        expect(seen).toHaveLength(summary.customers);
        expect(new Set(seen).size).toBe(seen.length);
        expect(pages).toBe(Math.max(1, Math.ceil(summary.customers / limit)));
        total += seen.length;
      }
      expect(total).toBe(sharded.run.customers);
    },
  );

  it('pages one customer at a time (a page reads two items across all shards)', async () => {
    const expected = unshardedOrder(
      sharded.scores.filter((s) => s.segment === 'Champions'),
      (s) => s.clv,
    );
    expect((await walk('/segments/Champions/customers', 1, sharded.run.runId)).seen).toEqual(expected);
  });

  it('orders tied customers by the bytes of their ids across shards, as one index would', async () => {
    const { seen } = await walk('/segments/Champions/customers', 3, sharded.run.runId);
    const tied = seen.filter((id) => SPECIAL_IDS.includes(id));
    expect(tied).toEqual(['😀-smile', '～-wave', '顧客-7', 'Zoë', 'A#1']);
  });

  it.each([9, 100])(
    'walks every audience of the sharded run by value at stake with pages of %i',
    async (limit) => {
      let total = 0;
      for (const action of sharded.run.playbook!.actions) {
        const expected = unshardedOrder(
          sharded.scores.filter((s) => s.action === action.action),
          (s) => s.valueAtStake ?? 0,
        );
        const { seen } = await walk(`/playbook/${action.action}/customers`, limit, sharded.run.runId);
        expect(seen, action.action).toEqual(expected);
        expect(seen).toHaveLength(action.customers);
        total += seen.length;
      }
      expect(total).toBe(sharded.run.customers);
    },
  );

  it('reads a home from before sharding and GSI2 (table rebuilt on start) with its old keys, page by page', async () => {
    // Items exactly as the earlier version wrote them: literal unsuffixed keys, no shard count.
    const table = 'home-before-shards';
    await stack.clients.rawDynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    const old = syntheticRun({
      runId: 'run-old-home',
      asOf: '2026-09-30',
      startedAt: '2026-10-01T03:00:00.000Z',
      customers: 90,
      seed: 3,
      actions: ['call'],
    });
    const cents = (amount: number) => String(Math.round(amount * 100)).padStart(15, '0');
    for (const score of old.scores) {
      await stack.clients.dynamo.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: `CUST#${score.customerId}`,
            sk: `RUN#${old.run.runId}`,
            gsi1pk: `SEG#${old.run.runId}#${score.segment}`,
            gsi1sk: `${cents(score.clv)}#${score.customerId}`,
            gsi2pk: `ACT#${old.run.runId}#${score.action}`,
            gsi2sk: `${cents(score.valueAtStake!)}#${score.customerId}`,
            ...score,
          },
        }),
      );
    }
    await stack.clients.dynamo.send(
      new PutCommand({ TableName: table, Item: { pk: `RUN#${old.run.runId}`, sk: 'META', ...old.run } }),
    );
    await ensureTable(stack.clients.dynamo, table);

    const readModel = createScoreReadModel(stack.clients, table);
    const run = (await readModel.getRun(old.run.runId))!;
    expect(run.indexShards).toBeUndefined();
    const walkModel = async (list: (after?: string) => ReturnType<typeof readModel.listSegmentMembers>) => {
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await list(after);
        seen.push(...page.items.map((item) => item.customerId));
        after = page.nextPosition ?? undefined;
      } while (after !== undefined);
      return seen;
    };
    let total = 0;
    for (const summary of run.segments) {
      const seen = await walkModel((after) =>
        readModel.listSegmentMembers({
          runId: run.runId,
          segment: summary.segment,
          limit: 4,
          indexShards: indexShardsOf(run),
          ...(after ? { after } : {}),
        }),
      );
      expect(seen).toEqual(
        unshardedOrder(
          old.scores.filter((s) => s.segment === summary.segment),
          (s) => s.clv,
        ),
      );
      total += seen.length;
    }
    expect(total).toBe(old.scores.length);
    const audience = await walkModel((after) =>
      readModel.listAudienceMembers({
        runId: run.runId,
        action: 'call',
        limit: 6,
        indexShards: indexShardsOf(run),
        ...(after ? { after } : {}),
      }),
    );
    expect(audience).toEqual(unshardedOrder(old.scores, (s) => s.valueAtStake ?? 0));
  });

  it('still refuses a tampered cursor with 400', async () => {
    const first = (await api.request('GET', '/segments/Champions/customers?limit=2')).json as Page;
    const decoded = JSON.parse(Buffer.from(first.nextCursor!, 'base64url').toString('utf8'));
    const tampered = Buffer.from(JSON.stringify({ ...decoded, after: 'not-a-position' })).toString(
      'base64url',
    );
    const response = await api.request('GET', `/segments/Champions/customers?cursor=${tampered}`);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_cursor' });
  });
});
