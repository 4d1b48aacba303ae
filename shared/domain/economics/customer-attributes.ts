/**
 * The customer attributes export (the second export kind, next to transactions): column aliases, the
 * row cleaner with a reason code per rejected row, and the "latest value wins" merge by customer.
 */
import * as z from 'zod';
import { type DecimalSeparator, parseAmountCents } from '../ingest/amounts.ts';
import { mapKindColumns } from '../ingest/column-mapping.ts';
import { IngestFileError } from '../ingest/ingest-file-error.ts';
import type { TimestampProblem } from '../ingest/order-timestamps.ts';
import type { SatisfactionScale } from './economics-config.ts';
import { parseFlag } from './order-economics.ts';

/** Canonical fields of a customer attributes export; only `customer_id` is required. */
export const ATTRIBUTE_COLUMNS = [
  'customer_id',
  'updated_at',
  'acquired_at',
  'acquisition_channel',
  'acquisition_cost',
  'service_contacts',
  'service_cost',
  'nps',
  'csat',
  'satisfaction',
  'marketing_consent',
] as const;
export type AttributeColumn = (typeof ATTRIBUTE_COLUMNS)[number];

/**
 * Header aliases in English, Dutch and German, in `normalizeHeader` form, best match first. `nps` and
 * `csat` columns carry their scale in the name; a generic `satisfaction` column needs the
 * `satisfactionScale` setting. Service figures are per period (`servicePeriodMonths`, default 12).
 */
export const ATTRIBUTE_ALIASES: Readonly<Record<AttributeColumn, readonly string[]>> = {
  customer_id: [
    'customerid',
    'customer',
    'customerno',
    'customernumber',
    'clientid',
    'klantid',
    'klantnummer',
    'klantnr',
    'klant',
    'debiteurnummer',
    'kundennummer',
    'kundenid',
    'kunde',
    'accountid',
    'memberid',
    'contactid',
  ],
  updated_at: [
    'updatedat',
    'updated',
    'lastupdated',
    'lastmodified',
    'modifiedat',
    'asof',
    'gewijzigdop',
    'bijgewerktop',
    'laatstgewijzigd',
    'geandertam',
    'aktualisiertam',
    'stand',
  ],
  acquired_at: [
    'acquiredat',
    'acquisitiondate',
    'firstseen',
    'signupdate',
    'signedupat',
    'registeredat',
    'registrationdate',
    'customersince',
    'klantsinds',
    'aanmelddatum',
    'registratiedatum',
    'inschrijfdatum',
    'kundeseit',
    'registriertam',
    'anmeldedatum',
    'registrierungsdatum',
  ],
  acquisition_channel: [
    'acquisitionchannel',
    'acquisitionsource',
    'source',
    'utmsource',
    'firsttouchchannel',
    'leadsource',
    'herkomst',
    'acquisitiekanaal',
    'wervingskanaal',
    'bron',
    'akquisitionskanal',
    'herkunft',
    'quelle',
  ],
  acquisition_cost: [
    'acquisitioncost',
    'cac',
    'costperacquisition',
    'cpa',
    'acquisitiekosten',
    'wervingskosten',
    'akquisitionskosten',
    'gewinnungskosten',
  ],
  service_contacts: [
    'servicecontacts',
    'supportcontacts',
    'supporttickets',
    'tickets',
    'contacts',
    'klantcontacten',
    'servicecontacten',
    'contactmomenten',
    'servicekontakte',
    'kontakte',
    'supportanfragen',
  ],
  service_cost: [
    'servicecost',
    'servicecosts',
    'supportcost',
    'costtoserve',
    'servicekosten',
    'supportkosten',
    'betreuungskosten',
  ],
  nps: [
    'nps',
    'npsscore',
    'recommendscore',
    'likelihoodtorecommend',
    'aanbevelingsscore',
    'weiterempfehlung',
    'empfehlungswahrscheinlichkeit',
  ],
  csat: [
    'csat',
    'csatscore',
    'customersatisfactionscore',
    'klanttevredenheidsscore',
    'kundenzufriedenheitsscore',
  ],
  satisfaction: [
    'satisfaction',
    'satisfactionscore',
    'customersatisfaction',
    'tevredenheid',
    'klanttevredenheid',
    'zufriedenheit',
    'kundenzufriedenheit',
  ],
  marketing_consent: [
    'marketingconsent',
    'consent',
    'optin',
    'emailoptin',
    'newsletter',
    'subscribed',
    'toestemming',
    'marketingtoestemming',
    'nieuwsbrief',
    'einwilligung',
    'werbeeinwilligung',
    'newsletteranmeldung',
  ],
};

