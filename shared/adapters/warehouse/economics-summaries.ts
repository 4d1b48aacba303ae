/**
 * The customer summaries of a run with customer economics (docs/economics.md): the summaries
 * statement's rows joined, by customer id, with each customer's net contribution sums and latest
 * attributes, as nullable columns. Used only when the run has economics (order figures, an attributes
 * export or `economics` settings): without them the summaries statement is rendered exactly as before.
 * The same text runs on DuckDB locally and as an Athena UNLOAD.
 */
import type { EconomicsPresenceRow, EconomicsSqlSettings } from '#app/ports/recalc-queries.ts';
import type { CustomerSummaryRow, Statement } from '#app/ports/warehouse.ts';
import type { SummaryEconomics } from '#domain/economics/score-economics.ts';
import { customerAttributesStatement, customerEconomicsStatement } from './economics-queries.ts';
import {
  CUSTOMER_ATTRIBUTES_RELATION,
  parseWarehouseParams,
  rateLiteral,
  stringLiteral,
  TRANSACTIONS_RELATION,
  type WarehouseParamsInput,
} from './queries.ts';

/**
 * The configured rate of a (source, channel) group, as `configuredMarginRate` picks it: channel,
 * else source, else the default, else clv.margin. Keys sorted so the text does not depend on order.
 */
function rateExpression(settings: EconomicsSqlSettings): string {
  const cases = [
    ...Object.keys(settings.marginRate.byChannel)
      .sort()
      .map(
        (c) => `WHEN channel = ${stringLiteral(c)} THEN ${rateLiteral(settings.marginRate.byChannel[c]!)}`,
      ),
    ...Object.keys(settings.marginRate.bySource)
      .sort()
      .map((s) => `WHEN source = ${stringLiteral(s)} THEN ${rateLiteral(settings.marginRate.bySource[s]!)}`),
  ];
  const fallback = rateLiteral(settings.marginRate.default ?? settings.clvMargin);
  return cases.length === 0 ? fallback : `CASE ${cases.join(' ')} ELSE ${fallback} END`;
}

/**
 * Per customer, `observedEconomicsFromSums` in SQL: for each (source, channel) group
 *
 *   own net      = known margin + round(rated revenue × rate) − discount − shipping − returned
 *   historic net = own net + round(plain revenue × rate)
 *
 * (rate applied to the group's sum, rounded half away from zero once, exact DECIMAL), summed over the
 * customer's groups; the primary source is the one with the most revenue (ties: first by name).
 */
function customerEconomicsSql(input: WarehouseParamsInput, settings: EconomicsSqlSettings): string {
  const rate = rateExpression(settings);
  const rounded = (cents: string) => `CAST(ROUND(${cents} * ${rate}) AS BIGINT)`;
  const discount = settings.discountIncludedInAmount ? '0' : 'discount_cents';
  return `SELECT
    customer_id,
    MAX(CASE WHEN source_rank = 1 THEN source END) AS primary_source,
    CAST(SUM(own_orders) AS BIGINT) AS own_orders,
    CAST(SUM(own_revenue_cents) AS BIGINT) AS own_revenue_cents,
    CAST(SUM(own_net_cents) AS BIGINT) AS own_net_cents,
    CAST(SUM(own_net_cents + plain_net_cents) AS BIGINT) AS historic_net_cents
  FROM (
    SELECT
      customer_id, source, own_orders, own_revenue_cents, own_net_cents, plain_net_cents,
      dense_rank() OVER (PARTITION BY customer_id ORDER BY source_revenue DESC, source) AS source_rank
    FROM (
      SELECT
        customer_id,
        source,
        own_orders,
        own_revenue_cents,
        own_known_margin_cents + ${rounded('own_rated_revenue_cents')} - ${discount} - shipping_cost_cents - returned_cents AS own_net_cents,
        ${rounded('plain_revenue_cents')} AS plain_net_cents,
        SUM(own_revenue_cents + plain_revenue_cents) OVER (PARTITION BY customer_id, source) AS source_revenue
      FROM (
${customerEconomicsStatement(input).sql}
      ) economics_groups
    ) economics_nets
  ) economics_ranked
  GROUP BY customer_id`;
}

/** The economics columns the joined summaries add (all nullable: a customer may have none). */
const ECONOMICS_SUMMARY_COLUMNS = `e.primary_source AS economics_primary_source,
  e.own_orders AS economics_own_orders,
  e.own_revenue_cents AS economics_own_revenue_cents,
  e.own_net_cents AS economics_own_net_cents,
  e.historic_net_cents AS economics_historic_net_cents,
  CASE WHEN a.customer_id IS NULL THEN 0 ELSE 1 END AS economics_has_attributes,
  a.acquisition_channel AS economics_acquisition_channel,
  a.acquisition_cost_cents AS economics_acquisition_cost_cents,
  a.service_contacts AS economics_service_contacts,
  a.service_cost_cents AS economics_service_cost_cents,
  a.satisfaction_scale AS economics_satisfaction_scale,
  a.satisfaction_score AS economics_satisfaction_score,
  a.marketing_consent AS economics_marketing_consent`;

/**
 * The summaries statement with each customer's economics joined (same name and rows; more columns).
 * Its decoder adds `economics` to every row.
 */
