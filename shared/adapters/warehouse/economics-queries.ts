/**
 * The warehouse statements of customer economics (docs/economics.md): per customer the sums net CLV
 * needs, and each customer's attributes with the latest value per field. Written in the Trino/DuckDB
 * subset of queries.ts (explicit output casts, no ORDER BY, one plain SELECT) and additive: no
 * existing statement reads the economics columns, so without them every existing result is unchanged.
 */
import type { Statement } from '#app/ports/warehouse.ts';
import { CUSTOMER_ATTRIBUTES_RELATION, decoder, usedRowsCtes, type WarehouseParamsInput } from './queries.ts';

/**
 * Economics sums of one customer's rows in one (source, sales channel) group, in cents of the run
 * currency, over the period the summaries describe (up to the calibration end, else the as-of date).
 * The configured margin rate (by channel, source or default) is applied by the domain
 * (`observedEconomicsFromSums`), which is why revenue without a margin figure is returned per group.
 */
export interface CustomerEconomicsRow {
  customerId: string;
  source: string;
  /** Sales channel of the rows (null when the export had none). */
  channel: string | null;
  /** Distinct orders with a figure of their own (cost, margin, discount, shipping or returns). */
  ownOrders: number;
  /** Σ amount of the rows with own figures. */
  ownRevenueCents: number;
  /** Σ goods margin (amount − cost, else margin_amount) of the rows that give one. */
  ownKnownMarginCents: number;
  /** Σ amount of the rows with own figures but neither cost nor margin: margined at the configured rate. */
  ownRatedRevenueCents: number;
  /** Σ discount of the rows with own figures. */
  discountCents: number;
  shippingCostCents: number;
  /** Σ returned value: the amount when `returned` is true, else returned_amount. */
  returnedCents: number;
  /** Σ amount of the rows without any own figure (net = amount × configured rate). */
  plainRevenueCents: number;
}

const ECONOMICS_COLUMNS = [
  { name: 'channel', money: false },
  { name: 'cost', money: true },
  { name: 'margin_amount', money: true },
  { name: 'discount', money: true },
  { name: 'shipping_cost', money: true },
  { name: 'returned_amount', money: true },
  { name: 'returned', money: false },
] as const;

/** Cents of a DECIMAL money expression as BIGINT (whole cents; converted amounts round to the cent). */
const cents = (expression: string) => `CAST(ROUND(SUM(${expression}) * 100) AS BIGINT)`;

/**
 * Per customer and (source, channel): the parts of the documented net contribution
 * (`orderNetContribution`), summed so that the domain computes
 *
 *   own net  = ownKnownMargin + ownRatedRevenue × rate − discount − shipping − returned
 *   historic = own net + plainRevenue × rate
 *
 * with the rate of the group (and `discountIncludedInAmount` deciding whether the discount counts).
 */
export function customerEconomicsStatement(input: WarehouseParamsInput): Statement<CustomerEconomicsRow> {
  const { ctes, params } = usedRowsCtes(input, ECONOMICS_COLUMNS);
  const periodEnd = `DATE '${params.calibrationEnd ?? params.asOf}'`;
  const own =
    '(cost IS NOT NULL OR margin_amount IS NOT NULL OR discount IS NOT NULL OR shipping_cost IS NOT NULL ' +
    'OR returned_amount IS NOT NULL OR returned IS NOT NULL)';
  const sql = `SELECT * FROM (
${ctes},
flagged AS (
  SELECT customer_id, source, channel, order_id, amount, cost, margin_amount, discount, shipping_cost,
         returned_amount, returned, ${own} AS own
  FROM used
  WHERE order_day <= ${periodEnd}
)
SELECT
  customer_id,
  source,
  channel,
  CAST(COUNT(DISTINCT CASE WHEN own THEN order_id END) AS BIGINT) AS own_orders,
  ${cents('CASE WHEN own THEN amount ELSE 0 END')} AS own_revenue_cents,
  ${cents('CASE WHEN cost IS NOT NULL THEN amount - cost WHEN margin_amount IS NOT NULL THEN margin_amount ELSE 0 END')} AS own_known_margin_cents,
  ${cents('CASE WHEN own AND cost IS NULL AND margin_amount IS NULL THEN amount ELSE 0 END')} AS own_rated_revenue_cents,
  ${cents('CASE WHEN discount IS NULL THEN 0 ELSE abs(discount) END')} AS discount_cents,
  ${cents('coalesce(shipping_cost, 0)')} AS shipping_cost_cents,
  ${cents('CASE WHEN returned THEN amount ELSE coalesce(returned_amount, 0) END')} AS returned_cents,
  ${cents('CASE WHEN own THEN 0 ELSE amount END')} AS plain_revenue_cents
FROM flagged
GROUP BY customer_id, source, channel
) result`;
  const name = 'customer-economics';
  return {
    name,
    sql,
    decode: decoder(name, (c) => ({
      customerId: c.string('customer_id'),
      source: c.string('source'),
      channel: c.nullableString('channel'),
      ownOrders: c.integer('own_orders'),
      ownRevenueCents: c.integer('own_revenue_cents'),
      ownKnownMarginCents: c.integer('own_known_margin_cents'),
      ownRatedRevenueCents: c.integer('own_rated_revenue_cents'),
      discountCents: c.integer('discount_cents'),
      shippingCostCents: c.integer('shipping_cost_cents'),
      returnedCents: c.integer('returned_cents'),
      plainRevenueCents: c.integer('plain_revenue_cents'),
    })),
    compare: (a, b) =>
      a.customerId.localeCompare(b.customerId) ||
      a.source.localeCompare(b.source) ||
      (a.channel ?? '').localeCompare(b.channel ?? ''),
  };
}

