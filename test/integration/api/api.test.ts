/**
 * The scores API over HTTP on the local stand-ins: every route's answers, ETags, 404s and 4xx refusals,
 * and cursor paging without repeats or gaps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnknownCustomerError } from '#app/erasure/erase-customer.ts';
import type { CustomerScore } from '#domain/score.ts';
import type { AdminOperations } from '#functions/api/admin.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { ROUTES } from '#functions/api/routes.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { seedIngest, seedRun, syntheticIngestReport, syntheticRun } from '#test-support/seed-scores.ts';
import { ApiClient, assertNoInternals } from './http-client.ts';

const READ_KEY = 'read-key-for-tests';
const ADMIN_KEY = 'admin-key-for-tests';

/** Admin port double: records what the API asked for; the real implementations have their own tests. */
function recordingAdmin() {
  const calls: { started: Array<{ asOf?: string; model?: string }>; forgotten: string[] } = {
    started: [],
    forgotten: [],
  };
  const admin: AdminOperations = {
    async startRecalculation(input) {
      calls.started.push(input);
      return { runId: `run-${calls.started.length}` };
    },
    async forgetCustomer(customerId, { force }) {
      // Only ids starting with 'known-' or '顧客' have scores here; others need force (as in the service).
      if (!force && !/^(known-|顧客)/.test(customerId)) throw new UnknownCustomerError(customerId);
      calls.forgotten.push(force ? `${customerId} (forced)` : customerId);
      return {
        removedScores: 2,
        storedFiles: { status: 'erased', objectsRewritten: 3, rowsRemoved: 5, versionsDeleted: 0 },
      };
    },
  };
  return { admin, calls };
}

