/**
 * The scores API under generated hostile ids, bodies, query strings and cursors: always a 4xx or a
 * legitimate answer, and a 500 that reveals no internals.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#app/ports/logger.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import type { LocalStack } from '#infra/local/stack.ts';
import { startStackWithRun } from '#test-support/seed-scores.ts';
import { ApiClient, type ApiResponse, assertNoInternals } from './http-client.ts';

const KEY = 'hostile-input-key';

/** Every answer to hostile input: a 4xx (or a legitimate 200/404), a valid body, no internals. */
function expectHandled(response: ApiResponse, what: string) {
  expect(response.status, what).toBeGreaterThanOrEqual(200);
  expect(response.status, what).toBeLessThan(500);
  assertNoInternals(response.text);
  if (response.status >= 400) {
    const body = response.json as { error: string; message: string; requestId: string };
    expect(body.message.length, what).toBeGreaterThan(0);
    expect(body.requestId, what).toMatch(/\S/);
  }
}

describe('scores API under hostile input', () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await startStackWithRun({
      runId: 'run-fuzz',
      asOf: '2026-10-31',
      startedAt: '2026-11-01T00:00:00.000Z',
      customers: 30,
    });
    const handler = createApiHandler({
      config: stack.config,
      clients: stack.clients,
      admin: {
        startRecalculation: async () => ({}),
        forgetCustomer: async () => ({ removedScores: 0, storedFiles: { status: 'erasing' } }),
      },
    });
    server = await startApiServer({ handler, port: 0, apiKey: KEY });
    api = new ApiClient(server.url, KEY);
    await api.loadOpenApi();
  });

  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it.each([
    ['encoded path traversal', '/customers/..%2F..%2Fetc%2Fpasswd', 400, /customerId must not contain '\/'/],
    ['encoded backslash traversal', '/customers/..%5C..%5Cwindows', 400, /customerId/],
    ['a dot-dot id', '/customers/%2E%2E', 400, /customerId must not be/],
    ['a NUL byte', '/customers/abc%00def', 400, /control characters/],
    ['a newline (header injection)', '/customers/abc%0D%0ASet-Cookie:%20x', 400, /control characters/],
    ['broken percent-encoding', '/customers/%E0%A4%A', 400, /path\.customerId: malformed percent-encoding/],
    ['a lone % sign', '/customers/100%', 400, /malformed percent-encoding/],
    ['an overlong id', `/customers/${'x'.repeat(300)}`, 400, /at most 256 UTF-8 bytes/],
    ['SQL-injection-looking text', `/customers/${encodeURIComponent("' OR '1'='1' --")}`, 404, /no score/],
    ['NoSQL-operator-looking text', `/customers/${encodeURIComponent('{"$ne": null}')}`, 404, /no score/],
    ['an emoji id', `/customers/${encodeURIComponent('😀🎉')}`, 404, /no score/],
    ['right-to-left text', `/customers/${encodeURIComponent('مرحبا')}`, 404, /no score/],
    ['leading whitespace', `/customers/${encodeURIComponent(' C000001')}`, 400, /whitespace/],
    [
      'script in a segment name',
      `/segments/${encodeURIComponent('<script>alert(1)</script>')}/customers`,
      404,
      /not a segment/,
    ],
    ['a huge limit', '/segments/Champions/customers?limit=1e309', 400, /query\.limit/],
    ['a limit array', '/segments/Champions/customers?limit=1&limit=x', 400, /query\.limit/],
    ['traversal in a run id', '/runs/..%2F..%2Fsecret', 400, /runId/],
    ['traversal in an ingest id', '/ingests/%2E%2E', 400, /ingestId/],
  ])('answers %s with a clear 4xx', async (_name, path, status, message) => {
    const response = await api.request('GET', path);
    expect(response.status).toBe(status);
    expect((response.json as { message: string }).message).toMatch(message);
    assertNoInternals(response.text);
  });

  it('never fails on arbitrary customer ids in the path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', minLength: 0, maxLength: 300 }), async (id) => {
        const path = `/customers/${encodeURIComponent(id)}`;
        const response = await api.request('GET', path);
        expectHandled(response, JSON.stringify(id));
        // An empty id is the collection path, which has no GET route.
        if (id !== '') expect([200, 400, 404]).toContain(response.status);
      }),
      { numRuns: 150 },
    );
  });

  it('never fails on arbitrary JSON bodies for batch-get', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json({ maxDepth: 4 }),
          fc
            .record({ customerIds: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 120 }) })
            .map((value) => JSON.stringify(value)),
          fc
            .record({
              customerIds: fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 110 }),
            })
            .map((value) => JSON.stringify(value)),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        async (rawBody) => {
          const response = await api.request('POST', '/customers/batch-get', {
            rawBody,
            headers: { 'content-type': 'application/json' },
          });
          expectHandled(response, rawBody.slice(0, 200));
          expect([200, 400]).toContain(response.status);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never fails on arbitrary query strings and cursors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.string({ maxLength: 200 }),
        async (limit, cursor) => {
          const query = `limit=${encodeURIComponent(limit)}&cursor=${encodeURIComponent(cursor)}`;
          for (const path of [`/segments/Champions/customers?${query}`, `/ingests?${query}`]) {
            const response = await api.request('GET', path);
            expectHandled(response, path);
            expect(response.status).toBe(400);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers an internal failure with 500, the request id and no details', async () => {
    const failing = (): never => {
      throw new Error('boom at /srv/app/read-model.ts:12 for customer C000001');
    };
    const handler = createApiHandler({
      config: stack.config,
      clients: stack.clients,
      admin: { startRecalculation: failing, forgetCustomer: failing },
      readModel: {
        currentRunId: async () => failing(),
        getScore: failing,
        getScores: failing,
        getCustomerHistory: failing,
        getRun: failing,
        getIngest: failing,
        listSegmentMembers: failing,
        listAudienceMembers: failing,
        listRunListMembers: failing,
        listIngests: failing,
      },
      // Errors are logged; keep the test output quiet.
      logger: silentLogger,
    });
    const broken = await startApiServer({ handler, port: 0 });
    try {
      const client = new ApiClient(broken.url);
      await client.loadOpenApi();
      const response = await client.request('GET', '/customers/C000001');
      expect(response.status).toBe(500);
      const body = response.json as { error: string; message: string; requestId: string };
      expect(body.error).toBe('internal_error');
      expect(body.message).toContain(body.requestId);
      expect(response.text).not.toContain('boom');
      expect(response.text).not.toContain('C000001');
      assertNoInternals(response.text);
    } finally {
      await broken.close();
    }
  });

  it('refuses bodies over the limit before reading them as JSON', async () => {
    const response = await api.request('POST', '/customers/batch-get', {
      rawBody: `{"customerIds": ["${'a'.repeat(200_000)}"]}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ error: 'payload_too_large' });
  });
});
