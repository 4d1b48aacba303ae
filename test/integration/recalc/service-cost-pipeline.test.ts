/**
 * Cost to serve and the high-value detractors list through the local stack: a plain orders export
 * plus an attributes file with service contacts, service costs and NPS → `runLocalRecalculation` →
 * published scores, `GET /customers/{id}`, `GET /playbook/high-value-detractors`, the list file and
 * the run report; then erasure of one listed customer. Every expected figure is computed here from
 * the inputs and the published gross figures (CLV, P(alive), value tier), not read back from the code
 * under test.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createErasureDeps } from '#adapters/erasure/erasure-deps.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { eraseCustomer } from '#app/erasure/erase-customer.ts';
import { incomingAttributesKey, incomingKey, reportKey, runListKey } from '#domain/bucket-layout.ts';
import type { CustomerScore } from '#domain/score.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { createRandom } from '#test-support/simulate.ts';
import { ApiClient } from '../api/http-client.ts';
import { upload } from '../ingest/support.ts';
import { scoresOfRun } from './sample.ts';

const AS_OF = '2025-06-30';
const PER_CONTACT = 7.5;
const PERIOD_MONTHS = 6;
const CONFIGURED_PER_PERIOD = 3;
const READ_KEY = 'read-key-for-service-cost';

const dayOf = (offset: number) =>
  new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);

/** Orders without any economics column: the attributes alone make it an economics run. */
function generateOrders() {
  const random = createRandom(4242);
  const orders: { customer: string; id: string; day: string; amount: string }[] = [];
  for (let c = 0; c < 150; c++) {
    const count = 1 + Math.floor(random() * 7);
    for (let o = 0; o < count; o++) {
      const cents = 1000 + Math.floor(random() * 30_000);
      orders.push({
        customer: `S${c}`,
        id: `S${c}-${o}`,
        day: dayOf(Math.floor(random() * 545)),
        amount: `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      });
    }
  }
  return orders;
}

/** Per customer: service contacts (per 6 months), or an own service cost, or neither; an NPS. */
function generateAttributes() {
  const random = createRandom(77);
  const attributes = new Map<string, { contacts: number | null; costCents: number | null; nps: number }>();
  for (let c = 0; c < 150; c++) {
    const kind = c % 3;
    attributes.set(`S${c}`, {
      contacts: kind === 0 ? Math.floor(random() * 9) : null,
      costCents: kind === 1 ? 500 + Math.floor(random() * 5000) : null,
      nps: Math.floor(random() * 11),
    });
  }
  return attributes;
}

describe('service cost and the high-value detractors list end to end', { timeout: 240_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let run: Awaited<ReturnType<typeof runLocalRecalculation>>;
  let scores: Map<string, CustomerScore>;
  const orders = generateOrders();
  const attributes = generateAttributes();

  beforeAll(async () => {
    stack = await startLocalStack();
    const deps = {
      config: stack.config,
      clients: stack.clients,
      now: () => new Date('2025-07-01T00:00:00Z'),
    };
    const csv = [
      'customer_id,order_id,order_date,amount',
      ...orders.map((o) => `${o.customer},${o.id},${o.day},${o.amount}`),
    ].join('\n');
    expect(
      await ingestObject(deps, await upload(stack, incomingKey('shop', 'orders.csv'), csv)),
    ).toMatchObject({
      status: 'succeeded',
      accepted: orders.length,
    });
    const rows = [...attributes].map(
      ([id, a]) =>
        `${id},${a.contacts ?? ''},${a.costCents === null ? '' : (a.costCents / 100).toFixed(2)},${a.nps}`,
    );
    const file = ['customer_id,service_contacts,service_cost,nps', ...rows].join('\n');
    expect(
      await ingestObject(deps, await upload(stack, incomingAttributesKey('shop', 'customers.csv'), file)),
    ).toMatchObject({ status: 'succeeded', accepted: attributes.size });
    run = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: {
        currency: 'EUR',
        timeUnit: 'weeks',
        model: 'bgnbd',
        holdoutWeeks: 13,
        economics: {
          costPerServiceContact: PER_CONTACT,
          servicePeriodMonths: PERIOD_MONTHS,
          serviceCostPerPeriod: CONFIGURED_PER_PERIOD,
        },
      },
    });
    const items = await scoresOfRun(
      stack,
      run.record.runId,
      run.record.segments.map((s) => s.segment),
    );
    scores = new Map(items.map((item) => [item.customerId as string, item as unknown as CustomerScore]));
    const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
    server = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  }, 240_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  /** Service cost per month from the inputs: own cost, else contacts × cost per contact, else configured. */
  const servicePerMonth = (customer: string) => {
    const a = attributes.get(customer)!;
    if (a.costCents !== null) return a.costCents / 100 / PERIOD_MONTHS;
    if (a.contacts !== null) return (a.contacts * PER_CONTACT) / PERIOD_MONTHS;
    return CONFIGURED_PER_PERIOD / PERIOD_MONTHS;
  };
  /** Σ_{i=1..12} 1/(1+d)^i with d the monthly rate of 10 % a year. */
  const discountedMonths = (() => {
    const d = 1.1 ** (1 / 12) - 1;
    let sum = 0;
    for (let i = 1; i <= 12; i++) sum += 1 / (1 + d) ** i;
    return sum;
  })();

  it('publishes cost to serve = service per month × P(alive) × discounted months, and net CLV = gross − that', () => {
    expect(scores.size).toBe(attributes.size);
    const bases = new Set<string>();
    for (const [customer, score] of scores) {
      const e = score.economics!;
      expect(e, customer).toBeDefined();
      const a = attributes.get(customer)!;
      bases.add(a.costCents !== null ? 'cost' : a.contacts !== null ? 'contacts' : 'configured');
      // No order figures: the ratio is clv.margin (1) and no handling cost, so only service differs.
      expect(e.netRatio, customer).toBe(1);
      const cost = servicePerMonth(customer) * score.pAlive * discountedMonths;
      // P(alive) is published to 6 digits and money to the cent.
      expect(Math.abs(e.costToServe - cost), customer).toBeLessThanOrEqual(0.006);
      expect(Math.abs(e.netClv - (score.clv - cost)), customer).toBeLessThanOrEqual(0.011);
      expect(e.negativeNetContribution, customer).toBe(e.netClv < 0);
    }
    expect([...bases].sort()).toEqual(['configured', 'contacts', 'cost']);
  });

  it('serves the same cost to serve on GET /customers/{id}', async () => {
    for (const id of ['S0', 'S1', 'S2', 'S99']) {
      const response = await api.request('GET', `/customers/${id}`);
      expect(response.status).toBe(200);
      const body = response.json as CustomerScore;
      expect(body.economics).toEqual(scores.get(id)!.economics);
      expect(body.economics!.costToServe).toBeGreaterThanOrEqual(0);
    }
  });

  it('records gross − net per segment as the summed cost to serve, and shows it in the report', async () => {
    const segments = run.record.economics!.segments;
    for (const segment of segments) {
      const members = [...scores.values()].filter((s) => s.segment === segment.segment);
      const cost = members.reduce(
        (sum, s) => sum + servicePerMonth(s.customerId) * s.pAlive * discountedMonths,
        0,
      );
      // Unrounded sums in the record against per-customer figures from published (rounded) inputs.
      expect(Math.abs(segment.grossClv - segment.netClv - cost), segment.segment).toBeLessThanOrEqual(
        0.01 * members.length,
      );
    }
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(run.record.runId) }),
    );
    const html = await object.Body!.transformToString();
    const biggest = segments[0]!;
    const amount = (n: number) =>
      n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    expect(html).toContain(`<td>${biggest.segment}</td><td>${biggest.customers}</td>`);
    expect(html).toContain(`<td>${amount(biggest.grossClv)}</td><td>${amount(biggest.netClv)}</td>`);
  });

  /** The list from the inputs: NPS 0–6 and a published value tier of top10 or above (the default rule). */
  const expectedDetractors = () =>
    [...scores.values()]
      .filter(
        (s) => attributes.get(s.customerId)!.nps <= 6 && (s.valueTier === 'top1' || s.valueTier === 'top10'),
      )
      .sort(
        (a, b) =>
          b.economics!.netClv - a.economics!.netClv ||
          (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0),
      )
      .map((s) => s.customerId);

  async function walkList(limit: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let total = -1;
    do {
      const response = await api.request(
        'GET',
        `/playbook/high-value-detractors?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(response.status).toBe(200);
      const body = response.json as {
        runId: string;
        total: number;
        advice: string | null;
        customers: CustomerScore[];
        nextCursor: string | null;
      };
      expect(body.runId).toBe(run.record.runId);
      expect(body.advice).toBeNull();
      total = body.total;
      ids.push(...body.customers.map((c) => c.customerId));
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    return { ids, pages, total };
  }

  async function listFile(): Promise<string[]> {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({
        Bucket: stack.config.bucket,
        Key: runListKey(run.record.runId, 'high-value-detractors'),
      }),
    );
    const [header, ...lines] = (await object.Body!.transformToString()).trimEnd().split('\n');
    expect(header).toBe(
      'rank,customer_id,net_clv,clv,value_tier,satisfaction_scale,satisfaction_score,segment,currency',
    );
    return lines.map((line) => line.split(',')[1]!);
  }

  async function indexMembers(): Promise<string[]> {
    const page = await stack.clients.dynamo.send(
      new QueryCommand({
        TableName: stack.config.table,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :pk',
        ExpressionAttributeValues: { ':pk': `LIST#${run.record.runId}#high-value-detractors` },
        ScanIndexForward: false,
      }),
    );
    return (page.Items ?? []).map((item) => item.customerId as string);
  }

  it('lists the high-value detractors in pages, net CLV descending, exactly as selected from the inputs', async () => {
    const expected = expectedDetractors();
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(run.record.economics!.highValueDetractors).toBe(expected.length);
    const walked = await walkList(2);
    expect(walked.ids).toEqual(expected);
    expect(walked.total).toBe(expected.length);
    expect(walked.pages).toBe(Math.ceil(expected.length / 2));
    for (const id of expected) expect(scores.get(id)!.economics!.highValueDetractor, id).toBe(true);
    expect([...scores.values()].filter((s) => s.economics!.highValueDetractor).length).toBe(expected.length);
    expect(await listFile()).toEqual(expected);
    expect(await indexMembers()).toEqual(expected);
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(run.record.runId) }),
    );
    const html = await object.Body!.transformToString();
    expect(html).toContain(`<strong>${expected.length}</strong> high-value detractors`);
    expect(html).toContain('href="lists/high-value-detractors.csv"');
  });

  it('declares the list route in the OpenAPI document and asks for the read key like the other read routes', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; operationId?: string }>>;
    };
    const operation = document.paths['/playbook/high-value-detractors']!.get!;
    expect(operation.operationId).toBe('listHighValueDetractors');
    expect(operation.security).toEqual(document.paths['/playbook/{action}/customers']!.get!.security);
    expect((await api.request('GET', '/playbook/high-value-detractors', { key: null })).status).toBe(401);
    expect((await api.request('GET', '/playbook/high-value-detractors', { key: 'wrong' })).status).toBe(403);
  });

  it('forgets a listed customer: gone from the list, the list file and the index', async () => {
    const expected = expectedDetractors();
    const forgotten = expected[1]!;
    const deps = createErasureDeps(stack.config, stack.clients);
    try {
      const result = await eraseCustomer(deps, forgotten);
      expect(result.deletedScores).toBe(1);
    } finally {
      await deps.close();
    }
    const rest = expected.filter((id) => id !== forgotten);
    expect((await walkList(2)).ids).toEqual(rest);
    expect(await indexMembers()).toEqual(rest);
    expect(await listFile()).toEqual(rest);
    const response = await api.request('GET', `/customers/${forgotten}`);
    expect(response.status).toBe(404);
  });
});
