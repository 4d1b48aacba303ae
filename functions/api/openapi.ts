import * as z from 'zod';
import { errorBodySchema } from './errors.ts';
import type { Route } from './routes.ts';

const COMPONENT_REF = (name: string) => `#/components/schemas/${name}`;

const GENERIC_ERRORS: Record<number, string> = {
  400: 'Invalid input; the message names the parameter or field',
  401: 'No API key (or admin credentials) sent',
  403: 'The credentials sent may not call this route',
  404: 'Not found',
  405: 'Method not allowed on this path',
  409: 'Another recalculation is running',
  413: 'Request body too large',
  415: 'Request body is not JSON',
  503: 'Not configured in this deployment',
};

type JsonSchema = Record<string, unknown>;

/** zod's per-schema `$schema`/`$id` are noise inside an OpenAPI document, which declares its dialect once. */
function stripSchemaHeader(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return stripSchemaHeader(z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as JsonSchema);
}

/**
 * Builds the OpenAPI 3.1 document from the route table: response bodies become named components
 * (generated together so shared shapes such as `CustomerScore` are `$ref`s), parameters and request
 * bodies come from the same zod schemas the handler validates with.
 */
export function buildOpenApiDocument(routes: readonly Route[], info: { version: string }) {
  const registry = z.registry<{ id: string }>();
  registry.add(errorBodySchema, { id: 'Error' });
  for (const route of routes) {
    if (!registry.has(route.response.schema))
      registry.add(route.response.schema, { id: route.response.name });
  }
  const generated = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    uri: COMPONENT_REF,
  }) as { schemas: Record<string, JsonSchema> };
  const schemas = Object.fromEntries(
    Object.entries(generated.schemas).map(([name, schema]) => [name, stripSchemaHeader(schema)]),
  );

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...Object.entries(route.params.shape).map(([name, schema]) => ({
        name,
        in: 'path',
        required: true,
        schema: toSchema(schema as z.ZodType, 'input'),
      })),
      ...Object.entries(route.query.shape).map(([name, schema]) => {
        const jsonSchema = toSchema(schema as z.ZodType, 'input');
        const { description, ...rest } = jsonSchema;
        return {
          name,
          in: 'query',
          required: !(schema as z.ZodType).safeParse(undefined).success,
          ...(typeof description === 'string' ? { description } : {}),
          schema: rest,
        };
      }),
    ];
    const errorStatuses = [
      ...new Set([400, ...(route.access === 'public' ? [] : [401, 403]), ...route.errors]),
    ];
    const responses: Record<string, unknown> = {
      [route.response.status]: {
        description: route.response.description,
        content: { 'application/json': { schema: { $ref: COMPONENT_REF(route.response.name) } } },
      },
    };
    if (route.method === 'GET')
      responses['304'] = { description: 'Not modified (If-None-Match matched the ETag)' };
    for (const status of errorStatuses.sort()) {
      responses[status] = {
        description: GENERIC_ERRORS[status] ?? 'Error',
        content: { 'application/json': { schema: { $ref: COMPONENT_REF('Error') } } },
      };
    }
    const security =
      route.access === 'read' ? [{ apiKey: [] }] : route.access === 'admin' ? [{ awsSigV4: [] }] : [];
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security,
      parameters,
      ...(route.body
        ? {
            requestBody: {
              // An empty body is `{}`, so a body schema whose fields are all optional makes it optional.
              required: !route.body.safeParse({}).success,
              content: { 'application/json': { schema: toSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'CVM scores API',
      version: info.version,
      description:
        'Customer scores (CLV, P(alive), segments) of the current recalculation run, run metadata and ingest ' +
        'reports. Read routes take an API key in `x-api-key`; admin routes take AWS SigV4 (IAM) credentials.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        awsSigV4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 of a principal allowed execute-api:Invoke on the admin routes',
        },
      },
    },
  };
}
