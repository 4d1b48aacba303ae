// Customer attributes export: header aliases, the row cleaner's reason codes, and the
// "latest value wins" merge (order-independent, checked as a property).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_ALIASES,
  addAttributeRow,
  attributesFromRow,
  attributeValues,
  type CleanedAttributeRow,
  type CustomerAttributesRow,
  cleanAttributeRow,
  customerAttributesRowSchema,
  type MergedCustomerAttributes,
  mapAttributeColumns,
  mergeCustomerAttributes,
} from '#domain/economics/customer-attributes.ts';
import { normalizeHeader } from '#domain/ingest/column-mapping.ts';
import { createOrderTimestampParser } from '#domain/ingest/order-timestamps.ts';

const timestamps = createOrderTimestampParser(null, 'UTC');
const micros = (iso: string) => Date.parse(iso) * 1000;

function cleaner(headers: string[], scale?: 'nps' | 'csat', decimal: '.' | ',' = '.') {
  const mapping = mapAttributeColumns(headers, undefined, scale, 'attributes.csv');
  return (fields: string[], line = 2): CleanedAttributeRow =>
    cleanAttributeRow(fields, line, { mapping, decimal, timestamps });
}

const accepted = (result: CleanedAttributeRow) => {
  if (!result.ok) throw new Error(`expected accepted, got ${result.reason}: ${result.message}`);
  return result.row;
};

describe('attribute column aliases', () => {
  it('are in normalized form and unique within each field list', () => {
    for (const aliases of Object.values(ATTRIBUTE_ALIASES)) {
      for (const alias of aliases) expect(normalizeHeader(alias)).toBe(alias);
      expect(new Set(aliases).size).toBe(aliases.length);
    }
  });

  it('map English, Dutch and German headers', () => {
    const english = mapAttributeColumns(
      ['Customer ID', 'Signup date', 'Acquisition channel', 'CAC', 'Support tickets', 'NPS', 'Opt-in'],
      undefined,
      undefined,
      'a.csv',
    );
    expect(english.index).toMatchObject({
      customer_id: 0,
      acquired_at: 1,
      acquisition_channel: 2,
      acquisition_cost: 3,
      service_contacts: 4,
      nps: 5,
      marketing_consent: 6,
    });
    const dutch = mapAttributeColumns(
      [
        'Klantnummer',
        'Klant sinds',
        'Wervingskanaal',
        'Wervingskosten',
        'Klantcontacten',
        'Toestemming',
        'Gewijzigd op',
      ],
      undefined,
      undefined,
      'a.csv',
    );
    expect(dutch.index).toMatchObject({
      customer_id: 0,
      acquired_at: 1,
      acquisition_channel: 2,
      acquisition_cost: 3,
      service_contacts: 4,
      marketing_consent: 5,
      updated_at: 6,
    });
    const german = mapAttributeColumns(
      [
        'Kundennummer',
        'Kunde seit',
        'Akquisitionskanal',
        'Servicekosten',
        'Kundenzufriedenheit',
        'Einwilligung',
      ],
      undefined,
      'csat',
      'a.csv',
    );
    expect(german.index).toMatchObject({
      customer_id: 0,
      acquired_at: 1,
      acquisition_channel: 2,
      service_cost: 3,
      satisfaction: 4,
      marketing_consent: 5,
    });
    expect(german.satisfactionScale).toBe('csat');
  });

  it('refuses a file without a customer id or without any attribute, naming what is accepted', () => {
    expect(() => mapAttributeColumns(['name', 'nps'], undefined, undefined, 'a.csv')).toThrow(
      /a\.csv: no column for customer_id/,
    );
    expect(() => mapAttributeColumns(['customer_id', 'name'], undefined, undefined, 'a.csv')).toThrow(
      /no attribute column/,
    );
  });

  it('refuses a generic satisfaction column without a stated scale', () => {
    expect(() => mapAttributeColumns(['customer_id', 'Tevredenheid'], undefined, undefined, 'a.csv')).toThrow(
      /'Tevredenheid' holds satisfaction scores but their scale is unknown; name the column nps \(0–10\) or csat \(1–5\), or set economics\.satisfactionScale/,
    );
  });

  it('takes configured header names first', () => {
    const mapping = mapAttributeColumns(
      ['id', 'Herkomst', 'x'],
      { customer_id: 'id', acquisition_channel: 'X' },
      undefined,
      'a.csv',
    );
    expect(mapping.index.customer_id).toBe(0);
    expect(mapping.index.acquisition_channel).toBe(2);
  });
});