export function summariesWithEconomics(
  summaries: Statement<CustomerSummaryRow>,
  input: WarehouseParamsInput,
  settings: EconomicsSqlSettings,
): Statement<CustomerSummaryRow> {
  const p = parseWarehouseParams(input);
  const attributes = customerAttributesStatement(p.sources ? { sources: p.sources } : {});
  const sql = `SELECT * FROM (
SELECT
  s.*,
  ${ECONOMICS_SUMMARY_COLUMNS}
FROM (
${summaries.sql}
) s
LEFT JOIN (
  ${customerEconomicsSql(input, settings)}
) e ON e.customer_id = s.customer_id
LEFT JOIN (
${attributes.sql}
) a ON a.customer_id = s.customer_id
) result`;
  return {
    name: summaries.name,
    sql,
    decode: (raw) => ({ ...summaries.decode(raw), economics: decodeSummaryEconomics(summaries.name, raw) }),
    ...(summaries.compare ? { compare: summaries.compare } : {}),
    ...(summaries.parts === undefined ? {} : { parts: summaries.parts }),
  };
}

/** The economics of a decoded summary row (column errors name the statement and the column). */
export function decodeSummaryEconomics(statement: string, raw: Record<string, unknown>): SummaryEconomics {
  const integer = (column: string): number | null => {
    const value = raw[`economics_${column}`];
    if (value === null || value === undefined) return null;
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
    throw new TypeError(
      `${statement}: column 'economics_${column}' should be an integer or null, got ${String(value)}`,
    );
  };
  const text = (column: string): string | null => {
    const value = raw[`economics_${column}`];
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    throw new TypeError(
      `${statement}: column 'economics_${column}' should be a string or null, got ${String(value)}`,
    );
  };
  const ownOrders = integer('own_orders');
  const scale = text('satisfaction_scale');
  const score = integer('satisfaction_score');
  if (scale !== null && scale !== 'nps' && scale !== 'csat') {
    throw new TypeError(
      `${statement}: column 'economics_satisfaction_scale' should be nps or csat, got ${scale}`,
    );
  }
  const consent = integer('marketing_consent');
  return {
    primarySource: text('primary_source'),
    observed:
      ownOrders === null
        ? null
        : {
            ownOrders,
            ownRevenueCents: integer('own_revenue_cents') ?? 0,
            ownNetCents: integer('own_net_cents') ?? 0,
            historicNetCents: integer('historic_net_cents') ?? 0,
          },
    attributes:
      integer('has_attributes') === 1
        ? {
            acquiredAtMicros: null,
            acquisitionChannel: text('acquisition_channel'),
            acquisitionCostCents: integer('acquisition_cost_cents'),
            serviceContacts: integer('service_contacts'),
            serviceCostCents: integer('service_cost_cents'),
            satisfaction: scale !== null && score !== null ? { scale, score } : null,
            marketingConsent: consent === null ? null : consent === 1,
          }
        : null,
  };
}

/** Counts what `EconomicsPresenceRow` says, over the run's sources (every row, any date or currency). */
export function economicsPresenceStatement(input: {
  sources?: readonly string[];
}): Statement<EconomicsPresenceRow> {
  const sources = input.sources ? [...new Set(input.sources)].sort() : undefined;
  // Athena projects `source` as an injected partition: every scan names the sources.
  const bySource = sources ? `source IN (${sources.map(stringLiteral).join(', ')})` : null;
  const figures =
    '(cost IS NOT NULL OR margin_amount IS NOT NULL OR discount IS NOT NULL OR shipping_cost IS NOT NULL ' +
    'OR returned_amount IS NOT NULL OR returned IS NOT NULL)';
  const sql = `SELECT
  CAST((SELECT COUNT(*) FROM ${TRANSACTIONS_RELATION} WHERE ${bySource ? `${bySource} AND ` : ''}${figures}) AS BIGINT) AS order_rows_with_figures,
  CAST((SELECT COUNT(*) FROM ${CUSTOMER_ATTRIBUTES_RELATION}${bySource ? ` WHERE ${bySource}` : ''}) AS BIGINT) AS attribute_rows`;
  const toNumber = (value: unknown) => (typeof value === 'bigint' ? Number(value) : Number(value ?? 0));
  return {
    name: 'economics-presence',
    sql,
    decode: (raw) => ({
      orderRowsWithFigures: toNumber(raw.order_rows_with_figures),
      attributeRows: toNumber(raw.attribute_rows),
    }),
  };
}

/**
 * A run's statements with the economics joined into the customer summaries when the parameters ask
 * for it (every family: the period families' summaries have the same customer id and columns);
 * otherwise the statements as they are.
 */
export function withRunEconomics<T extends { customerSummaries?: Statement<CustomerSummaryRow> }>(
  statements: T,
  params: WarehouseParamsInput & { economics?: EconomicsSqlSettings | undefined },
): T {
  if (!params.economics || !statements.customerSummaries) return statements;
  const full = { ...params, calibrationEnd: undefined };
  return {
    ...statements,
    customerSummaries: summariesWithEconomics(statements.customerSummaries, full, params.economics),
  };
}