/** A customer's attributes, each field the latest value given (docs/economics.md §2). */
export interface CustomerAttributesSqlRow {
  customerId: string;
  /** 'YYYY-MM-DD' (UTC day). */
  acquiredAt: string | null;
  acquisitionChannel: string | null;
  acquisitionCostCents: number | null;
  serviceContacts: number | null;
  serviceCostCents: number | null;
  satisfactionScale: 'nps' | 'csat' | null;
  satisfactionScore: number | null;
  marketingConsent: boolean | null;
}

/**
 * Latest value wins, field by field: for each field the value of the latest row that gives one, rows
 * ordered by (updated_at else ingested_at, ingested_at, line_number) as `compareRowOrder` orders them
 * (then ingest_id, so equal keys of two ingests still pick one). An empty cell never erases a value.
 */
export function customerAttributesStatement(input: {
  sources?: readonly string[];
}): Statement<CustomerAttributesSqlRow> {
  const sources = input.sources ? [...new Set(input.sources)].sort() : undefined;
  if (sources?.some((source) => source.includes("'") || source.includes('/'))) {
    throw new Error('Invalid source name for customer attributes');
  }
  const where = sources ? `\n  WHERE source IN (${sources.map((s) => `'${s}'`).join(', ')})` : '';
  const latest = (field: string) =>
    `row_number() OVER (PARTITION BY customer_id ORDER BY CASE WHEN ${field} IS NULL THEN 1 ELSE 0 END, ` +
    'coalesce(updated_at, ingested_at) DESC, ingested_at DESC, line_number DESC, ingest_id DESC)';
  const fields = [
    'acquired_at',
    'acquisition_channel',
    'acquisition_cost',
    'service_contacts',
    'service_cost',
    'satisfaction_score',
    'marketing_consent',
  ];
  const pick = (field: string, expression = field) =>
    `MAX(CASE WHEN rank_${field} = 1 THEN ${expression} END)`;
  const sql = `SELECT * FROM (
SELECT
  customer_id,
  CAST(CAST(${pick('acquired_at')} AS DATE) AS VARCHAR) AS acquired_at,
  CAST(${pick('acquisition_channel')} AS VARCHAR) AS acquisition_channel,
  CAST(ROUND(${pick('acquisition_cost')} * 100) AS BIGINT) AS acquisition_cost_cents,
  CAST(${pick('service_contacts')} AS BIGINT) AS service_contacts,
  CAST(ROUND(${pick('service_cost')} * 100) AS BIGINT) AS service_cost_cents,
  CAST(${pick('satisfaction_score', 'satisfaction_scale')} AS VARCHAR) AS satisfaction_scale,
  CAST(${pick('satisfaction_score')} AS BIGINT) AS satisfaction_score,
  CAST(${pick('marketing_consent', 'CASE WHEN marketing_consent THEN 1 WHEN NOT marketing_consent THEN 0 END')} AS BIGINT) AS marketing_consent
FROM (
  SELECT
    customer_id, acquired_at, acquisition_channel, acquisition_cost, service_contacts, service_cost,
    satisfaction_scale, satisfaction_score, marketing_consent,
    ${fields.map((field) => `${latest(field)} AS rank_${field}`).join(',\n    ')}
  FROM ${CUSTOMER_ATTRIBUTES_RELATION}${where}
) ranked_attributes
GROUP BY customer_id
) result`;
  const name = 'customer-attributes';
  const nullableInteger = (raw: Record<string, unknown>, column: string) => {
    const value = raw[column];
    return value === null || value === undefined ? null : Number(value);
  };
  return {
    name,
    sql,
    decode: (raw) => {
      const base = decoder(name, (c) => ({
        customerId: c.string('customer_id'),
        acquiredAt: c.nullableString('acquired_at'),
        acquisitionChannel: c.nullableString('acquisition_channel'),
        satisfactionScale: c.nullableString('satisfaction_scale'),
      }))(raw);
      if (
        base.satisfactionScale !== null &&
        base.satisfactionScale !== 'nps' &&
        base.satisfactionScale !== 'csat'
      ) {
        throw new TypeError(
          `${name}: column 'satisfaction_scale' should be nps or csat, got ${base.satisfactionScale}`,
        );
      }
      const consent = nullableInteger(raw, 'marketing_consent');
      return {
        ...base,
        satisfactionScale: base.satisfactionScale as 'nps' | 'csat' | null,
        acquisitionCostCents: nullableInteger(raw, 'acquisition_cost_cents'),
        serviceContacts: nullableInteger(raw, 'service_contacts'),
        serviceCostCents: nullableInteger(raw, 'service_cost_cents'),
        satisfactionScore: nullableInteger(raw, 'satisfaction_score'),
        marketingConsent: consent === null ? null : consent === 1,
      };
    },
    compare: (a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0),
  };
}
