/** The OpenAPI contract states the unit of recency and T, and explains pAlive and churnRisk. */
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '#functions/api/openapi.ts';
import { ROUTES } from '#functions/api/routes.ts';

type Schema = { properties: Record<string, { description?: string; enum?: string[] }> };

describe('OpenAPI score fields', () => {
  const doc = buildOpenApiDocument(ROUTES, { version: 'test' }) as unknown as {
    components: { schemas: Record<string, Schema> };
  };
  const score = doc.components.schemas['CustomerScore']!;

  it('has timeUnit, and recency/T say their unit', () => {
    expect(score.properties['timeUnit']?.enum).toEqual(['days', 'weeks']);
    expect(score.properties['recency']?.description).toMatch(/timeUnit/);
    expect(score.properties['T']?.description).toMatch(/timeUnit/);
  });

  it('explains pAlive = 1 for BG/NBD customers without repeat purchases, and what churnRisk is based on', () => {
    expect(score.properties['pAlive']?.description).toMatch(/BG\/NBD.*frequency 0.*pAlive 1/);
    expect(score.properties['churnRisk']?.description).toMatch(/at least one purchase in the next 90 days/);
  });

  it('run records can say why the holdout check was not possible', () => {
    const json = JSON.stringify(doc.components.schemas['RunRecord']);
    expect(json).toContain('notPossibleReason');
  });
});