describe('scores API over HTTP (local server + dynalite)', () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  const recorder = recordingAdmin();
  const older = syntheticRun({
    runId: 'run-2026-10-01',
    asOf: '2026-09-30',
    startedAt: '2026-10-01T03:00:00.000Z',
    customers: 60,
    seed: 7,
  });
  // Unicode, '#' and quote characters in ids: the API must carry them through the path unchanged.
  const specialIds = ['Zoë-Ω', 'A#42', 'O\'Brien "quoted"', '顧客-7'];
  const current = syntheticRun({
    runId: 'run-2026-11-01',
    asOf: '2026-10-31',
    startedAt: '2026-11-01T03:00:00.000Z',
    customers: 400,
    seed: 11,
    previousRunId: 'run-2026-10-01',
    customerId: (i) => specialIds[i] ?? `C${String(i).padStart(6, '0')}`,
  });
  const scoreOf = (id: string) => current.scores.find((s) => s.customerId === id)!;
  const ingestIds = Array.from({ length: 23 }, (_, i) => `ing-${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    stack = await startLocalStack();
    const target = { dynamo: stack.clients.dynamo, table: stack.config.table };
    await seedRun(target, older, { makeCurrent: true });
    await seedRun(target, current, { makeCurrent: true });
    for (const [i, id] of ingestIds.entries()) {
      await seedIngest(
        target,
        syntheticIngestReport(id, new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString()),
      );
    }
    const handler = createApiHandler({
      config: { ...stack.config, corsOrigins: 'https://shop.example, https://crm.example' },
      clients: stack.clients,
      admin: recorder.admin,
    });
    server = await startApiServer({ handler, port: 0, apiKey: READ_KEY, adminKey: ADMIN_KEY });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  });

  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  describe('GET /customers/{customerId}', () => {
    it('returns the score of the current run with an ETag and Cache-Control tied to the run', async () => {
      const response = await api.request('GET', '/customers/C000010');
      expect(response.status).toBe(200);
      expect(response.json).toEqual(scoreOf('C000010'));
      expect(response.headers.get('etag')).toMatch(/^"run-2026-11-01-/);
      expect(response.headers.get('cache-control')).toBe('private, max-age=60');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('answers 304 when If-None-Match carries the current ETag', async () => {
      const first = await api.request('GET', '/customers/C000011');
      const etag = first.headers.get('etag')!;
      const again = await api.request('GET', '/customers/C000011', { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
      const other = await api.request('GET', '/customers/C000012', { headers: { 'if-none-match': etag } });
      expect(other.status).toBe(200);
    });

    it('carries unicode, #, quotes and spaces in ids through the path', async () => {
      for (const id of specialIds) {
        const response = await api.request('GET', `/customers/${encodeURIComponent(id)}`);
        expect(response.status, id).toBe(200);
        expect((response.json as CustomerScore).customerId).toBe(id);
      }
    });

    it('answers 404 naming the customer for an unknown id', async () => {
      const response = await api.request('GET', '/customers/nobody-here');
      expect(response.status).toBe(404);
      expect(response.json).toMatchObject({ error: 'not_found' });
      const body = response.json as { message: string; requestId: string };
      expect(body.message).toContain('customerId');
      expect(body.message).toContain('"nobody-here"');
      expect(body.requestId).toBe(response.headers.get('x-request-id'));
    });
  });

  describe('POST /customers/batch-get', () => {
    it('returns the found scores and the ids not found, in request order', async () => {
      const response = await api.request('POST', '/customers/batch-get', {
        body: { customerIds: ['C000020', 'missing-1', 'Zoë-Ω', 'C000020', 'missing-2'] },
      });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        runId: current.run.runId,
        found: [scoreOf('C000020'), scoreOf('Zoë-Ω')],
        notFound: ['missing-1', 'missing-2'],
      });
    });

    it('takes exactly 100 ids and refuses 101 naming the field', async () => {
      const hundred = current.scores.slice(0, 100).map((s) => s.customerId);
      const ok = await api.request('POST', '/customers/batch-get', { body: { customerIds: hundred } });
      expect(ok.status).toBe(200);
      expect((ok.json as { found: unknown[] }).found).toHaveLength(100);

      const tooMany = await api.request('POST', '/customers/batch-get', {
        body: { customerIds: [...hundred, 'one-more'] },
      });
      expect(tooMany.status).toBe(400);
      expect(tooMany.json).toMatchObject({ error: 'invalid_request' });
      expect((tooMany.json as { message: string }).message).toMatch(/body\.customerIds.*at most 100/);
    });

    it.each([
      ['bad JSON', '{"customerIds": [', 'invalid_json', /body: not valid JSON/],
      [
        'an empty list',
        '{"customerIds": []}',
        'invalid_request',
        /body\.customerIds: customerIds must hold at least 1/,
      ],
      ['a string instead of a list', '{"customerIds": "C000001"}', 'invalid_request', /body\.customerIds/],
      ['numbers as ids', '{"customerIds": [1, 2]}', 'invalid_request', /body\.customerIds\[0\]/],
      ['an unknown field', '{"customerIds": ["a"], "all": true}', 'invalid_request', /body.*all/],
      ['a JSON array', '["C000001"]', 'invalid_request', /body/],
      ['null', 'null', 'invalid_request', /body/],
      ['an empty body', '', 'invalid_request', /body\.customerIds/],
      [
        'a path-traversal id',
        '{"customerIds": ["../../etc/passwd"]}',
        'invalid_request',
        /body\.customerIds\[0\].*'\/'/,
      ],
      ['a control character', '{"customerIds": ["a\\u0000b"]}', 'invalid_request', /control characters/],
      ['a lone surrogate', '{"customerIds": ["\\ud800"]}', 'invalid_request', /control characters/],
    ])('refuses %s with 400', async (_name, rawBody, code, message) => {
      const response = await api.request('POST', '/customers/batch-get', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ error: code });
      expect((response.json as { message: string }).message).toMatch(message);
      assertNoInternals(response.text);
    });

    it('refuses an oversized body with 413 and a non-JSON content type with 415', async () => {
      const big = { customerIds: Array.from({ length: 100 }, (_, i) => `${i}-${'x'.repeat(1_000)}`) };
      const tooLarge = await api.request('POST', '/customers/batch-get', { body: big });
      expect(tooLarge.status).toBe(413);
      expect((tooLarge.json as { message: string }).message).toMatch(/body: \d+ bytes is over the limit/);

      const wrongType = await api.request('POST', '/customers/batch-get', {
        rawBody: 'customerIds=a',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(wrongType.status).toBe(415);
      expect((wrongType.json as { message: string }).message).toContain('content-type');
    });
  });

  describe('GET /customers/{customerId}/history', () => {
    it("returns the customer's scores over runs, oldest first, with the segment path", async () => {
      const response = await api.request('GET', '/customers/C000005/history');
      expect(response.status).toBe(200);
      const before = older.scores.find((s) => s.customerId === 'C000005')!;
      const now = scoreOf('C000005');
      expect(response.json).toEqual({
        customerId: 'C000005',
        scores: [before, now],
        segmentPath: [
          { runId: older.run.runId, asOf: older.run.asOf, segment: before.segment },
          { runId: current.run.runId, asOf: current.run.asOf, segment: now.segment },
        ],
      });
    });

    it('answers 404 for a customer without scores', async () => {
      const response = await api.request('GET', '/customers/never-scored/history');
      expect(response.status).toBe(404);
      expect((response.json as { message: string }).message).toContain('customerId');
    });
  });

  describe('segments', () => {
    it('GET /segments returns the summaries of the current run', async () => {
      const response = await api.request('GET', '/segments');
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        runId: current.run.runId,
        asOf: current.run.asOf,
        currency: 'USD',
        segments: current.run.segments,
      });
    });

    it('walks a whole segment by cursor without repeats or gaps, CLV descending', async () => {
      for (const segment of ['Champions', "Can't Lose Them", 'Loyal Customers']) {
        const expected = current.scores
          .filter((s) => s.segment === segment)
          .sort((a, b) => b.clv - a.clv || (a.customerId < b.customerId ? 1 : -1));
        const seen: CustomerScore[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = `limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const response = await api.request(
            'GET',
            `/segments/${encodeURIComponent(segment)}/customers?${query}`,
          );
          expect(response.status).toBe(200);
          const page = response.json as {
            customers: CustomerScore[];
            nextCursor: string | null;
            runId: string;
          };
          expect(page.runId).toBe(current.run.runId);
          expect(page.customers.length).toBeLessThanOrEqual(7);
          if (page.nextCursor !== null) expect(page.customers).toHaveLength(7);
          seen.push(...page.customers);
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null && pages < 100);
        expect(seen.map((s) => s.customerId)).toEqual(expected.map((s) => s.customerId));
        expect(new Set(seen.map((s) => s.customerId)).size).toBe(seen.length);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / 7)));
      }
    });

    it('uses limit 100 by default and returns everything when the segment fits', async () => {
      const response = await api.request('GET', '/segments/Champions/customers');
      expect(response.status).toBe(200);
      const page = response.json as { customers: CustomerScore[]; nextCursor: string | null };
      expect(page.customers).toHaveLength(
        current.run.segments.find((s) => s.segment === 'Champions')!.customers,
      );
      expect(page.nextCursor).toBeNull();
    });

    it.each([
      ['limit=0', /query\.limit: limit must be at least 1/],
      ['limit=1001', /query\.limit: limit must be at most 1000/],
      ['limit=abc', /query\.limit/],
      ['limit=2.5', /query\.limit: limit must be a whole number/],
      ['limit=-1', /query\.limit/],
    ])('refuses %s with 400 naming the parameter', async (query, message) => {
      const response = await api.request('GET', `/segments/Champions/customers?${query}`);
      expect(response.status).toBe(400);
      expect((response.json as { message: string }).message).toMatch(message);
    });

    it('answers 404 for a segment the run does not have, listing the known ones', async () => {
      const response = await api.request('GET', '/segments/Nonexistent/customers');
      expect(response.status).toBe(404);
      const message = (response.json as { message: string }).message;
      expect(message).toContain('path.segment');
      expect(message).toContain('"Champions"');
    });

    it('refuses bad cursors with 400, never 500', async () => {
      const first = await api.request('GET', '/segments/Champions/customers?limit=2');
      const goodCursor = (first.json as { nextCursor: string }).nextCursor;
      const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const badCursors = [
        'garbage!!',
        'bm90LWpzb24',
        forged({ v: 1, kind: 'segment', runId: current.run.runId, segment: 'Champions', after: 'no-hash' }),
        forged({
          v: 2,
          kind: 'segment',
          runId: current.run.runId,
          segment: 'Champions',
          after: '000000000000001#x',
        }),
        forged({ v: 1, kind: 'ingests', after: '2026-01-01T00:00:00.000Z#x' }),
        forged({
          v: 1,
          kind: 'segment',
          runId: 'gone-run',
          segment: 'Champions',
          after: '000000000000001#x',
        }),
        goodCursor.slice(0, -3),
        'A'.repeat(3_000),
      ];
      for (const cursor of badCursors) {
        const response = await api.request(
          'GET',
          `/segments/Champions/customers?cursor=${encodeURIComponent(cursor)}`,
        );
        expect(response.status, cursor.slice(0, 40)).toBe(400);
        expect((response.json as { message: string }).message).toContain('cursor');
      }
      const otherSegment = await api.request(
        'GET',
        `/segments/${encodeURIComponent('Loyal Customers')}/customers?cursor=${encodeURIComponent(goodCursor)}`,
      );
      expect(otherSegment.status).toBe(400);
      expect((otherSegment.json as { message: string }).message).toContain('belongs to segment "Champions"');
    });
  });

  describe('runs and ingests', () => {
    it('GET /runs/current and GET /runs/{runId} return run records', async () => {
      const now = await api.request('GET', '/runs/current');
      expect(now.status).toBe(200);
      expect(now.json).toEqual(current.run);
      const byId = await api.request('GET', `/runs/${older.run.runId}`);
      expect(byId.status).toBe(200);
      expect(byId.json).toEqual(older.run);
      expect(byId.headers.get('cache-control')).toBe('private, max-age=3600');
    });

    it('answers 404 for an unknown run', async () => {
      const response = await api.request('GET', '/runs/run-1999');
      expect(response.status).toBe(404);
      expect((response.json as { message: string }).message).toContain('runId');
    });

    it('GET /ingests pages through every report newest first', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const path: string = `/ingests?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const response = await api.request('GET', path);
        expect(response.status).toBe(200);
        const page = response.json as { ingests: Array<{ ingestId: string }>; nextCursor: string | null };
        seen.push(...page.ingests.map((report) => report.ingestId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual([...ingestIds].reverse());
    });

    it('GET /ingests/{ingestId} returns one report and 404 for an unknown one', async () => {
      const found = await api.request('GET', '/ingests/ing-003');
      expect(found.status).toBe(200);
      expect(found.json).toMatchObject({ ingestId: 'ing-003', status: 'succeeded' });
      const missing = await api.request('GET', '/ingests/ing-999');
      expect(missing.status).toBe(404);
      expect((missing.json as { message: string }).message).toContain('ingestId');
    });

    it('refuses a segment cursor on the ingest listing', async () => {
      const first = await api.request('GET', '/segments/Champions/customers?limit=2');
      const cursor = (first.json as { nextCursor: string }).nextCursor;
      const response = await api.request('GET', `/ingests?cursor=${cursor}`);
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ error: 'invalid_cursor' });
    });
  });

  describe('credentials', () => {
    it('answers 401 without a key and 403 with a wrong one', async () => {
      const missing = await api.request('GET', '/customers/C000001', { key: null });
      expect(missing.status).toBe(401);
      expect((missing.json as { message: string }).message).toContain('x-api-key');
      const wrong = await api.request('GET', '/customers/C000001', { key: 'not-the-key' });
      expect(wrong.status).toBe(403);
      const unknownRoute = await api.request('GET', '/admin/secrets', { key: null });
      expect(unknownRoute.status).toBe(401);
    });

    it('serves /openapi.json without a key', async () => {
      const response = await api.request('GET', '/openapi.json', { key: null });
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ openapi: '3.1.0' });
    });

    it('keeps admin routes to the admin key', async () => {
      const noKey = await api.request('POST', '/runs', { body: {}, key: null });
      expect(noKey.status).toBe(401);
      const readKey = await api.request('POST', '/runs', { body: {} });
      expect(readKey.status).toBe(403);
      const erase = await api.request('DELETE', '/customers/C000001');
      expect(erase.status).toBe(403);
      expect(recorder.calls.started).toEqual([]);
      expect(recorder.calls.forgotten).toEqual([]);
    });

    it('refuses admin routes with a message to set CVM_ADMIN_KEY when none is configured', async () => {
      const handler = createApiHandler({
        config: stack.config,
        clients: stack.clients,
        admin: recorder.admin,
      });
      const noAdmin = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
      try {
        const client = new ApiClient(noAdmin.url, READ_KEY);
        await client.loadOpenApi();
        const response = await client.request('POST', '/runs', { body: {}, key: 'anything' });
        expect(response.status).toBe(403);
        expect((response.json as { message: string }).message).toContain('CVM_ADMIN_KEY');
      } finally {
        await noAdmin.close();
      }
    });

    it('refuses admin routes inside the handler when the gateway passed no IAM identity', async () => {
      const handler = createApiHandler({
        config: stack.config,
        clients: stack.clients,
        admin: recorder.admin,
      });
      // A misconfigured gateway: admin route reachable with only a read key (no IAM authorization).
      const open = await startApiServer({
        handler: (event, context) => {
          event.requestContext.identity.userArn = null;
          event.requestContext.identity.caller = null;
          return handler(event, context);
        },
        port: 0,
        adminKey: ADMIN_KEY,
      });
      try {
        const response = await fetch(`${open.url}/runs`, {
          method: 'POST',
          headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(response.status).toBe(403);
        expect(((await response.json()) as { message: string }).message).toContain('IAM');
        expect(recorder.calls.started).toEqual([]);
      } finally {
        await open.close();
      }
    });
  });

  describe('admin routes', () => {
    it('POST /runs starts a recalculation with the validated options', async () => {
      const response = await api.request('POST', '/runs', {
        body: { asOf: '2026-11-20', model: 'pareto' },
        key: ADMIN_KEY,
      });
      expect(response.status).toBe(202);
      expect(response.json).toEqual({ runId: 'run-1' });
      expect(recorder.calls.started).toEqual([{ asOf: '2026-11-20', model: 'pareto' }]);
    });

    it('POST /runs refuses invalid options naming the field', async () => {
      const badDate = await api.request('POST', '/runs', { body: { asOf: '2026-13-40' }, key: ADMIN_KEY });
      expect(badDate.status).toBe(400);
      expect((badDate.json as { message: string }).message).toMatch(/body\.asOf/);
      const badModel = await api.request('POST', '/runs', { body: { model: 'magic' }, key: ADMIN_KEY });
      expect(badModel.status).toBe(400);
      expect((badModel.json as { message: string }).message).toMatch(/body\.model/);
      expect(recorder.calls.started).toHaveLength(1);
    });

    it('DELETE /customers/{customerId} asks the admin port to erase the customer', async () => {
      const response = await api.request('DELETE', `/customers/${encodeURIComponent('顧客-7')}`, {
        key: ADMIN_KEY,
      });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        customerId: '顧客-7',
        removedScores: 2,
        storedFiles: { status: 'erased', objectsRewritten: 3, rowsRemoved: 5, versionsDeleted: 0 },
      });
      expect(recorder.calls.forgotten).toEqual(['顧客-7']);
    });

    it('DELETE /customers/{customerId} of an id no run knows: 404 naming the id, nothing erased, unless force=true', async () => {
      const typo = await api.request('DELETE', '/customers/C0000O1', { key: ADMIN_KEY });
      expect(typo.status).toBe(404);
      expect(typo.json).toMatchObject({ error: 'not_found' });
      expect((typo.json as { message: string }).message).toMatch(
        /path\.customerId: no customer "C0000O1" in any run: nothing was erased.*\?force=true/,
      );
      expect(recorder.calls.forgotten).toEqual(['顧客-7']);
      const badForce = await api.request('DELETE', '/customers/C0000O1?force=yes', { key: ADMIN_KEY });
      expect(badForce.status).toBe(400);
      expect((badForce.json as { message: string }).message).toMatch(/force/);
      const forced = await api.request('DELETE', '/customers/C0000O1?force=true', { key: ADMIN_KEY });
      expect(forced.status).toBe(200);
      expect(recorder.calls.forgotten).toEqual(['顧客-7', 'C0000O1 (forced)']);
    });
  });

  describe('HTTP edges', () => {
    it('answers 405 with Allow for a known path and a wrong method, 404 for an unknown path', async () => {
      const wrongMethod = await api.request('PUT', '/customers/C000001');
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET, DELETE');
      const unknown = await api.request('GET', '/nothing/here');
      expect(unknown.status).toBe(404);
      expect(unknown.json).toMatchObject({ error: 'route_not_found' });
    });

    it('adds CORS headers for configured origins and answers preflights without a key', async () => {
      const allowed = await api.request('GET', '/segments', { headers: { origin: 'https://crm.example' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://crm.example');
      const other = await api.request('GET', '/segments', { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${server.url}/customers/C000001`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-api-key',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('x-api-key');
    });

    it('documents every route of the table in the served OpenAPI document', () => {
      for (const route of ROUTES) {
        expect(
          api.document.paths[route.path]?.[route.method.toLowerCase()],
          `${route.method} ${route.path}`,
        ).toBeDefined();
      }
    });
  });
});