describe('cleanAttributeRow', () => {
  const headers = [
    'customer_id',
    'updated_at',
    'acquired_at',
    'acquisition_channel',
    'acquisition_cost',
    'service_contacts',
    'service_cost',
    'nps',
    'csat',
    'marketing_consent',
  ];
  const clean = cleaner(headers);
  const row = (values: Partial<Record<string, string>>) => headers.map((h) => values[h] ?? '');

  it('cleans a full row into the schema', () => {
    const result = accepted(
      clean(
        row({
          customer_id: ' 42 ',
          updated_at: '2025-03-01T10:00:00Z',
          acquired_at: '2024-01-15',
          acquisition_channel: 'google ads',
          acquisition_cost: '35.50',
          service_contacts: '3',
          service_cost: '12.00',
          nps: '9',
          marketing_consent: 'ja',
        }),
      ),
    );
    expect(result).toEqual({
      customerId: '42',
      line: 2,
      updatedAtMicros: micros('2025-03-01T10:00:00Z'),
      acquiredAtMicros: micros('2024-01-15T00:00:00Z'),
      acquisitionChannel: 'google ads',
      acquisitionCostCents: 3550,
      serviceContacts: 3,
      serviceCostCents: 1200,
      satisfaction: { scale: 'nps', score: 9 },
      marketingConsent: true,
    });
    expect(customerAttributesRowSchema.parse(result)).toEqual(result);
  });

  it('reads empty values as not given', () => {
    expect(accepted(clean(row({ customer_id: 'a' })))).toMatchObject({
      acquisitionChannel: null,
      satisfaction: null,
      marketingConsent: null,
    });
  });

  it.each([
    [{ customer_id: '' }, 'customer_id_missing', /^customer_id is empty$/],
    [{ updated_at: 'yesterday' }, 'updated_at_invalid', /^updated_at: 'yesterday' is not a valid date$/],
    [{ acquired_at: '2024-02-30' }, 'acquired_at_invalid', /^acquired_at: '2024-02-30' is not a valid date$/],
    [{ acquired_at: '1850-01-01' }, 'acquired_at_invalid', /outside the supported years/],
    [{ acquisition_cost: '-5' }, 'acquisition_cost_invalid', /^acquisition_cost: '-5' is negative/],
    [
      { acquisition_cost: 'free' },
      'acquisition_cost_invalid',
      /^acquisition_cost: 'free' is not a valid amount/,
    ],
    [
      { service_contacts: '2.5' },
      'service_contacts_invalid',
      /^service_contacts: '2\.5' is not a whole number ≥ 0$/,
    ],
    [{ service_contacts: '-1' }, 'service_contacts_invalid', /service_contacts/],
    [{ service_cost: '-12' }, 'service_cost_invalid', /^service_cost: '-12' is negative/],
    [{ nps: '11' }, 'satisfaction_invalid', /^nps: '11' is not a whole number from 0 to 10 \(NPS scale\)$/],
    [{ nps: '7.5' }, 'satisfaction_invalid', /^nps: '7\.5'/],
    [{ csat: '0' }, 'satisfaction_invalid', /^csat: '0' is not a whole number from 1 to 5 \(CSAT scale\)$/],
    [{ csat: '6' }, 'satisfaction_invalid', /^csat: '6'/],
    [
      { marketing_consent: 'maybe' },
      'marketing_consent_invalid',
      /^marketing_consent: 'maybe' is not yes or no/,
    ],
  ] as const)('rejects %o as %s', (values, reason, message) => {
    const result = clean(row({ customer_id: 'c1', ...values }), 7);
    expect(result).toEqual({ ok: false, line: 7, reason, message: expect.stringMatching(message) });
  });

  it('keeps the NPS when a row has both scales, and reads CSAT on its own', () => {
    expect(accepted(clean(row({ customer_id: 'a', nps: '3', csat: '5' }))).satisfaction).toEqual({
      scale: 'nps',
      score: 3,
    });
    expect(accepted(clean(row({ customer_id: 'a', csat: '4' }))).satisfaction).toEqual({
      scale: 'csat',
      score: 4,
    });
  });

  it('reads a generic satisfaction column on the configured scale and Dutch decimals', () => {
    const dutch = cleaner(['Klantnummer', 'Tevredenheid', 'Servicekosten'], 'csat', ',');
    expect(accepted(dutch(['k1', '2', '1.234,50']))).toMatchObject({
      satisfaction: { scale: 'csat', score: 2 },
      serviceCostCents: 123_450,
    });
    expect(dutch(['k1', '9', ''])).toMatchObject({
      ok: false,
      reason: 'satisfaction_invalid',
      message: expect.stringMatching(/^satisfaction: '9'/),
    });
  });
});