export interface AttributeColumnMapping {
  /** Index of each canonical field in the header row, -1 when absent. */
  index: Record<AttributeColumn, number>;
  /** Scale of the generic `satisfaction` column, when mapped. */
  satisfactionScale: SatisfactionScale | null;
}

/**
 * Maps an attributes header row: configured names first (exact, then normalized), then the aliases.
 * Throws `columns_missing` without a customer id or without any attribute column, and
 * `config_invalid` for a generic satisfaction column whose scale nobody stated.
 */
export function mapAttributeColumns(
  headers: readonly string[],
  configured: Partial<Record<AttributeColumn, string | undefined>> | undefined,
  satisfactionScale: SatisfactionScale | undefined,
  fileName: string,
): AttributeColumnMapping {
  const { index, problems } = mapKindColumns(headers, ATTRIBUTE_COLUMNS, ATTRIBUTE_ALIASES, configured);
  if (index.customer_id < 0 && configured?.customer_id === undefined) {
    problems.push(
      `no column for customer_id (accepted headers: ${ATTRIBUTE_ALIASES.customer_id.slice(0, 8).join(', ')}, …)`,
    );
  }
  const attributes = ATTRIBUTE_COLUMNS.filter((c) => c !== 'customer_id' && c !== 'updated_at');
  if (problems.length === 0 && attributes.every((c) => index[c] < 0)) {
    problems.push(
      `no attribute column (expected at least one of ${attributes.join(', ')}; e.g. headers ${attributes.map((c) => ATTRIBUTE_ALIASES[c][0]).join(', ')})`,
    );
  }
  if (problems.length > 0) {
    throw new IngestFileError(
      'columns_missing',
      `${fileName}: ${problems.join('; ')}. Headers found: ${headers.map((h) => `'${h}'`).join(', ')}`,
    );
  }
  if (index.satisfaction >= 0 && satisfactionScale === undefined) {
    throw new IngestFileError(
      'config_invalid',
      `${fileName}: column '${headers[index.satisfaction]}' holds satisfaction scores but their scale is unknown; ` +
        `name the column nps (0–10) or csat (1–5), or set economics.satisfactionScale to "nps" or "csat"`,
    );
  }
  return { index, satisfactionScale: index.satisfaction >= 0 ? satisfactionScale! : null };
}

export const satisfactionScoreSchema = z.object({
  scale: z.enum(['nps', 'csat']),
  /** NPS: whole number 0–10; CSAT: whole number 1–5. */
  score: z.number().int(),
});
export type SatisfactionScore = z.infer<typeof satisfactionScoreSchema>;

/** One clean attributes row; null = not given in this row (which never erases an earlier value). */
export const customerAttributesRowSchema = z.object({
  customerId: z.string().min(1),
  line: z.number().int().positive(),
  /** When the source system last changed the row (epoch microseconds UTC), if the export says. */
  updatedAtMicros: z.number().int().nullable(),
  acquiredAtMicros: z.number().int().nullable(),
  acquisitionChannel: z.string().min(1).nullable(),
  acquisitionCostCents: z.number().int().nonnegative().nullable(),
  /** Service contacts per service period. */
  serviceContacts: z.number().int().nonnegative().nullable(),
  /** Service cost per service period, cents. */
  serviceCostCents: z.number().int().nonnegative().nullable(),
  satisfaction: satisfactionScoreSchema.nullable(),
  marketingConsent: z.boolean().nullable(),
});
export type CustomerAttributesRow = z.infer<typeof customerAttributesRowSchema>;

export type AttributeRejectReason =
  | 'customer_id_missing'
  | 'updated_at_invalid'
  | 'acquired_at_invalid'
  | 'acquisition_cost_invalid'
  | 'service_contacts_invalid'
  | 'service_cost_invalid'
  | 'satisfaction_invalid'
  | 'marketing_consent_invalid';

export type CleanedAttributeRow =
  | { ok: true; row: CustomerAttributesRow }
  | { ok: false; line: number; reason: AttributeRejectReason; message: string };

export interface AttributeRowCleanerOptions {
  mapping: AttributeColumnMapping;
  decimal: DecimalSeparator;
  /** The ingest's date parser (ISO, yyyyMMdd or the configured format, in the source's time zone). */
  timestamps: { parse(value: string): number | TimestampProblem };
}

const quote = (text: string) => `'${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`;
const SCALE_RANGE: Record<SatisfactionScale, [number, number]> = { nps: [0, 10], csat: [1, 5] };

/**
 * Cleans one attributes row given as fields in header order. Checks run in column order and the first
 * failure is the reason. Empty values mean "not given". When a row has both an nps and a csat value,
 * the NPS is kept (its bands are the standard ones; see docs/economics.md).
 */
