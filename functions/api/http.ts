/**
 * The HTTP edge of a route: turns an API Gateway REST (v1) proxy event into validated input, and a route
 * result into a proxy result with ETag, Cache-Control and 304 handling.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { ApiError, type ErrorBody, type InputLocation, validationError } from './errors.ts';
import type { Route, RouteResult } from './routes.ts';

/** Request bodies here are id lists and small options; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'X-Content-Type-Options': 'nosniff',
};

export function parseInput(route: Route, event: APIGatewayProxyEvent) {
  return {
    params: validate('path', route.params, decodePathParameters(event.pathParameters)),
    query: validate('query', route.query, event.queryStringParameters ?? {}),
    body: route.body ? validate('body', route.body, parseJsonBody(event)) : undefined,
  };
}

function validate(location: InputLocation, schema: z.ZodType, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(location, parsed.error);
  return parsed.data;
}

/**
 * The router fills path parameters from `event.path`, which API Gateway REST APIs deliver still
 * percent-encoded; each is decoded exactly once here.
 */
function decodePathParameters(raw: APIGatewayProxyEvent['pathParameters']): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (value === undefined) continue;
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      throw new ApiError(400, 'invalid_request', `path.${name}: malformed percent-encoding`);
    }
  }
  return decoded;
}

function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  const contentType = event.headers['content-type'];
  if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `header content-type: expected application/json, got ${JSON.stringify(contentType.slice(0, 100))}`,
    );
  }
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new ApiError(
      413,
      'payload_too_large',
      `body: ${bytes} bytes is over the limit of ${MAX_BODY_BYTES} bytes`,
    );
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'unreadable';
    throw new ApiError(400, 'invalid_json', `body: not valid JSON (${reason.slice(0, 200)})`);
  }
}

/** `"<basis>-<hash of the bytes>"`: the basis (a run id) shows which run a cached response came from. */
export function etagFor(basis: string, body: string): string {
  const hash = createHash('sha1').update(body).digest('base64url').slice(0, 16);
  return `"${basis.replace(/[^\w.:-]/g, '_').slice(0, 100)}-${hash}"`;
}

function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  // Weak comparison (RFC 9110 §13.1.2): W/ prefixes do not matter for If-None-Match.
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => strip(tag) === etag);
}

export function toProxyResult(result: RouteResult, event: APIGatewayProxyEvent): APIGatewayProxyResult {
  const body = JSON.stringify(result.body);
  const headers: Record<string, string> = { ...JSON_HEADERS, 'Cache-Control': result.cacheControl };
  if (result.etagBasis !== undefined && result.status === 200) {
    const etag = etagFor(result.etagBasis, body);
    headers.ETag = etag;
    const method = event.httpMethod;
    if ((method === 'GET' || method === 'HEAD') && ifNoneMatchHits(event.headers['if-none-match'], etag)) {
      const { 'Content-Type': _type, ...notModifiedHeaders } = headers;
      return { statusCode: 304, headers: notModifiedHeaders, body: '' };
    }
  }
  return { statusCode: result.status, headers, body };
}

export function errorResult(
  statusCode: number,
  body: ErrorBody,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { ...JSON_HEADERS, 'Cache-Control': 'no-store', ...extraHeaders },
    body: JSON.stringify(body),
  };
}