describe('latest value wins', () => {
  const base: CustomerAttributesRow = {
    customerId: 'c1',
    line: 2,
    updatedAtMicros: null,
    acquiredAtMicros: null,
    acquisitionChannel: null,
    acquisitionCostCents: null,
    serviceContacts: null,
    serviceCostCents: null,
    satisfaction: null,
    marketingConsent: null,
  };
  const DAY = 86_400_000_000;

  it('takes each field from the latest row that has it; empty cells keep earlier values', () => {
    const state = new Map<string, MergedCustomerAttributes>();
    addAttributeRow(
      state,
      { ...base, satisfaction: { scale: 'nps', score: 4 }, acquisitionChannel: 'email' },
      10 * DAY,
    );
    addAttributeRow(state, { ...base, line: 3, satisfaction: { scale: 'nps', score: 9 } }, 20 * DAY);
    addAttributeRow(state, { ...base, marketingConsent: false }, 15 * DAY);
    expect(attributeValues(state.get('c1')!)).toMatchObject({
      satisfaction: { scale: 'nps', score: 9 },
      acquisitionChannel: 'email',
      marketingConsent: false,
    });
  });

  it('orders by updated_at before the ingest time, then by line', () => {
    const state = new Map<string, MergedCustomerAttributes>();
    // Ingested later, but the source system says it is older.
    addAttributeRow(state, { ...base, updatedAtMicros: 1 * DAY, serviceContacts: 8 }, 30 * DAY);
    addAttributeRow(state, { ...base, updatedAtMicros: 2 * DAY, serviceContacts: 2 }, 10 * DAY);
    // Same file: the later line wins.
    addAttributeRow(state, { ...base, line: 5, acquisitionCostCents: 500 }, 40 * DAY);
    addAttributeRow(state, { ...base, line: 4, acquisitionCostCents: 900 }, 40 * DAY);
    expect(attributeValues(state.get('c1')!)).toMatchObject({
      serviceContacts: 2,
      acquisitionCostCents: 500,
    });
  });

  it('gives the same result in any order and grouping (associative and commutative)', () => {
    const rowArbitrary = fc.record({
      line: fc.integer({ min: 1, max: 5 }),
      ingestedAt: fc.integer({ min: 0, max: 4 }),
      updatedAt: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
      contacts: fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }),
      nps: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
      consent: fc.option(fc.boolean(), { nil: null }),
    });
    const toMerged = (r: {
      line: number;
      ingestedAt: number;
      updatedAt: number | null;
      contacts: number | null;
      nps: number | null;
      consent: boolean | null;
    }) =>
      attributesFromRow(
        {
          ...base,
          line: r.line,
          updatedAtMicros: r.updatedAt === null ? null : r.updatedAt * DAY,
          serviceContacts: r.contacts,
          satisfaction: r.nps === null ? null : { scale: 'nps', score: r.nps },
          marketingConsent: r.consent,
        },
        r.ingestedAt * DAY,
      );
    fc.assert(
      fc.property(fc.array(rowArbitrary, { minLength: 1, maxLength: 12 }), fc.integer(), (rows, seed) => {
        const merged = rows.map(toMerged);
        const leftFold = merged.reduce(mergeCustomerAttributes);
        const shuffled = merged
          .map((m, i) => ({ m, key: (Math.imul(i + 1, 2654435761) ^ seed) >>> 0 }))
          .sort((a, b) => a.key - b.key)
          .map(({ m }) => m);
        const rightFold = shuffled.reduceRight((acc, m) => mergeCustomerAttributes(m, acc));
        // Split in two parts merged separately (as the recalc's parts would), then together.
        const cut = Math.abs(seed) % merged.length;
        const parts = [merged.slice(0, cut), merged.slice(cut)]
          .filter((p) => p.length > 0)
          .map((p) => p.reduce(mergeCustomerAttributes));
        const fromParts = parts.reduce(mergeCustomerAttributes);
        expect(attributeValues(rightFold)).toEqual(attributeValues(leftFold));
        expect(attributeValues(fromParts)).toEqual(attributeValues(leftFold));
      }),
    );
  });

  it('refuses to merge two customers', () => {
    expect(() =>
      mergeCustomerAttributes(
        attributesFromRow(base, 0),
        attributesFromRow({ ...base, customerId: 'c2' }, 0),
      ),
    ).toThrow(/c1.*c2/);
  });
});
