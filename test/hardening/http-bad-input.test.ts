/**
 * Every API route, over HTTP, refuses hostile ids, query values and bodies with a clean 4xx (or a plain
 * 200/404), never a 500.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/api/routes.ts';
import { serveLocalApi } from '#infra/cli/commands/serve.ts';
import type { ApiServer } from '#infra/local/api-server.ts';
import type { LocalStack } from '#infra/local/stack.ts';
import { ApiClient, type ApiResponse, assertNoInternals } from '../integration/api/http-client.ts';
import { startStackWithRun } from '../support/seed-scores.ts';

const READ_KEY = 'hardening-read-key';
const ADMIN_KEY = 'hardening-admin-key';

/** Ids, segment names and query values that have broken other services. */
const HOSTILE_TEXT = [
  '..%2F..%2Fetc%2Fpasswd',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  '%252e%252e%252f',
  "' OR '1'='1' --",
  '"; DROP TABLE cvm; --',
  '{"$ne": null}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the log4j lookup string, sent as text.
  '${jndi:ldap://x/a}',
  '<script>alert(1)</script>',
  '\u0000',
  '\r\nSet-Cookie: a=b',
  '😀🎉',
  'مرحبا',
  '\u202eevil',
  '\ud800',
  'x'.repeat(5000),
  '%',
  '%E0%A4%A',
  ' ',
  '.',
  'null',
  '-1',
  '1e309',
  'NaN',
];

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXT),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  // Long, but within the 16 KB request head Node accepts (a longer URL is the next test's subject).
  fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '_'), minLength: 2000, maxLength: 6000 }),
);

/** Bodies a JSON route may be sent: wrong types, malformed JSON, oversized, binary. */
const hostileBody = fc
  .oneof(
    fc.constantFrom(
      '{',
      '{"customerIds": [',
      '[]',
      'null',
      '"text"',
      '42',
      '{"customerIds": "c1"}',
      '{"customerIds": [1, 2]}',
      '{"customerIds": []}',
      '{"customerIds": [null]}',
      '{"asOf": 20260101}',
      '{"asOf": "2026-02-30"}',
      '{"model": "gpt"}',
      '{"__proto__": {"admin": true}}',
      '{"constructor": {"prototype": {"x": 1}}}',
      `{"customerIds": ["${'a'.repeat(70_000)}"]}`,
      `[${'['.repeat(5000)}${']'.repeat(5000)}]`,
    ),
    fc.json({ maxDepth: 3 }).filter((text) => text !== '{}'),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc
      .record({ customerIds: fc.array(hostileString, { maxLength: 120 }) })
      .map((body) => JSON.stringify(body)),
    fc.record({ asOf: hostileString, model: hostileString }).map((body) => JSON.stringify(body)),
  )
  // An empty body or `{}` is a valid request for POST /runs (all fields optional), not bad input.
  .filter((body) => body.trim() !== '' && body.trim() !== '{}');