export function cleanAttributeRow(
  fields: readonly string[],
  line: number,
  options: AttributeRowCleanerOptions,
): CleanedAttributeRow {
  const { index } = options.mapping;
  const value = (column: AttributeColumn) => (index[column] >= 0 ? (fields[index[column]] ?? '').trim() : '');
  const fail = (reason: AttributeRejectReason, message: string): CleanedAttributeRow => ({
    ok: false,
    line,
    reason,
    message,
  });

  const customerId = value('customer_id');
  if (customerId === '') return fail('customer_id_missing', 'customer_id is empty');

  const date = (column: 'updated_at' | 'acquired_at'): number | null | { problem: string } => {
    const text = value(column);
    if (text === '') return null;
    const parsed = options.timestamps.parse(text);
    if (typeof parsed === 'number') return parsed;
    const why =
      parsed === 'out_of_range' ? 'is outside the supported years 1900–2199' : 'is not a valid date';
    return { problem: `${column}: ${quote(text)} ${why}` };
  };
  const updatedAt = date('updated_at');
  if (typeof updatedAt === 'object' && updatedAt !== null)
    return fail('updated_at_invalid', updatedAt.problem);
  const acquiredAt = date('acquired_at');
  if (typeof acquiredAt === 'object' && acquiredAt !== null)
    return fail('acquired_at_invalid', acquiredAt.problem);

  const channelText = value('acquisition_channel');

  const money = (column: 'acquisition_cost' | 'service_cost'): number | null | { problem: string } => {
    const text = value(column);
    if (text === '') return null;
    const cents = parseAmountCents(text, options.decimal);
    if (Number.isNaN(cents)) {
      return {
        problem: `${column}: ${quote(text)} is not a valid amount (decimal separator '${options.decimal}' in this file)`,
      };
    }
    if (cents < 0) return { problem: `${column}: ${quote(text)} is negative; a cost is an amount ≥ 0` };
    return cents;
  };
  const acquisitionCost = money('acquisition_cost');
  if (typeof acquisitionCost === 'object' && acquisitionCost !== null)
    return fail('acquisition_cost_invalid', acquisitionCost.problem);

  let serviceContacts: number | null = null;
  const contactsText = value('service_contacts');
  if (contactsText !== '') {
    if (!/^\d{1,9}$/.test(contactsText)) {
      return fail(
        'service_contacts_invalid',
        `service_contacts: ${quote(contactsText)} is not a whole number ≥ 0`,
      );
    }
    serviceContacts = Number(contactsText);
  }
  const serviceCost = money('service_cost');
  if (typeof serviceCost === 'object' && serviceCost !== null)
    return fail('service_cost_invalid', serviceCost.problem);

  let satisfaction: SatisfactionScore | null = null;
  const candidates: [AttributeColumn, SatisfactionScale | null][] = [
    ['nps', 'nps'],
    ['csat', 'csat'],
    ['satisfaction', options.mapping.satisfactionScale],
  ];
  for (const [column, scale] of candidates) {
    const text = value(column);
    if (text === '' || scale === null) continue;
    const [low, high] = SCALE_RANGE[scale];
    const score = /^\d{1,2}$/.test(text) ? Number(text) : Number.NaN;
    if (!(score >= low && score <= high)) {
      return fail(
        'satisfaction_invalid',
        `${column}: ${quote(text)} is not a whole number from ${low} to ${high} (${scale === 'nps' ? 'NPS' : 'CSAT'} scale)`,
      );
    }
    satisfaction ??= { scale, score };
  }

  let marketingConsent: boolean | null = null;
  const consentText = value('marketing_consent');
  if (consentText !== '') {
    marketingConsent = parseFlag(consentText);
    if (marketingConsent === null) {
      return fail(
        'marketing_consent_invalid',
        `marketing_consent: ${quote(consentText)} is not yes or no (accepted: yes/no, true/false, 1/0, ja/nee, ja/nein, x)`,
      );
    }
  }

  return {
    ok: true,
    row: {
      customerId,
      line,
      updatedAtMicros: updatedAt,
      acquiredAtMicros: acquiredAt,
      acquisitionChannel: channelText === '' ? null : channelText,
      acquisitionCostCents: acquisitionCost,
      serviceContacts,
      serviceCostCents: serviceCost,
      satisfaction,
      marketingConsent,
    },
  };
}

/*
 * "Latest value wins", field by field: an empty cell means "not known in this row", so a later row
 * without a satisfaction score keeps the earlier score. "Latest" is ordered by the key
 * (updated_at, else the ingest time; then the ingest time; then the line), a total order on rows, so
 * the merge is associative and commutative: parts and files can be merged in any order.
 */

