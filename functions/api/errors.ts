/**
 * The API's error vocabulary: the codes and body every failure answers with, `ApiError`, and helpers
 * that turn zod issues and user input into safe messages naming the field.
 */
import * as z from 'zod';
import { CvmError } from '#domain/errors.ts';

/** Machine-readable error codes the API returns; documented in the OpenAPI `Error` schema. */
export const errorCodeSchema = z.enum([
  'invalid_request',
  'invalid_json',
  'invalid_cursor',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'forbidden',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  'no_current_run',
  'conflict',
  'not_configured',
  'internal_error',
]);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const errorBodySchema = z.object({
  error: errorCodeSchema,
  message: z.string().describe('What is wrong, naming the field or parameter'),
  requestId: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An error the caller caused (or a known condition); its message is safe to show to them. */
export class ApiError extends CvmError {
  constructor(
    readonly statusCode: number,
    override readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Where a validated value came from, used as the prefix of field names in messages. */
export type InputLocation = 'path' | 'query' | 'body';

const MAX_ISSUES_IN_MESSAGE = 5;

/**
 * Turns zod issues into one message naming each field, e.g.
 * `query.limit: Too small: expected number to be >=1; body.customerIds[3]: Invalid input`.
 */
export function validationError(location: InputLocation, error: z.ZodError): ApiError {
  const issues = error.issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((issue) => {
    const field = formatPath(location, issue.path);
    return `${field}: ${issue.message}`;
  });
  const more = error.issues.length - MAX_ISSUES_IN_MESSAGE;
  if (more > 0) issues.push(`and ${more} more problem(s)`);
  return new ApiError(400, 'invalid_request', issues.join('; '));
}

function formatPath(location: InputLocation, path: readonly PropertyKey[]): string {
  let out: string = location;
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  }
  return out;
}

/** Quotes user input inside a message: JSON-escaped and cut short, so odd bytes stay readable and bounded. */
export function quote(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}
