/**
 * Test client for the scores API over real HTTP. Every response body is validated against the JSON
 * schema the served OpenAPI document declares for its route and status, so the document cannot drift
 * from what the API returns.
 */
import { request as httpRequest } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

interface Operation {
  responses: Record<string, { content?: { 'application/json'?: { schema: { $ref?: string } } } }>;
}

type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

const DOCUMENT_ID = 'https://cvm.invalid/openapi.json';

export class ApiClient {
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly #validators = new Map<string, ValidateFunction>();
  #document: OpenApiDocument | undefined;

  constructor(
    readonly baseUrl: string,
    readonly defaultKey?: string,
  ) {}

  /** Loads /openapi.json (no key needed) and prepares its component schemas for validation. */
  async loadOpenApi(): Promise<OpenApiDocument> {
    const response = await fetch(`${this.baseUrl}/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
    this.#document = (await response.json()) as OpenApiDocument;
    this.#ajv.addSchema({ $id: DOCUMENT_ID, components: this.#document.components });
    return this.#document;
  }

  get document(): OpenApiDocument {
    if (!this.#document) throw new Error('call loadOpenApi() first');
    return this.#document;
  }

  async request(
    method: string,
    path: string,
    options: {
      body?: unknown;
      rawBody?: string;
      key?: string | null;
      headers?: Record<string, string>;
      validate?: boolean;
    } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? this.defaultKey : options.key;
    if (key) headers['x-api-key'] = key;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await sendRaw(`${this.baseUrl}${path}`, method, headers, body);
    const text = response.text;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const result = { status: response.status, headers: response.headers, text, json };
    if (options.validate !== false) this.validate(method, path, result);
    return result;
  }

  /** Throws when a JSON body does not match the schema the OpenAPI document gives its route and status. */
  validate(method: string, path: string, response: ApiResponse): void {
    if (response.status === 304) return;
    const schemaRef = this.#schemaRefFor(method, path, response.status);
    const validator = this.#validator(schemaRef);
    if (!validator(response.json)) {
      throw new Error(
        `${method} ${path} → ${response.status}: body does not match ${schemaRef}: ${this.#ajv.errorsText(validator.errors)}\n${response.text.slice(0, 500)}`,
      );
    }
  }

  #schemaRefFor(method: string, path: string, status: number): string {
    const document = this.document;
    const pathOnly = path.split('?')[0]!;
    const template = Object.keys(document.paths)
      .filter(
        (candidate) =>
          templateMatches(candidate, pathOnly) && document.paths[candidate]?.[method.toLowerCase()],
      )
      // Static segments beat parameters, as in API Gateway.
      .sort((a, b) => staticSegments(b) - staticSegments(a))[0];
    const operation = template ? document.paths[template]?.[method.toLowerCase()] : undefined;
    const declared = operation?.responses[String(status)]?.content?.['application/json']?.schema.$ref;
    // Errors outside any route (unknown path, gateway refusals) use the shared Error schema.
    if (declared) return declared;
    if (status >= 400) return '#/components/schemas/Error';
    throw new Error(`${method} ${path} → ${status}: the OpenAPI document declares no such response`);
  }

  #validator(ref: string): ValidateFunction {
    let validator = this.#validators.get(ref);
    if (!validator) {
      validator = this.#ajv.compile({ $ref: `${DOCUMENT_ID}${ref}` });
      this.#validators.set(ref, validator);
    }
    return validator;
  }
}

/**
 * Sends the path exactly as given: `fetch` would normalize it first (`%2E%2E` is resolved as `..`),
 * hiding what a hostile client can really send.
 */
function sendRaw(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; headers: Headers; text: string }> {
  const { origin } = new URL(url);
  const path = url.slice(origin.length);
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${origin}/`, { method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({
          status: response.statusCode ?? 0,
          headers: responseHeaders,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

function splitPath(path: string) {
  return path.split('/').filter((part) => part !== '');
}

function templateMatches(template: string, path: string): boolean {
  const want = splitPath(template);
  const got = splitPath(path);
  return want.length === got.length && want.every((part, i) => part.startsWith('{') || part === got[i]);
}

function staticSegments(template: string): number {
  return splitPath(template).filter((part) => !part.startsWith('{')).length;
}

/** A body must never show internals: no stack frames, no source paths. */
export function assertNoInternals(text: string): void {
  if (/\n\s+at |node_modules|\.ts:\d+|file:\/\//.test(text)) {
    throw new Error(`response leaks internals: ${text.slice(0, 300)}`);
  }
}