/** Position of a row in time: compared lexicographically. */
export interface AttributeRowOrder {
  /** updated_at when the row has one, else the ingest time (epoch microseconds). */
  effectiveMicros: number;
  /** When the export was ingested (epoch microseconds). */
  ingestedAtMicros: number;
  line: number;
}

export const attributeRowOrder = (
  row: CustomerAttributesRow,
  ingestedAtMicros: number,
): AttributeRowOrder => ({
  effectiveMicros: row.updatedAtMicros ?? ingestedAtMicros,
  ingestedAtMicros,
  line: row.line,
});

export function compareRowOrder(a: AttributeRowOrder, b: AttributeRowOrder): number {
  return a.effectiveMicros - b.effectiveMicros || a.ingestedAtMicros - b.ingestedAtMicros || a.line - b.line;
}

interface Stamped<T> {
  value: T;
  at: AttributeRowOrder;
}

const MERGED_FIELDS = [
  'acquiredAtMicros',
  'acquisitionChannel',
  'acquisitionCostCents',
  'serviceContacts',
  'serviceCostCents',
  'satisfaction',
  'marketingConsent',
] as const;
type MergedField = (typeof MERGED_FIELDS)[number];

/** A customer's attributes after merging rows: each field with the row it came from. */
export type MergedCustomerAttributes = { customerId: string } & {
  [K in MergedField]: Stamped<NonNullable<CustomerAttributesRow[K]>> | null;
};

/** The attributes of one row as a merge state (fields not given stay null). */
export function attributesFromRow(
  row: CustomerAttributesRow,
  ingestedAtMicros: number,
): MergedCustomerAttributes {
  const at = attributeRowOrder(row, ingestedAtMicros);
  const merged = { customerId: row.customerId } as MergedCustomerAttributes;
  for (const field of MERGED_FIELDS) {
    const value = row[field];
    (merged as Record<MergedField, Stamped<unknown> | null>)[field] = value === null ? null : { value, at };
  }
  return merged;
}

/**
 * The later of two stamped values. Equal keys only come from the same row read twice (same ingest,
 * same line); comparing the values then keeps the choice independent of the merge order.
 */
function later(x: Stamped<unknown>, y: Stamped<unknown>): Stamped<unknown> {
  const order = compareRowOrder(y.at, x.at);
  if (order !== 0) return order > 0 ? y : x;
  return JSON.stringify(y.value) > JSON.stringify(x.value) ? y : x;
}

/** Field by field, the later value wins (a new object; the inputs are untouched). */
export function mergeCustomerAttributes(
  a: MergedCustomerAttributes,
  b: MergedCustomerAttributes,
): MergedCustomerAttributes {
  if (a.customerId !== b.customerId) {
    throw new RangeError(`cannot merge attributes of '${a.customerId}' and '${b.customerId}'`);
  }
  const merged = { customerId: a.customerId } as MergedCustomerAttributes;
  for (const field of MERGED_FIELDS) {
    const x = a[field] as Stamped<unknown> | null;
    const y = b[field] as Stamped<unknown> | null;
    (merged as Record<MergedField, Stamped<unknown> | null>)[field] =
      x === null ? y : y === null ? x : later(x, y);
  }
  return merged;
}

/** Reducer step: folds a clean row into the customers seen so far (mutates and returns `state`). */
export function addAttributeRow(
  state: Map<string, MergedCustomerAttributes>,
  row: CustomerAttributesRow,
  ingestedAtMicros: number,
): Map<string, MergedCustomerAttributes> {
  const incoming = attributesFromRow(row, ingestedAtMicros);
  const current = state.get(row.customerId);
  state.set(row.customerId, current ? mergeCustomerAttributes(current, incoming) : incoming);
  return state;
}

/** Plain values of a merged customer (what scoring reads). */
export interface CustomerAttributes {
  customerId: string;
  acquiredAtMicros: number | null;
  acquisitionChannel: string | null;
  acquisitionCostCents: number | null;
  serviceContacts: number | null;
  serviceCostCents: number | null;
  satisfaction: SatisfactionScore | null;
  marketingConsent: boolean | null;
}

export function attributeValues(merged: MergedCustomerAttributes): CustomerAttributes {
  return {
    customerId: merged.customerId,
    acquiredAtMicros: merged.acquiredAtMicros?.value ?? null,
    acquisitionChannel: merged.acquisitionChannel?.value ?? null,
    acquisitionCostCents: merged.acquisitionCostCents?.value ?? null,
    serviceContacts: merged.serviceContacts?.value ?? null,
    serviceCostCents: merged.serviceCostCents?.value ?? null,
    satisfaction: merged.satisfaction?.value ?? null,
    marketingConsent: merged.marketingConsent?.value ?? null,
  };
}