/** A request the API must refuse with a clean 4xx, or answer (200/404) for a harmless but odd id. */
function expectHandled(response: ApiResponse, what: string) {
  expect(response.status, what).toBeGreaterThanOrEqual(200);
  expect(response.status, `${what} → ${response.text.slice(0, 300)}`).toBeLessThan(500);
  assertNoInternals(response.text);
  if (response.status >= 400) {
    expect(response.json, `${what} → ${response.status} with a JSON body`).toBeTypeOf('object');
    const body = response.json as Record<string, unknown>;
    expect(Object.keys(body).sort(), what).toEqual(['error', 'message', 'requestId']);
    expect(typeof body.error, what).toBe('string');
    expect(String(body.message).length, what).toBeGreaterThan(5);
    expect(String(body.requestId), what).toMatch(/\S/);
    expect(String(body.message), what).not.toMatch(/\bat \S+ \(|Error: /);
  }
}

/** Percent-encodes like encodeURIComponent, writing a lone surrogate as the bytes a client could send. */
function encodeValue(value: string): string {
  return Array.from(value, (ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

function pathWith(template: string, value: string, encode: boolean): string {
  return template.replace(/\{[^}]+\}/g, encode ? encodeValue(value) : value);
}

describe('every API route under bad input over HTTP', () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await startStackWithRun({
      runId: 'run-hardening',
      asOf: '2026-10-31',
      startedAt: '2026-11-01T00:00:00.000Z',
      customers: 20,
    });
    server = await serveLocalApi(stack, { port: 0, apiKey: READ_KEY, adminKey: ADMIN_KEY });
    api = new ApiClient(server.url, ADMIN_KEY);
    await api.loadOpenApi();
  });
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  const parameterRoutes = ROUTES.filter((route) => route.path.includes('{'));
  const bodyRoutes = ROUTES.filter((route) => route.body !== undefined);
  const queryRoutes = ROUTES.filter((route) => Object.keys(route.query.shape).length > 0);

  it('knows every route (the lists below cover the whole table)', () => {
    expect(parameterRoutes.length).toBeGreaterThanOrEqual(5);
    expect(bodyRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'POST /customers/batch-get',
      'POST /runs',
    ]);
    expect(queryRoutes.length).toBeGreaterThanOrEqual(2);
  });

  it.each(parameterRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: hostile path parameters (traversal, injection, unicode, oversized) never give a 5xx',
    async (_name, route) => {
      for (const value of HOSTILE_TEXT) {
        for (const encode of [true, false]) {
          const path = pathWith(route.path, value, encode);
          if (!encode && !/^[\x21-\x7e]*$/.test(value)) continue; // only printable ASCII can be sent raw
          const response = await api.request(route.method, path, {
            ...(route.body
              ? { rawBody: '{"customerIds":["c1"]}', headers: { 'content-type': 'application/json' } }
              : {}),
          });
          expectHandled(response, `${route.method} ${path.slice(0, 120)}`);
        }
      }
      const traversal = await api.request(
        route.method,
        pathWith(route.path, '..%2F..%2Fetc%2Fpasswd', false),
      );
      if (route.path.includes('{segment}')) {
        // Segment names are free text checked against the run's segments: an unknown name is a 404.
        expect(traversal.status).toBe(404);
        expect((traversal.json as { message: string }).message).toMatch(/is not a segment of run/);
      } else {
        expect(traversal.status).toBe(400);
        expect((traversal.json as { message: string }).message).toMatch(/must not contain '\/'/);
      }
    },
  );

  it.each(bodyRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: generated bad bodies are refused with a 4xx and a clear message',
    async (_name, route) => {
      await fc.assert(
        fc.asyncProperty(
          hostileBody,
          fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
          async (rawBody, contentType) => {
            const response = await api.request(route.method, route.path, {
              rawBody,
              headers: { 'content-type': contentType },
            });
            expectHandled(response, `${route.method} ${route.path} ${contentType} ${rawBody.slice(0, 120)}`);
            if (route.path === '/runs') expect(response.status, 'no bad body may start a run').not.toBe(202);
            if (contentType !== 'application/json') expect(response.status).toBe(415);
          },
        ),
        { numRuns: 60 },
      );
      const huge = await api.request(route.method, route.path, {
        rawBody: `{"customerIds": ["${'a'.repeat(200_000)}"]}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(huge.status).toBe(413);
      expect((huge.json as { error: string }).error).toBe('payload_too_large');
      const malformed = await api.request(route.method, route.path, {
        rawBody: '{"a":',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.status).toBe(400);
      expect((malformed.json as { error: string; message: string }).error).toBe('invalid_json');
    },
  );

  it.each(queryRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: generated query values (huge, wrong types, repeated) never give a 5xx',
    async (_name, route) => {
      const path = pathWith(route.path, 'Champions', true);
      // The route's own query parameters (limit and cursor of a page, force of an erasure).
      const [first = '', second] = Object.keys(route.query.shape);
      await fc.assert(
        fc.asyncProperty(hostileString, hostileString, fc.boolean(), async (limit, cursor, repeat) => {
          // The two valid values of a flag are not hostile.
          fc.pre(![limit, cursor].some((value) => value === 'true' || value === 'false'));
          const values = `${first}=${encodeValue(limit)}${second ? `&${second}=${encodeValue(cursor)}` : ''}`;
          const query = `${values}${repeat ? `&${first}=2&${first}=x` : ''}`;
          const response = await api.request(route.method, `${path}?${query}`);
          expectHandled(response, `${route.method} ${path}?${query.slice(0, 120)}`);
          expect(response.status).toBe(400);
        }),
        { numRuns: 60 },
      );
    },
  );

  it.each(queryRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: a query value longer than the 16 KB request head still gets a JSON 4xx',
    async (_name, route) => {
      const path = pathWith(route.path, 'Champions', true);
      const response = await api.request(route.method, `${path}?limit=${'9'.repeat(20_000)}`, {
        validate: false,
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expectHandled(response, `${route.method} ${path}?limit=<20,000 digits>`);
    },
  );
});
