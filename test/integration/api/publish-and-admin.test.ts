/**
 * The API while runs are published, and its admin operations: cached run pointer, segment walks that
 * stay on their run, starting recalculations and erasing customers.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '#adapters/aws-clients.ts';
import { runtimeConfigSchema } from '#adapters/config.ts';
import { scoreKey } from '#adapters/dynamo/keys.ts';
import type { CustomerScore } from '#domain/score.ts';
import { createAwsAdminOperations } from '#functions/api/admin.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { serveLocalApi } from '#infra/cli/commands/serve.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { seedRun, syntheticRun } from '#test-support/seed-scores.ts';
import { ingestSample } from '../recalc/sample.ts';
import { ApiClient } from './http-client.ts';

const unusedAdmin = {
  startRecalculation: () => Promise.reject(new Error('not used here')),
  forgetCustomer: () => Promise.reject(new Error('not used here')),
};

const run = (runId: string, day: number, seed: number) =>
  syntheticRun({
    runId,
    asOf: `2026-10-${String(day).padStart(2, '0')}`,
    startedAt: `2026-11-${String(day).padStart(2, '0')}T03:00:00.000Z`,
    customers: 120,
    seed,
  });

describe('publishing while the API serves', () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let clock = 1_000_000;
  const target = () => ({ dynamo: stack.clients.dynamo, table: stack.config.table });

  beforeAll(async () => {
    stack = await startLocalStack();
    await seedRun(target(), run('run-a', 1, 1));
    const handler = createApiHandler({
      config: stack.config,
      clients: stack.clients,
      admin: unusedAdmin,
      now: () => clock,
    });
    server = await startApiServer({ handler, port: 0 });
    api = new ApiClient(server.url);
    await api.loadOpenApi();
  });
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('reads the current-run pointer from a cache that expires within seconds', async () => {
    const before = await api.request('GET', '/customers/C000001');
    expect((before.json as CustomerScore).runId).toBe('run-a');
    await seedRun(target(), run('run-b', 2, 2));
    const cached = await api.request('GET', '/customers/C000001');
    expect((cached.json as CustomerScore).runId).toBe('run-a');
    // The ETag names the run, so a client holding run-a's copy revalidates once the pointer moves.
    const etag = cached.headers.get('etag')!;
    clock += 3_001;
    const fresh = await api.request('GET', '/customers/C000001', { headers: { 'if-none-match': etag } });
    expect(fresh.status).toBe(200);
    expect((fresh.json as CustomerScore).runId).toBe('run-b');
    expect(fresh.headers.get('etag')).toMatch(/^"run-b-/);
  });

  it('keeps a segment walk on the run it started on when a newer run is published', async () => {
    clock += 3_001;
    const segment = 'Champions';
    const first = await api.request('GET', `/segments/${segment}/customers?limit=4`);
    const firstPage = first.json as { runId: string; customers: CustomerScore[]; nextCursor: string };
    expect(firstPage.runId).toBe('run-b');

    await seedRun(target(), run('run-c', 3, 3));
    clock += 3_001;

    const seen = [...firstPage.customers];
    let cursor: string | null = firstPage.nextCursor;
    while (cursor !== null) {
      const response = await api.request('GET', `/segments/${segment}/customers?limit=4&cursor=${cursor}`);
      const page = response.json as { runId: string; customers: CustomerScore[]; nextCursor: string | null };
      expect(page.runId).toBe('run-b');
      seen.push(...page.customers);
      cursor = page.nextCursor;
    }
    const expected = run('run-b', 2, 2)
      .scores.filter((s) => s.segment === segment)
      .sort((a, b) => b.clv - a.clv || (a.customerId < b.customerId ? 1 : -1));
    expect(seen).toEqual(expected);

    const fresh = await api.request('GET', `/segments/${segment}/customers?limit=4`);
    expect((fresh.json as { runId: string }).runId).toBe('run-c');
  });

  it('serves the history across all three runs', async () => {
    const response = await api.request('GET', '/customers/C000007/history');
    const body = response.json as { segmentPath: Array<{ runId: string }> };
    expect(body.segmentPath.map((step) => step.runId)).toEqual(['run-a', 'run-b', 'run-c']);
  });

  it('leaves out the scores of runs that never published (failed, or still running)', async () => {
    // Both runs wrote every customer's score before ending; neither was ever the current run.
    for (const [runId, status] of [
      ['run-d-failed', 'failed'],
      ['run-e-running', 'running'],
    ] as const) {
      const data = run(runId, 4, 4);
      await seedRun(target(), { ...data, run: { ...data.run, status } }, { makeCurrent: false });
      const stored = await stack.clients.dynamo.send(
        new GetCommand({ TableName: stack.config.table, Key: scoreKey('C000007', runId) }),
      );
      expect(stored.Item, `${runId} wrote its score`).toBeDefined();
    }
    const response = await api.request('GET', '/customers/C000007/history');
    const body = response.json as { scores: CustomerScore[]; segmentPath: Array<{ runId: string }> };
    expect(body.scores.map((s) => s.runId)).toEqual(['run-a', 'run-b', 'run-c']);
    expect(body.segmentPath.map((step) => step.runId)).toEqual(['run-a', 'run-b', 'run-c']);
  });
});

describe('admin operations in AWS', () => {
  it('starts the configured state machine with the validated request', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:1:execution:recalc:x' });
    const config = runtimeConfigSchema.parse({
      bucket: 'b',
      table: 't',
      stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:recalc',
    });
    const admin = createAwsAdminOperations(config, createAwsClients(config));
    const started = await admin.startRecalculation({
      asOf: '2026-11-01',
      model: 'auto',
      family: 'contractual',
    });
    expect(started).toEqual({ executionArn: 'arn:aws:states:eu-west-1:1:execution:recalc:x' });
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(config.stateMachineArn);
    // The execution input is the run's request: `family` chooses which sources the run scores.
    expect(JSON.parse(call.input!)).toMatchObject({
      asOf: '2026-11-01',
      model: 'auto',
      family: 'contractual',
    });
    sfn.restore();
  });

  it('answers 503 naming the variable when no state machine is configured', async () => {
    const config = runtimeConfigSchema.parse({ bucket: 'b', table: 't' });
    const clients = createAwsClients(config);
    const handler = createApiHandler({ config, clients, admin: createAwsAdminOperations(config, clients) });
    const response = await handler(
      {
        httpMethod: 'POST',
        path: '/runs',
        resource: '/runs',
        headers: { 'Content-Type': 'application/json' },
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        body: '{}',
        isBase64Encoded: false,
        requestContext: {
          requestId: 'req-1',
          identity: { userArn: 'arn:aws:iam::1:role/admin', caller: 'admin' },
        } as never,
      },
      {} as never,
    );
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      error: 'not_configured',
      message: 'Recalculation is not available: CVM_STATE_MACHINE_ARN is not set',
      requestId: 'req-1',
    });
  });
});

describe('cvm serve wiring: real recalculation and erasure on the local stack', { timeout: 240_000 }, () => {
  const ADMIN_KEY = 'local-admin-key';
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;

  beforeAll(async () => {
    // The sample is in USD; the run currency defaults to the stack's default currency.
    stack = await startLocalStack({ defaultCurrency: 'USD' });
    await ingestSample(stack);
    server = await serveLocalApi(stack, { port: 0, adminKey: ADMIN_KEY });
    api = new ApiClient(server.url);
    await api.loadOpenApi();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('POST /runs starts a recalculation that publishes, a second one meanwhile is a 409', async () => {
    const started = await api.request('POST', '/runs', { body: { asOf: '1998-06-30' }, key: ADMIN_KEY });
    expect(started.status).toBe(202);
    const { runId } = started.json as { runId: string };
    expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);

    const second = await api.request('POST', '/runs', { body: {}, key: ADMIN_KEY });
    expect(second.status).toBe(409);
    expect((second.json as { message: string }).message).toContain(runId);

    // The run record shows `running` until the background steps publish (or fail) the run; the pointer
    // flips after the record is written and is cached for seconds, so wait for the current run to follow.
    const deadline = Date.now() + 200_000;
    let run: { runId?: string; status?: string; message?: string } = {};
    let currentRunId: string | undefined;
    while (Date.now() < deadline) {
      const response = await api.request('GET', `/runs/${runId}`);
      if (response.status === 200) run = response.json as typeof run;
      if (run.status === 'failed') break;
      const current = await api.request('GET', '/runs/current');
      currentRunId = (current.json as { runId?: string }).runId;
      if (currentRunId === runId) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(run, run.message).toMatchObject({ runId, status: 'published' });
    expect(currentRunId).toBe(runId);

    const score = await api.request('GET', '/customers/0001');
    expect(score.status).toBe(200);
    expect(score.json).toMatchObject({ customerId: '0001', runId, asOf: '1998-06-30' });
  });

  it('DELETE /customers/{customerId} erases the customer from every run and every stored file', async () => {
    const typo = await api.request('DELETE', '/customers/0001x', { key: ADMIN_KEY });
    expect(typo.status).toBe(404);
    expect((typo.json as { message: string }).message).toMatch(/no customer "0001x".*force=true/);
    const erased = await api.request('DELETE', '/customers/0001', { key: ADMIN_KEY });
    expect(erased.status).toBe(200);
    expect(erased.json).toMatchObject({
      customerId: '0001',
      removedScores: 1,
      storedFiles: { status: 'erased', versionsDeleted: 0 },
    });
    const files = (erased.json as { storedFiles: { objectsRewritten: number; rowsRemoved: number } })
      .storedFiles;
    // The upload, its clean Parquet, the run's summary part; the sample holds 4 orders of customer 0001.
    expect(files.objectsRewritten).toBeGreaterThanOrEqual(3);
    expect(files.rowsRemoved).toBeGreaterThanOrEqual(4 + 4 + 1);
    expect((await api.request('GET', '/customers/0001')).status).toBe(404);
    expect((await api.request('GET', '/customers/0001/history')).status).toBe(404);
    // Erased before: known (suppressed), so no force needed; nothing left to remove.
    const again = await api.request('DELETE', '/customers/0001', { key: ADMIN_KEY });
    expect(again.json).toMatchObject({
      customerId: '0001',
      removedScores: 0,
      storedFiles: { rowsRemoved: 0 },
    });
  });
});
