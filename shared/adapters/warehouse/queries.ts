/**
 * Every SQL statement of the recalculation, as pure functions of validated parameters.
 *
 * The text is written in the subset that Trino (Athena engine v3) and DuckDB both accept, and the two
 * adapters submit it unchanged (Athena wraps it in UNLOAD, DuckDB in COPY or a plain SELECT):
 * - `date_diff('day', a, b)`, `CAST(x AS DATE|DOUBLE|BIGINT|VARCHAR)`, CTEs, `rank()`/`dense_rank()`;
 *   no `::`, no QUALIFY, no `date_add` (the two engines disagree on its arguments), no ORDER BY
 *   (UNLOAD output has no order; `Statement.compare` sorts small results instead).
 * - Every output column is cast explicitly to BIGINT, DOUBLE or VARCHAR, so both engines write the same
 *   Parquet types (DuckDB would otherwise produce HUGEINT sums, Trino DECIMAL quotients) and dates
 *   leave as 'YYYY-MM-DD' strings.
 * - Column names are lower-case snake_case: Trino folds identifiers to lower case.
 * - Each text is one plain SELECT (the CTEs sit in a subquery), see {@link asSingleSelect}.
 *
 * The summary rules are those of `summarizeTransactions` in `shared/domain/rfm-summary.ts`
 * (see docs/warehouse.md for the mapping); a property test compares the two on random data.
 */
import * as z from 'zod';
import type {
  CohortRow,
  CustomerSummaryRow,
  DataProfileRow,
  HistogramRow,
  HoldoutRow,
  InputProfileRow,
  RunProfileRow,
  SourceProfileRow,
  SpendRow,
  Statement,
  TrackingRow,
  WarehouseTimeUnit,
} from '#app/ports/warehouse.ts';
import { summaryPartCount } from '#domain/recalc/summary-parts.ts';
import { formatEpochDay, parseEpochDay } from '#domain/rfm-summary.ts';

/** Period of the discrete and contractual families. */
type FamilyPeriod = 'year' | 'month' | 'campaign';

/** The relation both engines expose: the clean transactions plus partition columns `source`, `ingest_date`. */
export const TRANSACTIONS_RELATION = 'transactions';

/**
 * The clean customer attributes (docs/economics.md; Glue table in AWS, a view in DuckDB), one row per
 * accepted attributes row, plus partition columns `source`, `ingest_date`.
 */
export const CUSTOMER_ATTRIBUTES_RELATION = 'customer_attributes';

/**
 * The clean subscriptions (docs/ingest.md; Glue table in AWS, a view in DuckDB), one row per accepted
 * subscriptions row, plus partition columns `source`, `ingest_date`.
 */
export const SUBSCRIPTIONS_RELATION = 'subscriptions';

const isoDate = z.string().refine(
  (value) => {
    try {
      parseEpochDay(value);
      return /^\d{4}-\d{2}-\d{2}$/.test(value);
    } catch {
      return false;
    }
  },
  { message: 'expected a calendar date YYYY-MM-DD' },
);

const sourcesSchema = z
  .array(
    z
      .string()
      .min(1)
      .refine((name) => !name.includes('/') && ![...name].some((ch) => ch.charCodeAt(0) < 0x20), {
        message: 'a source name has no slash or control character',
      }),
  )
  .min(1, 'no sources: nothing has been ingested yet');

export const warehouseParamsSchema = z
  .object({
    /** Observation end, inclusive: rows dated later are ignored. */
    asOf: isoDate,
    /**
     * End of the calibration period (inclusive). Summaries, histograms and scores then describe the
     * calibration period; holdout statements need it.
     */
    calibrationEnd: isoDate.optional(),
    timeUnit: z.enum(['days', 'weeks']).default('days'),
    /** Only rows in this currency are used (ISO 4217). */
    currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be a three-letter ISO 4217 code such as USD'),
    /**
     * The sources to read (`listCleanSources`). Required on Athena: the Glue table projects `source`
     * with the `injected` type, and Athena refuses a query without static values for it. Omitted =
     * every source (DuckDB only).
     */
    sources: sourcesSchema.optional(),
    /**
     * Fixed rates into the run currency (`{ USD: 0.92 }`): rows in these currencies are used too, their
     * amounts multiplied by the rate in exact DECIMAL arithmetic. Absent = the run currency only.
     */
    fxRates: z
      .record(
        z.string().regex(/^[A-Z]{3}$/, 'fxRates keys are ISO 4217 codes'),
        z.number().positive().finite(),
      )
      .optional(),
    /**
     * Model family: which summary the customer statements produce (see familyStatements). Omitted =
     * noncontractual-continuous.
     */
    family: z.enum(['noncontractual-continuous', 'noncontractual-discrete', 'contractual']).optional(),
    /**
     * Period of the discrete and contractual families: calendar years or months (UTC), or campaigns
     * (`campaigns`). Omitted = year.
     */
    period: z.enum(['year', 'month', 'campaign']).optional(),
    /** Campaign starts of `period: 'campaign'`: increasing ISO dates, at least two. */
    campaigns: z.array(isoDate).min(2).optional(),
    /**
     * The contractual family reads the sources' subscriptions exports (`subscriptions` relation)
     * instead of fee payments in the transactions: every statement then sees one row per subscription
     * (order = subscription, order date = start, amount = fee per period), see {@link transactionsSource}.
     */
    subscriptions: z.boolean().optional(),
    /**
     * Identical (customer, order time, amount, currency) rows in two sources: `keep` uses them all,
     * `collapse` only the copy of the first source by name.
     */
    crossSourceDuplicates: z.enum(['keep', 'collapse']).optional(),
    /**
     * Customers the run summarizes (the data profile's `customersSummarized`): the customer summaries
     * are then written in ceil(customers / partCustomers) parts by customer bucket (summary-parts.ts).
     * Omitted = not split by the pipeline. Only the summaries statement uses it.
     */
    customers: z.number().int().min(0).optional(),
    /** Customers per summary part (config `partCustomers`). @default DEFAULT_PART_CUSTOMERS */
    partCustomers: z.number().int().min(1).optional(),
  })
  .refine((p) => p.calibrationEnd === undefined || p.calibrationEnd <= p.asOf, {
    message: 'calibrationEnd must not be after asOf',
    path: ['calibrationEnd'],
  })
  .refine(
    (p) =>
      p.period !== 'campaign' ||
      p.campaigns?.every((day, i) => i === 0 || day > p.campaigns![i - 1]!) === true,
    { message: 'period campaign needs campaigns: increasing start dates', path: ['campaigns'] },
  )
  .refine((p) => p.subscriptions !== true || p.family === 'contractual', {
    message: 'subscriptions are read by the contractual family only',
    path: ['subscriptions'],
  });

export type WarehouseParamsInput = z.input<typeof warehouseParamsSchema>;
export type WarehouseParams = z.output<typeof warehouseParamsSchema>;

/** Validates parameters; the error names the field (these values are interpolated into SQL). */
export function parseWarehouseParams(input: WarehouseParamsInput): WarehouseParams {
  const parsed = warehouseParamsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
    throw new Error(`Invalid warehouse parameters: ${problems.join('; ')}`);
  }
  return parsed.data;
}

const dateLiteral = (isoDay: string) => `DATE '${isoDay}'`;

/** Standard SQL string literal (quote doubled), valid in Trino and DuckDB alike. */
export const stringLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** `WHERE source IN (...)`, sorted so the text does not depend on listing order. */
function sourceFilter(sources: readonly string[] | undefined): string {
  if (!sources) return '';
  const unique = [...new Set(sources)].sort();
  return `\n  WHERE source IN (${unique.map(stringLiteral).join(', ')})`;
}

/** Days → the time unit, with exactly the arithmetic of rfm-summary.ts (`days * (1 / 7)` for weeks). */
function inTimeUnit(daysExpression: string, unit: WarehouseTimeUnit): string {
  const days = `CAST(${daysExpression} AS DOUBLE)`;
  return unit === 'weeks' ? `${days} * (CAST(1 AS DOUBLE) / 7)` : days;
}

/** A rate as an exact DECIMAL literal (6 decimals), the same text in Trino and DuckDB. */
export const rateLiteral = (rate: number) => `CAST('${rate.toFixed(6)}' AS DECIMAL(18, 6))`;

/** The currencies a run reads: its own plus those with a fixed rate, sorted. */
export function runCurrencies(p: Pick<WarehouseParams, 'currency' | 'fxRates'>): string[] {
  return [...new Set([p.currency, ...Object.keys(p.fxRates ?? {})])].sort();
}

/** Rows in the run's currencies: `currency = 'EUR'`, or `currency IN (...)` with fixed rates. */
function currencyCondition(p: WarehouseParams): string {
  const currencies = runCurrencies(p);
  return currencies.length === 1
    ? `currency = '${p.currency}'`
    : `currency IN (${currencies.map(stringLiteral).join(', ')})`;
}

/** The amount in the run currency: unchanged, or multiplied by the currency's fixed rate. */
function convertedAmount(p: WarehouseParams): string {
  const converted = runCurrencies(p).filter((c) => c !== p.currency);
  if (converted.length === 0) return 'amount';
  const cases = converted
    .map((c) => `WHEN ${stringLiteral(c)} THEN ${rateLiteral(p.fxRates![c]!)}`)
    .join(' ');
  return `amount * CASE currency ${cases} ELSE ${rateLiteral(1)} END`;
}

/** The subscription's key within its source: its id, else customer and start day. */
const SUBSCRIPTION_KEY = `COALESCE(subscription_id, customer_id || '|' || CAST(CAST(started_at AS DATE) AS VARCHAR))`;

/**
 * What the statements read as transactions: the clean transactions of the sources, or (contractual
 * runs over subscriptions exports) one row per subscription shaped like a transaction: the
 * subscription key as order id, its start as order time, its fee per period (0 when none) as amount.
 * Source profile, data profile, currency and as-of rules then apply to subscriptions unchanged.
 */
function transactionsSource(p: {
  sources?: readonly string[] | undefined;
  subscriptions?: boolean | undefined;
}) {
  if (p.subscriptions !== true) return `${TRANSACTIONS_RELATION}${sourceFilter(p.sources)}`;
  return `(
    SELECT
      source,
      ${SUBSCRIPTION_KEY} AS order_id,
      customer_id,
      started_at AS order_ts,
      COALESCE(fee, CAST(0 AS DECIMAL(18, 2))) AS amount,
      currency,
      ingested_at,
      ingest_id
    FROM ${SUBSCRIPTIONS_RELATION}${sourceFilter(p.sources)}
  ) subscription_rows`;
}

/** A row the run uses (before the cross-source duplicate rule): latest ingest, run currencies, up to as-of. */
function usedRow(p: WarehouseParams): string {
  // Campaign periods: rows before the first campaign belong to no period and are left out, as in
  // the engine's summarizeDiscrete.
  const firstCampaign =
    p.period === 'campaign' && p.campaigns ? ` AND order_day >= ${dateLiteral(p.campaigns[0]!)}` : '';
  return `ingest_rank = 1 AND ${currencyCondition(p)} AND order_day <= ${dateLiteral(p.asOf)}${firstCampaign}`;
}

/**
 * The `ranked` CTE. With `sourceRank`, each latest-ingest row also gets its rank among identical
 * (customer, order time, amount, currency) rows by source name: rank > 1 is a copy of a row of an
 * earlier source. Computed only when needed (the profile counts them; `collapse` drops them), so the
 * other statements keep their single window.
 */
function rankedCte(p: WarehouseParams, sourceRank: boolean, extra: readonly string[] = []): string {
  const amount = convertedAmount(p);
  // Further columns carried through (the economics statements'); none for every other statement, whose
  // text is then exactly what it was.
  const extraColumns = extra.map((column) => `\n    ${column},`).join('');
  const extraNames = extra.map((column) => `\n    ${columnAlias(column)},`).join('');
  const ingestRank =
    'dense_rank() OVER (PARTITION BY source, order_id ORDER BY ingested_at DESC, ingest_id DESC) AS ingest_rank';
  if (!sourceRank) {
    return `ranked AS (
  SELECT
    source,
    order_id,
    customer_id,
    ${amount === 'amount' ? 'amount' : `${amount} AS amount`},
    currency,${extraColumns}
    CAST(order_ts AS DATE) AS order_day,
    ${ingestRank}
  FROM ${transactionsSource(p)}
)`;
  }
  return `ranked AS (
  SELECT
    source,
    order_id,
    customer_id,
    amount,
    currency,${extraNames}
    order_day,
    ingest_rank,
    dense_rank() OVER (PARTITION BY customer_id, order_ts, raw_amount, currency,
      CASE WHEN ingest_rank = 1 THEN 1 ELSE 0 END ORDER BY source) AS source_rank
  FROM (
    SELECT
      source,
      order_id,
      customer_id,
      amount AS raw_amount,
      ${amount === 'amount' ? 'amount' : `${amount} AS amount`},
      currency,${extra.map((column) => `\n      ${column},`).join('')}
      order_ts,
      CAST(order_ts AS DATE) AS order_day,
      ${ingestRank}
    FROM ${transactionsSource(p)}
  ) ingest_ranked
)`;
}

/** The name a select-list item is known by: its alias (`x AS name`), else itself. */
function columnAlias(column: string): string {
  const as = / AS ([a-z_]+)$/.exec(column);
  return as ? as[1]! : column;
}

/**
 * `ranked` and `used` as every statement has them (same ingest, currency, as-of and cross-source
 * rules), with further columns of the transactions carried through, each converted to the run
 * currency like the amount when `money`. For statements outside this module (the economics sums).
 */
export function usedRowsCtes(
  input: WarehouseParamsInput,
  columns: readonly { name: string; money: boolean }[],
): { ctes: string; params: WarehouseParams } {
  const p = parseWarehouseParams(input);
  const collapse = p.crossSourceDuplicates === 'collapse';
  const converted = convertedAmount(p);
  const extra = columns.map(({ name, money }) =>
    money && converted !== 'amount' ? `${converted.replace(/^amount/, name)} AS ${name}` : name,
  );
  const ctes = `WITH
${rankedCte(p, collapse, extra)},
used AS (
  SELECT source, order_id, customer_id, amount, order_day, ${columns.map((c) => c.name).join(', ')}
  FROM ranked
  WHERE ${usedRow(p)}${collapse ? ' AND source_rank = 1' : ''}
)`;
  return { ctes, params: p };
}

/**
 * The CTEs every statement starts from. They are written so that Trino, which inlines CTEs, scans the
 * transactions once per statement: first purchase day and revenue are window aggregates rather
 * than self-joins.
 * - `ranked`: each row with its UTC day and its ingest rank within its (source, order_id): an order's
 *   lines all come from the most recent ingest that contains it (ties on ingested_at are broken by
 *   ingest_id so the result is deterministic).
 * - `used`: de-duplicated rows in the run currency up to the as-of date.
 * - `customer_days`: net value per customer and day, with the customer's net revenue up to the
 *   period end (the calibration end when given, else the as-of date) and first purchase
 *   day: the first day with net value ≥ 0 (a zero-value order starts the relationship; a day of
 *   refunds only does not).
 * - `purchases`: the first purchase day and the later days with net value > 0 (repeat purchases).
 * - `summary`/`rfm`: the per-customer summary of customers whose first purchase is on or before the
 *   period end, with x, t_x, T, monetary value in the time unit, and holdout purchase days after it.
 */
function baseCtes(p: WarehouseParams, options: { sourceRank?: boolean; orders?: boolean } = {}): string {
  const periodEnd = dateLiteral(p.calibrationEnd ?? p.asOf);
  const collapse = p.crossSourceDuplicates === 'collapse';
  // With `orders`, each customer's distinct orders up to the period end ride along: a row is an
  // order's first (per customer, earliest day) or not, the days count the orders they start, and
  // `customer_days` sums the days up to the period end like the revenue. Only the summaries need it;
  // every other statement's text stays as it was.
  const orders = options.orders === true;
  const orderStart = orders
    ? `,
    CASE WHEN row_number() OVER (PARTITION BY customer_id, source, order_id ORDER BY order_day) = 1
      THEN 1 ELSE 0 END AS order_start`
    : '';
  return `WITH
${rankedCte(p, collapse || options.sourceRank === true)},
used AS (
  SELECT source, order_id, customer_id, amount, order_day${orderStart}
  FROM ranked
  WHERE ${usedRow(p)}${collapse ? ' AND source_rank = 1' : ''}
),
customer_days AS (
  SELECT
    customer_id,
    order_day,
    net,
    SUM(CASE WHEN order_day <= ${periodEnd} THEN net END) OVER (PARTITION BY customer_id) AS revenue,${
      orders
        ? `
    SUM(CASE WHEN order_day <= ${periodEnd} THEN orders_started ELSE 0 END) OVER (PARTITION BY customer_id)
      AS orders,`
        : ''
    }
    MIN(CASE WHEN net >= 0 THEN order_day END) OVER (PARTITION BY customer_id) AS first_day
  FROM (
    SELECT customer_id, order_day, SUM(amount) AS net${orders ? ', SUM(order_start) AS orders_started' : ''}
    FROM used
    GROUP BY customer_id, order_day
  ) day_totals
),
purchases AS (
  SELECT customer_id, order_day, net, revenue, first_day${orders ? ', orders' : ''}
  FROM customer_days
  WHERE order_day = first_day OR (order_day > first_day AND net > 0)
),
summary AS (
  SELECT
    customer_id,
    first_day,
    MAX(revenue) AS revenue,${orders ? '\n    MAX(orders) AS orders,' : ''}
    SUM(CASE WHEN order_day > first_day AND order_day <= ${periodEnd} THEN 1 ELSE 0 END) AS x,
    MAX(CASE WHEN order_day <= ${periodEnd} THEN order_day END) AS last_day,
    SUM(CASE WHEN order_day > first_day AND order_day <= ${periodEnd} THEN net END) AS repeat_value,
    SUM(CASE WHEN order_day > ${periodEnd} THEN 1 ELSE 0 END) AS holdout_x
  FROM purchases
  WHERE first_day <= ${periodEnd}
  GROUP BY customer_id, first_day
),
rfm AS (
  SELECT
    customer_id,
    CAST(x AS BIGINT) AS frequency,
    ${inTimeUnit(`date_diff('day', first_day, last_day)`, p.timeUnit)} AS recency,
    ${inTimeUnit(`date_diff('day', first_day, ${periodEnd})`, p.timeUnit)} AS t,
    CASE WHEN x > 0 THEN CAST(repeat_value AS DOUBLE) / x ELSE CAST(0 AS DOUBLE) END AS monetary_value,
    CAST(holdout_x AS BIGINT) AS holdout_frequency,
    first_day,
    last_day,
    revenue${orders ? ',\n    orders' : ''}
  FROM summary
)`;
}

/**
 * Wraps a WITH query as `SELECT * FROM (...) result`. Trino's grammar does not accept a query that
 * starts with WITH inside parentheses everywhere (e.g. `CREATE VIEW v AS (WITH ...)` fails with
 * "mismatched input 'WITH'"), so the text UNLOAD and COPY enclose is always a plain SELECT, and a
 * subquery in FROM may start with WITH in both engines.
 */
function asSingleSelect(query: string): string {
  return `SELECT * FROM (\n${query}\n) result`;
}

function requireCalibrationEnd(p: WarehouseParams, statement: string): string {
  if (p.calibrationEnd === undefined) {
    throw new Error(`Statement '${statement}' needs a calibrationEnd (the holdout period starts after it)`);
  }
  return p.calibrationEnd;
}

// ---------------------------------------------------------------------------------------------
// Statements

/**
 * One row per summarized customer (large: unload it), with historic revenue/orders and RFM scores.
 * Historic revenue is the net value of every row up to the period end (refunds included); historic
 * orders count the distinct (source, order_id) with a row up to the period end.
 */
export function customerSummariesStatement(input: WarehouseParamsInput): Statement<CustomerSummaryRow> {
  const p = parseWarehouseParams(input);
  const parts = summaryPartsOf(p);
  // Distinct orders are counted on the way through `customer_days` (baseCtes' `orders`), so the
  // clean data is scanned once.
  const sql = `${baseCtes(p, { orders: true })},
${rankedSummary('rfm', parts)}`;
  const name = p.calibrationEnd === undefined ? 'customer-summaries' : 'calibration-customer-summaries';
  return {
    name,
    sql: asSingleSelect(sql),
    decode: decoder(name, (c) => ({
      customerId: c.string('customer_id'),
      frequency: c.integer('frequency'),
      recency: c.number('recency'),
      T: c.number('t'),
      monetaryValue: c.number('monetary_value'),
      firstPurchaseDate: c.string('first_purchase_date'),
      lastPurchaseDate: c.string('last_purchase_date'),
      historicRevenue: c.number('historic_revenue'),
      historicOrders: c.integer('historic_orders'),
      recencyScore: c.integer('recency_score'),
      frequencyScore: c.integer('frequency_score'),
      monetaryScore: c.integer('monetary_score'),
    })),
    compare: (a, b) => compareStrings(a.customerId, b.customerId),
    ...(parts === undefined ? {} : { parts }),
  };
}

/**
 * The part count of a run's summaries, from the customer count the run's data profile gave
 * (`customers`); undefined when no count is given (the output is then not split by the pipeline).
 */
function summaryPartsOf(p: WarehouseParams): number | undefined {
  return p.customers === undefined ? undefined : summaryPartCount(p.customers, p.partCustomers);
}

/**
 * What UNLOAD (Athena) or COPY (DuckDB) encloses for a statement, and the column its output is
 * partitioned by. A statement with `parts` gets its customers' bucket as a last column `part`
 * (UNLOAD wants partition columns last), so each bucket is its own folder `part=<n>/` and no customer
 * is in two folders.
 */
export function unloadSelect(statement: Pick<Statement<unknown>, 'sql' | 'parts' | 'partitionedBy'>): {
  sql: string;
  partitionedBy?: string;
} {
  if (statement.parts !== undefined) {
    return {
      sql: `SELECT unloaded.*, ${customerBucketSql('unloaded.customer_id', statement.parts)} AS ${SUMMARY_PART_COLUMN}
FROM (
${statement.sql}
) unloaded`,
      partitionedBy: SUMMARY_PART_COLUMN,
    };
  }
  return statement.partitionedBy === undefined
    ? { sql: statement.sql }
    : { sql: statement.sql, partitionedBy: statement.partitionedBy };
}

/** The partition column of the unloaded summaries (folder names `part=<bucket>/`). */
export const SUMMARY_PART_COLUMN = 'part';

/** Compressed (x, t_x, T) of the period (calibration period when calibrationEnd is given). */
export function histogramStatement(input: WarehouseParamsInput): Statement<HistogramRow> {
  const p = parseWarehouseParams(input);
  const sql = `${baseCtes(p)}
SELECT
  CAST(frequency AS BIGINT) AS frequency,
  CAST(recency AS DOUBLE) AS recency,
  CAST(t AS DOUBLE) AS t,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM rfm
GROUP BY frequency, recency, t`;
  const name = p.calibrationEnd === undefined ? 'histogram' : 'calibration-histogram';
  return {
    name,
    sql: asSingleSelect(sql),
    decode: decoder(name, (c) => ({
      frequency: c.integer('frequency'),
      recency: c.number('recency'),
      T: c.number('t'),
      customers: c.integer('customers'),
    })),
    compare: compareRfm,
  };
}

/** Calibration (x, t_x, T) with the holdout repeat purchase days, compressed. Needs calibrationEnd. */
export function holdoutStatement(input: WarehouseParamsInput): Statement<HoldoutRow> {
  const p = parseWarehouseParams(input);
  requireCalibrationEnd(p, 'holdout');
  const sql = `${baseCtes(p)}
SELECT
  CAST(frequency AS BIGINT) AS frequency,
  CAST(recency AS DOUBLE) AS recency,
  CAST(t AS DOUBLE) AS t,
  CAST(holdout_frequency AS BIGINT) AS holdout_frequency,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM rfm
GROUP BY frequency, recency, t, holdout_frequency`;
  return {
    name: 'holdout',
    sql: asSingleSelect(sql),
    decode: decoder('holdout', (c) => ({
      frequency: c.integer('frequency'),
      recency: c.number('recency'),
      T: c.number('t'),
      holdoutFrequency: c.integer('holdout_frequency'),
      customers: c.integer('customers'),
    })),
    compare: (a, b) => compareRfm(a, b) || a.holdoutFrequency - b.holdoutFrequency,
  };
}

/** Gamma-Gamma input of the period: (x, mean repeat value) of customers with x > 0, compressed. */
export function spendStatement(input: WarehouseParamsInput): Statement<SpendRow> {
  const p = parseWarehouseParams(input);
  const sql = `${baseCtes(p)}
SELECT
  CAST(frequency AS BIGINT) AS frequency,
  CAST(monetary_value AS DOUBLE) AS monetary_value,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM rfm
WHERE frequency > 0
GROUP BY frequency, monetary_value`;
  const name = p.calibrationEnd === undefined ? 'spend' : 'calibration-spend';
  return {
    name,
    sql: asSingleSelect(sql),
    decode: decoder(name, (c) => ({
      frequency: c.integer('frequency'),
      monetaryValue: c.number('monetary_value'),
      customers: c.integer('customers'),
    })),
    compare: (a, b) => a.frequency - b.frequency || a.monetaryValue - b.monetaryValue,
  };
}

/** Weekly repeat purchase days of the calibration customers, calibration and holdout. Needs calibrationEnd. */
export function trackingStatement(input: WarehouseParamsInput): Statement<TrackingRow> {
  const p = parseWarehouseParams(input);
  const calibrationEnd = requireCalibrationEnd(p, 'tracking');
  const calibrationEndDay = parseEpochDay(calibrationEnd);
  const sql = `${baseCtes(p)},
repeat_days AS (
  SELECT CAST(ceil(CAST(date_diff('day', ${dateLiteral(calibrationEnd)}, order_day) AS DOUBLE) / 7) AS BIGINT) AS week
  FROM purchases
  WHERE first_day <= ${dateLiteral(calibrationEnd)} AND order_day > first_day
)
SELECT
  CAST(week AS BIGINT) AS week,
  CAST(COUNT(*) AS BIGINT) AS repeat_purchases
FROM repeat_days
GROUP BY week`;
  return {
    name: 'tracking',
    sql: asSingleSelect(sql),
    decode: decoder('tracking', (c) => {
      const week = c.integer('week');
      return {
        week,
        // Week w covers (calibrationEnd + 7(w − 1), calibrationEnd + 7w]; its first day is one later.
        weekStart: formatEpochDay(calibrationEndDay + 7 * (week - 1) + 1),
        repeatPurchases: c.integer('repeat_purchases'),
        period: week <= 0 ? 'calibration' : 'holdout',
      };
    }),
    compare: (a, b) => a.week - b.week,
  };
}

/** Calibration customers grouped by first purchase day. Needs calibrationEnd. */
export function cohortsStatement(input: WarehouseParamsInput): Statement<CohortRow> {
  const p = parseWarehouseParams(input);
  const calibrationEnd = requireCalibrationEnd(p, 'cohorts');
  const sql = `${baseCtes(p)}
SELECT
  CAST(first_day AS VARCHAR) AS first_purchase_date,
  CAST(date_diff('day', first_day, ${dateLiteral(calibrationEnd)}) AS BIGINT) AS days_before_calibration_end,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM summary
GROUP BY first_day`;
  return {
    name: 'cohorts',
    sql: asSingleSelect(sql),
    decode: decoder('cohorts', (c) => ({
      firstPurchaseDate: c.string('first_purchase_date'),
      daysBeforeCalibrationEnd: c.integer('days_before_calibration_end'),
      customers: c.integer('customers'),
    })),
    compare: (a, b) => compareStrings(a.firstPurchaseDate, b.firstPurchaseDate),
  };
}

/**
 * Order rows that carry an economics figure of their own (the economics presence check, docs/economics.md;
 * the same condition as `economicsPresenceStatement`, which a test compares with the profile's count).
 */
const ECONOMICS_FIGURES =
  '(cost IS NOT NULL OR margin_amount IS NOT NULL OR discount IS NOT NULL OR shipping_cost IS NOT NULL ' +
  'OR returned_amount IS NOT NULL OR returned IS NOT NULL)';

/** Every column of the run profile: the data profile, the input profile and the economics presence. */
const PROFILE_COLUMNS = {
  data: [
    'rows_total',
    'rows_superseded',
    'rows_other_currency',
    'rows_after_as_of',
    'rows_used',
    'customers_seen',
    'customers_summarized',
    'first_date',
    'last_date',
  ],
  input: [
    'amount_used',
    'orders_used',
    'one_time_buyers',
    'cross_source_duplicate_rows',
    'cross_source_duplicate_amount',
  ],
  economics: ['order_rows_with_figures', 'attribute_rows'],
} as const;
type ProfileColumn = (typeof PROFILE_COLUMNS)[keyof typeof PROFILE_COLUMNS][number];

/** The Parquet type of each profile column (both engines write what the SQL casts to). */
const PROFILE_TYPES: Record<ProfileColumn, 'BIGINT' | 'DOUBLE' | 'VARCHAR'> = {
  rows_total: 'BIGINT',
  rows_superseded: 'BIGINT',
  rows_other_currency: 'BIGINT',
  rows_after_as_of: 'BIGINT',
  rows_used: 'BIGINT',
  customers_seen: 'BIGINT',
  customers_summarized: 'BIGINT',
  first_date: 'VARCHAR',
  last_date: 'VARCHAR',
  amount_used: 'DOUBLE',
  orders_used: 'BIGINT',
  one_time_buyers: 'BIGINT',
  cross_source_duplicate_rows: 'BIGINT',
  cross_source_duplicate_amount: 'DOUBLE',
  order_rows_with_figures: 'BIGINT',
  attribute_rows: 'BIGINT',
};

/**
 * The run profile in ONE scan of the clean transactions: row counts, customers, dates, amount,
 * orders, one-time buyers, cross-source duplicates and (with `economicsPresence`) the economics
 * presence, as conditional aggregates rolled up level by level — rows → customer days → customers →
 * one row. Trino inlines a CTE at every reference, so each CTE here is read exactly once: a profile
 * that joined `ranked` with a summary built from `ranked` would scan the table twice.
 * - Distinct orders (`source`, `order_id` among the used rows) cannot be rolled up from days, so the
 *   first used row of each order is flagged with a window over the partition the ingest rank already
 *   uses, and the flags are summed.
 * - A customer is summarized when their first day netting ≥ 0 (the first purchase day, as in
 *   `baseCtes`) is on or before the period end (the calibration end when given, else the as-of
 *   date); a one-time buyer has no later day netting > 0 up to the period end.
 * - The attributes count reads the other table (`customer_attributes`), not the transactions.
 */
function runProfileSql(p: WarehouseParams, columns: readonly ProfileColumn[]): string {
  // Subscriptions carry no order economics: a run over them counts no rows with figures.
  const economicsPresence = columns.includes('order_rows_with_figures') && p.subscriptions !== true;
  const candidate = usedRow(p);
  const used = `${candidate}${p.crossSourceDuplicates === 'collapse' ? ' AND source_rank = 1' : ''}`;
  const runCurrency = currencyCondition(p);
  const asOf = dateLiteral(p.asOf);
  const periodEnd = dateLiteral(p.calibrationEnd ?? p.asOf);
  const figures = economicsPresence
    ? [`CASE WHEN ${ECONOMICS_FIGURES} THEN 1 ELSE 0 END AS has_figures`]
    : [];
  // The totals of every column, one row even over no transactions (aggregates without GROUP BY);
  // the attributes count is its own one-row CTE, crossed with the totals at the end.
  const totals: Record<ProfileColumn, string> = {
    rows_total: 'COALESCE(SUM(rows_total), 0)',
    rows_superseded: 'COALESCE(SUM(rows_superseded), 0)',
    rows_other_currency: 'COALESCE(SUM(rows_other_currency), 0)',
    rows_after_as_of: 'COALESCE(SUM(rows_after_as_of), 0)',
    rows_used: 'COALESCE(SUM(rows_used), 0)',
    customers_seen: 'COALESCE(SUM(CASE WHEN rows_used > 0 THEN 1 ELSE 0 END), 0)',
    customers_summarized: `COALESCE(SUM(CASE WHEN first_day <= ${periodEnd} THEN 1 ELSE 0 END), 0)`,
    first_date: 'MIN(first_date)',
    last_date: 'MAX(last_date)',
    amount_used: 'COALESCE(SUM(amount_used), 0)',
    orders_used: 'COALESCE(SUM(orders_used), 0)',
    one_time_buyers: `COALESCE(SUM(CASE WHEN first_day <= ${periodEnd} AND repeat_days = 0 THEN 1 ELSE 0 END), 0)`,
    cross_source_duplicate_rows: 'COALESCE(SUM(duplicate_rows), 0)',
    cross_source_duplicate_amount: 'COALESCE(SUM(duplicate_amount), 0)',
    order_rows_with_figures: economicsPresence ? 'COALESCE(SUM(rows_with_figures), 0)' : '0',
    attribute_rows: '',
  };
  const aggregated = columns.filter((column) => column !== 'attribute_rows');
  const attributes = columns.includes('attribute_rows');
  const output = columns
    .map(
      (column) =>
        `  CAST(${attributes && column === 'attribute_rows' ? 'a' : 't'}.${column} AS ${PROFILE_TYPES[column]}) AS ${column}`,
    )
    .join(',\n');
  return `WITH
${rankedCte(p, true, figures)},
flagged AS (
  SELECT
    customer_id,
    order_day,
    amount,
    ingest_rank,
    is_used,
    is_duplicate,${economicsPresence ? '\n    has_figures,' : ''}
    CASE WHEN is_used = 1 AND row_number() OVER (PARTITION BY source, order_id, is_used ORDER BY order_day) = 1
      THEN 1 ELSE 0 END AS is_order_first,
    CASE WHEN ingest_rank = 1 AND NOT (${runCurrency}) THEN 1 ELSE 0 END AS is_other_currency,
    CASE WHEN ingest_rank = 1 AND ${runCurrency} AND order_day > ${asOf} THEN 1 ELSE 0 END AS is_after_as_of
  FROM (
    SELECT
      ranked.*,
      CASE WHEN ${used} THEN 1 ELSE 0 END AS is_used,
      CASE WHEN ${candidate} AND source_rank > 1 THEN 1 ELSE 0 END AS is_duplicate
    FROM ranked
  ) row_flags
),
day_totals AS (
  SELECT
    customer_id,
    order_day,
    COUNT(*) AS rows_total,
    SUM(CASE WHEN ingest_rank > 1 THEN 1 ELSE 0 END) AS rows_superseded,
    SUM(is_other_currency) AS rows_other_currency,
    SUM(is_after_as_of) AS rows_after_as_of,
    SUM(is_used) AS rows_used,
    SUM(CASE WHEN is_used = 1 THEN amount END) AS net,
    SUM(is_order_first) AS orders_used,
    SUM(is_duplicate) AS duplicate_rows,
    SUM(CASE WHEN is_duplicate = 1 THEN amount END) AS duplicate_amount${economicsPresence ? ',\n    SUM(has_figures) AS rows_with_figures' : ''}
  FROM flagged
  GROUP BY customer_id, order_day
),
customer_totals AS (
  SELECT
    customer_id,
    SUM(rows_total) AS rows_total,
    SUM(rows_superseded) AS rows_superseded,
    SUM(rows_other_currency) AS rows_other_currency,
    SUM(rows_after_as_of) AS rows_after_as_of,
    SUM(rows_used) AS rows_used,
    SUM(net) AS amount_used,
    SUM(orders_used) AS orders_used,
    SUM(duplicate_rows) AS duplicate_rows,
    SUM(duplicate_amount) AS duplicate_amount,${economicsPresence ? '\n    SUM(rows_with_figures) AS rows_with_figures,' : ''}
    MIN(CASE WHEN rows_used > 0 THEN order_day END) AS first_date,
    MAX(CASE WHEN rows_used > 0 THEN order_day END) AS last_date,
    MAX(first_day) AS first_day,
    SUM(CASE WHEN order_day > first_day AND order_day <= ${periodEnd} AND net > 0 THEN 1 ELSE 0 END) AS repeat_days
  FROM (
    SELECT
      day_totals.*,
      MIN(CASE WHEN net >= 0 THEN order_day END) OVER (PARTITION BY customer_id) AS first_day
    FROM day_totals
  ) customer_day_totals
  GROUP BY customer_id
),
profile_totals AS (
  SELECT
${aggregated.map((column) => `    ${totals[column]} AS ${column}`).join(',\n')}
  FROM customer_totals
)${
    attributes
      ? `,
attribute_counts AS (
  SELECT COUNT(*) AS attribute_rows
  FROM ${CUSTOMER_ATTRIBUTES_RELATION}${sourceFilter(p.sources)}
)`
      : ''
  }
SELECT
${output}
FROM profile_totals t${attributes ? '\nCROSS JOIN attribute_counts a' : ''}`;
}

/** Some columns of the run profile, as one plain SELECT (the whole profile is one scan either way). */
function profileStatementSql(p: WarehouseParams, columns: readonly ProfileColumn[]): string {
  return asSingleSelect(runProfileSql(p, columns));
}

const decodeDataProfile = (c: ColumnReader): DataProfileRow => ({
  rowsTotal: c.integer('rows_total'),
  rowsSuperseded: c.integer('rows_superseded'),
  rowsOtherCurrency: c.integer('rows_other_currency'),
  rowsAfterAsOf: c.integer('rows_after_as_of'),
  rowsUsed: c.integer('rows_used'),
  customersSeen: c.integer('customers_seen'),
  customersSummarized: c.integer('customers_summarized'),
  firstDate: c.nullableString('first_date'),
  lastDate: c.nullableString('last_date'),
});

const decodeInputProfile = (c: ColumnReader): InputProfileRow => ({
  amountUsed: c.number('amount_used'),
  ordersUsed: c.integer('orders_used'),
  oneTimeBuyers: c.integer('one_time_buyers'),
  crossSourceDuplicateRows: c.integer('cross_source_duplicate_rows'),
  crossSourceDuplicateAmount: c.number('cross_source_duplicate_amount'),
});

/** Row and customer counts of the run's input (one row). */
export function dataProfileStatement(input: WarehouseParamsInput): Statement<DataProfileRow> {
  const p = parseWarehouseParams(input);
  return {
    name: 'data-profile',
    sql: profileStatementSql(p, PROFILE_COLUMNS.data),
    decode: decoder('data-profile', decodeDataProfile),
  };
}

/**
 * What the run's data panel and exclusion report need beyond the profile (one row): the amount used,
 * the orders, the one-time buyers, and the cross-source duplicates — candidate rows (latest ingest,
 * run currencies, up to as-of) identical in customer, order time, amount and currency to a row of an
 * earlier source by name. Amounts are in the run currency.
 */
export function inputProfileStatement(input: WarehouseParamsInput): Statement<InputProfileRow> {
  const p = parseWarehouseParams(input);
  return {
    name: 'input-profile',
    sql: profileStatementSql(p, PROFILE_COLUMNS.input),
    decode: decoder('input-profile', decodeInputProfile),
  };
}

/**
 * Everything a run needs to know of its input before it renders the summaries, in one statement
 * and one scan: the data profile, the input profile and the economics presence (order rows with a
 * figure of their own among all rows of the sources, attributes rows of the sources).
 */
export function runProfileStatement(input: WarehouseParamsInput): Statement<RunProfileRow> {
  const p = parseWarehouseParams(input);
  return {
    name: 'run-profile',
    sql: profileStatementSql(p, [
      ...PROFILE_COLUMNS.data,
      ...PROFILE_COLUMNS.input,
      ...PROFILE_COLUMNS.economics,
    ]),
    decode: decoder('run-profile', (c) => ({
      ...decodeDataProfile(c),
      ...decodeInputProfile(c),
      orderRowsWithFigures: c.integer('order_rows_with_figures'),
      attributeRows: c.integer('attribute_rows'),
    })),
  };
}

export const sourceProfileParamsSchema = z.object({
  /** Rows dated after this day are counted apart (the run's as-of date, or yesterday by default). */
  asOf: isoDate,
  sources: sourcesSchema.optional(),
  /** Profile the subscriptions exports (one row per subscription) instead of the transactions. */
  subscriptions: z.boolean().optional(),
});
export type SourceProfileParams = z.input<typeof sourceProfileParamsSchema>;

/**
 * What each source holds per currency, before a run decides what to read: rows of the latest
 * ingest and their amount (as exported, not converted), superseded rows, rows after `asOf`, customers,
 * first date and last date on or before `asOf`. The data selection (sample or own data, run currency,
 * default as-of) is decided from these rows, and everything a run leaves out is reported from them.
 */
export function sourceProfileStatement(input: SourceProfileParams): Statement<SourceProfileRow> {
  const parsed = sourceProfileParamsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
    throw new Error(`Invalid warehouse parameters: ${problems.join('; ')}`);
  }
  const p = parsed.data;
  const asOf = dateLiteral(p.asOf);
  const sql = `WITH
ranked AS (
  SELECT
    source,
    customer_id,
    amount,
    currency,
    CAST(order_ts AS DATE) AS order_day,
    dense_rank() OVER (PARTITION BY source, order_id ORDER BY ingested_at DESC, ingest_id DESC) AS ingest_rank
  FROM ${transactionsSource(p)}
)
SELECT
  CAST(source AS VARCHAR) AS source,
  CAST(currency AS VARCHAR) AS currency,
  CAST(SUM(CASE WHEN ingest_rank = 1 THEN 1 ELSE 0 END) AS BIGINT) AS row_count,
  CAST(COALESCE(SUM(CASE WHEN ingest_rank = 1 THEN amount END), 0) AS DOUBLE) AS amount,
  CAST(SUM(CASE WHEN ingest_rank > 1 THEN 1 ELSE 0 END) AS BIGINT) AS rows_superseded,
  CAST(COALESCE(SUM(CASE WHEN ingest_rank > 1 THEN amount END), 0) AS DOUBLE) AS amount_superseded,
  CAST(SUM(CASE WHEN ingest_rank = 1 AND order_day > ${asOf} THEN 1 ELSE 0 END) AS BIGINT) AS rows_after_as_of,
  CAST(COALESCE(SUM(CASE WHEN ingest_rank = 1 AND order_day > ${asOf} THEN amount END), 0) AS DOUBLE)
    AS amount_after_as_of,
  CAST(COUNT(DISTINCT CASE WHEN ingest_rank = 1 THEN customer_id END) AS BIGINT) AS customers,
  CAST(MIN(CASE WHEN ingest_rank = 1 THEN order_day END) AS VARCHAR) AS first_date,
  CAST(MAX(CASE WHEN ingest_rank = 1 AND order_day <= ${asOf} THEN order_day END) AS VARCHAR) AS last_date
FROM ranked
GROUP BY source, currency`;
  return {
    name: 'source-profile',
    sql: asSingleSelect(sql),
    decode: decoder('source-profile', (c) => ({
      source: c.string('source'),
      currency: c.string('currency'),
      rows: c.integer('row_count'),
      amount: c.number('amount'),
      rowsSuperseded: c.integer('rows_superseded'),
      amountSuperseded: c.number('amount_superseded'),
      rowsAfterAsOf: c.integer('rows_after_as_of'),
      amountAfterAsOf: c.number('amount_after_as_of'),
      customers: c.integer('customers'),
      firstDate: c.nullableString('first_date'),
      lastDate: c.nullableString('last_date'),
    })),
    compare: (a, b) => compareStrings(a.source, b.source) || compareStrings(a.currency, b.currency),
  };
}

/**
 * The bucket (0 … parts − 1) of a customer id, the same number in Trino and DuckDB: the first 60 bits
 * of the id's SHA-256 (15 hex digits, so the value is a non-negative BIGINT) modulo `parts`. Trino
 * has every function named here; DuckDB lacks `to_utf8` and `from_base` and its `sha256` already
 * returns hex text, so the DuckDB adapter defines those three names as macros (shared/adapters/
 * duckdb.ts) and the text stays the same in both engines.
 */
export function customerBucketSql(column: string, parts: number): string {
  if (!Number.isSafeInteger(parts) || parts < 1)
    throw new RangeError(`parts must be a positive integer, got ${parts}`);
  return `CAST(mod(from_base(substr(to_hex(sha256(to_utf8(${column}))), 1, 15), 16), ${parts}) AS BIGINT)`;
}

/** The three RFM dimensions: the value ranked, and a coarse key that never decreases with it. */
const RFM_DIMENSIONS = [
  // Recency ranks the last purchase day, frequency the repeat purchases: few distinct values (days
  // of the history, purchase counts), so their (value, salt) leads are ranked directly.
  { prefix: 'r', value: 'last_day' },
  { prefix: 'f', value: 'frequency' },
  // Monetary ranks the revenue (exact DECIMAL): up to one distinct value per customer, so its leads
  // are ranked within a key first: ≈ 0.5 % wide logarithmic ranges of the value (≈ 8,000 keys up to
  // ±1e9), monotone in the value and symmetric around 0 (negative revenue after refunds sorts below).
  {
    prefix: 'm',
    value: 'revenue',
    key: 'CAST(sign(CAST(revenue AS DOUBLE)) * floor(ln(1 + abs(CAST(revenue AS DOUBLE))) * 200) AS BIGINT)',
  },
] as const;

/**
 * The end of every customer-summary statement: RFM scores and the output columns, from a CTE
 * `source` with customer_id, frequency, recency, t, monetary_value, first_day, last_day, revenue,
 * orders. One text for the continuous and the period families.
 *
 * A customer's rank in a dimension is 1 + the customers with a strictly smaller value (SQL `rank()`),
 * its score 1 + floor(5 · (rank − 1) / customers) — `rfmScoresOf` in shared/domain/rfm-scores.ts. No
 * window runs over all customers (on Trino such a window runs on one node), and `source` is read
 * once (Trino evaluates a CTE per reference, so a join back to a distribution would scan the clean
 * data twice). Instead, every window is partitioned by something small:
 * 1. (value, salt): customers with the same value and the same salt (the part bucket, so at most one
 *    part's customers) are counted, and one of them is that group's lead;
 * 2. the leads, in value order (recency, frequency: distinct values × parts rows), or the leads of one
 *    key (monetary): customers with a smaller value, the total, and each key's head (its first lead).
 *    Rows that are not leads sit alone in their partition;
 * 3. monetary only: the heads of all keys (one row per key), in key order: customers with a smaller
 *    key; 4. back to the key's leads;
 * 5. back to every customer of the (value, salt) group.
 */
function rankedSummary(source: string, parts: number | undefined): string {
  const salt =
    parts !== undefined && parts > 1 ? customerBucketSql('customer_id', parts) : 'CAST(0 AS BIGINT)';
  type Dimension = (typeof RFM_DIMENSIONS)[number];
  const keyed = (d: Dimension): d is Extract<Dimension, { key: string }> => 'key' in d;
  const columns = (build: (d: Dimension) => string[]) => RFM_DIMENSIONS.flatMap(build).join(',\n    ');
  // A partition in which each lead (or head) is grouped with the others (of its key) and every other
  // row sits alone.
  const alone = (flag: string) => `CASE WHEN ${flag} = 1 THEN '' ELSE customer_id END`;
  const leadsOf = (d: Dimension) =>
    `${d.prefix}_lead, ${keyed(d) ? `${d.prefix}_key, ` : ''}${alone(`${d.prefix}_lead`)}`;
  return `rank_input AS (
  SELECT
    customer_id, frequency, recency, t, monetary_value, first_day, last_day, revenue, orders,
    ${salt} AS salt,
    ${RFM_DIMENSIONS.filter(keyed)
      .map((d) => `${d.key} AS ${d.prefix}_key`)
      .join(',\n    ')}
  FROM ${source}
),
rank_groups AS (
  SELECT
    rank_input.*,
    ${columns((d) => [
      `COUNT(*) OVER (PARTITION BY ${d.value}, salt) AS ${d.prefix}_n`,
      `CASE WHEN row_number() OVER (PARTITION BY ${d.value}, salt ORDER BY customer_id) = 1 THEN 1 ELSE 0 END AS ${d.prefix}_lead`,
    ])}
  FROM rank_input
),
rank_keys AS (
  SELECT
    rank_groups.*,
    ${columns((d) => {
      const leads = leadsOf(d);
      const below = `SUM(${d.prefix}_n) OVER (PARTITION BY ${leads} ORDER BY ${d.value})
      - SUM(${d.prefix}_n) OVER (PARTITION BY ${leads}, ${d.value})`;
      const total = `SUM(${d.prefix}_n) OVER (PARTITION BY ${leads})`;
      if (!keyed(d)) return [`${below} AS ${d.prefix}_below`, `${total} AS ${d.prefix}_all`];
      return [
        `${below} AS ${d.prefix}_below_in_key`,
        `${total} AS ${d.prefix}_key_n`,
        `CASE WHEN ${d.prefix}_lead = 1 AND row_number() OVER (PARTITION BY ${leads} ORDER BY ${d.value}, salt) = 1
      THEN 1 ELSE 0 END AS ${d.prefix}_head`,
      ];
    })}
  FROM rank_groups
),
rank_heads AS (
  SELECT
    rank_keys.*,
    ${RFM_DIMENSIONS.filter(keyed)
      .flatMap((d) => {
        const heads = `${d.prefix}_head, ${alone(`${d.prefix}_head`)}`;
        return [
          `SUM(${d.prefix}_key_n) OVER (PARTITION BY ${heads} ORDER BY ${d.prefix}_key) - ${d.prefix}_key_n AS ${d.prefix}_below_key`,
          `SUM(${d.prefix}_key_n) OVER (PARTITION BY ${heads}) AS ${d.prefix}_total`,
        ];
      })
      .join(',\n    ')}
  FROM rank_keys
),
rank_leads AS (
  SELECT
    rank_heads.*,
    ${RFM_DIMENSIONS.filter(keyed)
      .flatMap((d) => [
        `${d.prefix}_below_in_key + MAX(CASE WHEN ${d.prefix}_head = 1 THEN ${d.prefix}_below_key END) OVER (PARTITION BY ${leadsOf(d)})
      AS ${d.prefix}_below`,
        `MAX(CASE WHEN ${d.prefix}_head = 1 THEN ${d.prefix}_total END) OVER (PARTITION BY ${leadsOf(d)}) AS ${d.prefix}_all`,
      ])
      .join(',\n    ')}
  FROM rank_heads
),
ranks AS (
  SELECT
    rank_leads.*,
    ${columns((d) => [
      `1 + MAX(CASE WHEN ${d.prefix}_lead = 1 THEN ${d.prefix}_below END) OVER (PARTITION BY ${d.value}, salt) AS ${d.prefix}_rank`,
      `MAX(CASE WHEN ${d.prefix}_lead = 1 THEN ${d.prefix}_all END) OVER (PARTITION BY ${d.value}, salt) AS ${d.prefix}_customers`,
    ])}
  FROM rank_leads
)
SELECT
  CAST(customer_id AS VARCHAR) AS customer_id,
  CAST(frequency AS BIGINT) AS frequency,
  CAST(recency AS DOUBLE) AS recency,
  CAST(t AS DOUBLE) AS t,
  CAST(monetary_value AS DOUBLE) AS monetary_value,
  CAST(first_day AS VARCHAR) AS first_purchase_date,
  CAST(last_day AS VARCHAR) AS last_purchase_date,
  CAST(revenue AS DOUBLE) AS historic_revenue,
  CAST(orders AS BIGINT) AS historic_orders,
  CAST(1 + floor(5 * CAST(r_rank - 1 AS DOUBLE) / r_customers) AS BIGINT) AS recency_score,
  CAST(1 + floor(5 * CAST(f_rank - 1 AS DOUBLE) / f_customers) AS BIGINT) AS frequency_score,
  CAST(1 + floor(5 * CAST(m_rank - 1 AS DOUBLE) / m_customers) AS BIGINT) AS monetary_score
FROM ranks`;
}

/** Every statement of a recalculation run, by name (the `prepare` step hands these to Athena tasks). */
export function recalcStatements(input: WarehouseParamsInput) {
  const p = parseWarehouseParams(input);
  const full = { ...p, calibrationEnd: undefined };
  if (p.family !== undefined && p.family !== 'noncontractual-continuous') {
    // Discrete and contractual summaries have no holdout statements (no calibration split by period).
    return { dataProfile: dataProfileStatement(full), ...familyStatements(full) };
  }
  return {
    dataProfile: dataProfileStatement(full),
    customerSummaries: customerSummariesStatement(full),
    histogram: histogramStatement(full),
    spend: spendStatement(full),
    ...(p.calibrationEnd === undefined
      ? {}
      : {
          calibrationHistogram: histogramStatement(p),
          holdout: holdoutStatement(p),
          tracking: trackingStatement(p),
          cohorts: cohortsStatement(p),
        }),
  };
}

// ---------------------------------------------------------------------------------------------
// Discrete (BG/BB) and contractual (sBG) families

/**
 * Period index of a day column: the calendar year, year × 12 + month − 1 (both engines: year(),
 * month()), or the number of campaign starts on or before the day (0 before the first campaign,
 * whose rows `usedRow` leaves out).
 */
function periodIndexSql(dayColumn: string, period: FamilyPeriod, campaigns?: readonly string[]): string {
  if (period === 'campaign') {
    const starts = (campaigns ?? []).map(
      (day) => `CASE WHEN ${dayColumn} >= ${dateLiteral(day)} THEN 1 ELSE 0 END`,
    );
    return `CAST(${starts.join(' + ')} AS BIGINT)`;
  }
  return period === 'year'
    ? `CAST(year(${dayColumn}) AS BIGINT)`
    : `CAST(year(${dayColumn}) * 12 + month(${dayColumn}) - 1 AS BIGINT)`;
}

/** The period index of an ISO day, as {@link periodIndexSql} computes it. */
export function periodIndexOf(isoDay: string, period: FamilyPeriod, campaigns?: readonly string[]): number {
  if (period === 'campaign') return (campaigns ?? []).filter((start) => start <= isoDay).length;
  const year = Number(isoDay.slice(0, 4));
  return period === 'year' ? year : year * 12 + Number(isoDay.slice(5, 7)) - 1;
}

/**
 * `baseCtes` (same de-duplication, currency and as-of rules) followed by the per-customer summary of
 * the family in `family_summary` (customer_id, frequency, recency, t, monetary_value, first_day,
 * last_day, revenue). Periods are those of `summarizeDiscrete` (shared/domain/discrete-summary.ts):
 * a customer's first period is the first with net value ≥ 0 (the cohort period, not an
 * opportunity); every later period up to the one containing the as-of date is an opportunity.
 * - noncontractual-discrete (BG/BB): x = later periods with net value > 0, t_x = the last such
 *   period's number (0 when none), n = opportunities observed; monetary value = mean net value of
 *   those periods.
 * - contractual (sBG): renewals = later periods paid without a gap since the first (a missed period
 *   is the cancellation), opportunities = n; frequency = recency = renewals, t = n; monetary value =
 *   mean payment per paid period.
 */
function familyCtes(p: WarehouseParams): string {
  if (p.subscriptions === true) return subscriptionCtes(p);
  const period = p.period ?? 'year';
  const lastPeriod = periodIndexOf(p.asOf, period, p.campaigns);
  const common = `${baseCtes({ ...p, calibrationEnd: undefined })},
period_totals AS (
  SELECT
    customer_id,
    ${periodIndexSql('order_day', period, p.campaigns)} AS period_index,
    SUM(amount) AS net,
    MAX(order_day) AS last_day
  FROM used
  GROUP BY customer_id, ${periodIndexSql('order_day', period, p.campaigns)}
),
first_periods AS (
  SELECT customer_id, MIN(period_index) AS first_period
  FROM period_totals
  WHERE net >= 0
  GROUP BY customer_id
),
customer_periods AS (
  SELECT pt.customer_id, pt.period_index, pt.net, pt.last_day, fp.first_period
  FROM period_totals pt
  JOIN first_periods fp ON fp.customer_id = pt.customer_id
)`;
  if (p.family === 'contractual') {
    return `${common},
paid_periods AS (
  SELECT
    customer_id,
    period_index,
    net,
    first_period,
    row_number() OVER (PARTITION BY customer_id ORDER BY period_index) AS paid_number
  FROM customer_periods
  WHERE period_index = first_period OR (period_index > first_period AND net > 0)
),
renewal_counts AS (
  SELECT
    customer_id,
    first_period,
    SUM(CASE WHEN period_index - first_period = paid_number - 1 THEN 1 ELSE 0 END) - 1 AS renewals,
    SUM(CASE WHEN net > 0 THEN net ELSE 0 END) AS paid_value,
    SUM(CASE WHEN net > 0 THEN 1 ELSE 0 END) AS paid_count
  FROM paid_periods
  GROUP BY customer_id, first_period
),
family_summary AS (
  SELECT
    c.customer_id,
    c.renewals AS frequency,
    CAST(c.renewals AS DOUBLE) AS recency,
    CAST(${lastPeriod} - c.first_period AS DOUBLE) AS t,
    CASE WHEN c.paid_count > 0 THEN CAST(c.paid_value AS DOUBLE) / c.paid_count ELSE CAST(0 AS DOUBLE) END
      AS monetary_value,
    d.first_day,
    d.last_day,
    d.revenue
  FROM renewal_counts c
  JOIN (
    SELECT customer_id, MIN(order_day) AS first_day, MAX(order_day) AS last_day, SUM(amount) AS revenue
    FROM used
    GROUP BY customer_id
  ) d ON d.customer_id = c.customer_id
)`;
  }
  return `${common},
discrete AS (
  SELECT
    customer_id,
    first_period,
    SUM(CASE WHEN period_index > first_period AND net > 0 THEN 1 ELSE 0 END) AS x,
    MAX(CASE WHEN period_index > first_period AND net > 0 THEN period_index - first_period ELSE 0 END) AS tx,
    SUM(CASE WHEN period_index > first_period AND net > 0 THEN net ELSE 0 END) AS repeat_value,
    SUM(net) AS revenue,
    MAX(last_day) AS last_day
  FROM customer_periods
  GROUP BY customer_id, first_period
),
family_summary AS (
  SELECT
    d.customer_id,
    d.x AS frequency,
    CAST(d.tx AS DOUBLE) AS recency,
    CAST(${lastPeriod} - d.first_period AS DOUBLE) AS t,
    CASE WHEN d.x > 0 THEN CAST(d.repeat_value AS DOUBLE) / d.x ELSE CAST(0 AS DOUBLE) END AS monetary_value,
    f.first_day,
    d.last_day,
    d.revenue
  FROM discrete d
  JOIN (SELECT customer_id, MIN(order_day) AS first_day FROM used GROUP BY customer_id) f
    ON f.customer_id = d.customer_id
)`;
}

/**
 * `baseCtes` over the subscriptions (one transaction-shaped row per subscription, for the order
 * counts) followed by the contractual summary of the subscriptions in `family_summary`, the rules of
 * `summarizeSubscriptions` (shared/domain/subscriptions/subscriptions.ts, docs/recalc.md):
 * - per (source, subscription key) the row of the latest ingest (then the last line) wins;
 * - rows in the run currencies (fee converted like amounts), started on or before the as-of date;
 * - per customer the earliest-started subscription (ties: the one ending last, active ones last of
 *   all; then key, source);
 * - s = start period, L = as-of period, n = L − s; cancelled = cancelled_at on or before as-of;
 *   renewals = n while active, else max(0, c − s − 1) with c the cancellation's period;
 *   t = n, or renewals + 1 when that is larger (a cancellation in the start period that is the as-of
 *   period); monetary value = the fee per period; revenue = fee × (renewals + 1).
 */
function subscriptionCtes(p: WarehouseParams): string {
  const period = p.period ?? 'year';
  const lastPeriod = periodIndexOf(p.asOf, period, p.campaigns);
  const asOf = dateLiteral(p.asOf);
  const converted = convertedAmount(p);
  const fee = converted === 'amount' ? 'fee' : converted.replace(/^amount/, 'fee');
  const cancelledByAsOf = `cancel_day IS NOT NULL AND cancel_day <= ${asOf}`;
  return `${baseCtes({ ...p, calibrationEnd: undefined })},
subscription_ranked AS (
  SELECT
    source,
    customer_id,
    ${SUBSCRIPTION_KEY} AS subscription_key,
    CAST(started_at AS DATE) AS start_day,
    CAST(cancelled_at AS DATE) AS cancel_day,
    COALESCE(${fee}, CAST(0 AS DECIMAL(18, 2))) AS fee,
    currency,
    row_number() OVER (PARTITION BY source, ${SUBSCRIPTION_KEY}
      ORDER BY ingested_at DESC, ingest_id DESC, line_number DESC) AS ingest_rank
  FROM ${SUBSCRIPTIONS_RELATION}${sourceFilter(p.sources)}
),
subscription_spells AS (
  SELECT
    customer_id,
    start_day,
    cancel_day,
    fee,
    row_number() OVER (PARTITION BY customer_id ORDER BY start_day,
      CASE WHEN ${cancelledByAsOf} THEN cancel_day ELSE DATE '9999-12-31' END DESC,
      subscription_key, source) AS spell_rank
  FROM subscription_ranked
  WHERE ingest_rank = 1 AND ${currencyCondition(p)} AND start_day <= ${asOf}
),
spells AS (
  SELECT
    customer_id,
    start_day,
    fee,
    ${lastPeriod} - ${periodIndexSql('start_day', period, p.campaigns)} AS n,
    CASE WHEN ${cancelledByAsOf}
      THEN greatest(0, ${periodIndexSql('cancel_day', period, p.campaigns)} - ${periodIndexSql('start_day', period, p.campaigns)} - 1)
      ELSE ${lastPeriod} - ${periodIndexSql('start_day', period, p.campaigns)} END AS renewals,
    CASE WHEN ${cancelledByAsOf} THEN 1 ELSE 0 END AS cancelled,
    CASE WHEN ${cancelledByAsOf} THEN cancel_day ELSE ${asOf} END AS last_day
  FROM subscription_spells
  WHERE spell_rank = 1
),
family_summary AS (
  SELECT
    customer_id,
    renewals AS frequency,
    CAST(renewals AS DOUBLE) AS recency,
    CAST(CASE WHEN cancelled = 1 AND renewals + 1 > n THEN renewals + 1 ELSE n END AS DOUBLE) AS t,
    CAST(fee AS DOUBLE) AS monetary_value,
    start_day AS first_day,
    last_day,
    fee * (renewals + 1) AS revenue
  FROM spells
)`;
}

/**
 * The customer statements of the discrete and contractual families, under the keys of the
 * continuous ones (customerSummaries, histogram, spend) and with the same columns, so the unload,
 * fit and scoring steps read them alike. `t` is in periods, not in the run's time unit.
 */
export function familyStatements(input: WarehouseParamsInput) {
  const p = parseWarehouseParams(input);
  if (p.family === undefined || p.family === 'noncontractual-continuous') {
    throw new Error('familyStatements: the continuous family uses the statements of recalcStatements');
  }
  const ctes = familyCtes(p);
  const tag = p.family === 'contractual' ? 'contractual' : 'discrete';
  // A member's "orders" are the periods paid (renewals + the first), what the playbook's ladder counts;
  // a subscription row is one per membership, not one per payment.
  const customersSql =
    p.subscriptions === true
      ? `family_customers AS (
  SELECT s.*, CAST(s.frequency + 1 AS BIGINT) AS orders
  FROM family_summary s
)`
      : `order_counts AS (
  SELECT customer_id, COUNT(*) AS orders
  FROM (SELECT DISTINCT customer_id, source, order_id FROM used) distinct_orders
  GROUP BY customer_id
),
family_customers AS (
  SELECT s.*, o.orders
  FROM family_summary s
  JOIN order_counts o ON o.customer_id = s.customer_id
)`;
  const summariesSql = `${ctes},
${customersSql},
${rankedSummary('family_customers', p.customers === undefined ? undefined : summaryPartCount(p.customers, p.partCustomers))}`;
  const continuous = { ...p, family: undefined, subscriptions: undefined };
  const summaries = customerSummariesStatement(continuous);
  const histogramName = `${tag}-histogram`;
  const spendName = `${tag}-spend`;
  const histogram: Statement<HistogramRow> = {
    name: histogramName,
    sql: asSingleSelect(`${ctes}
SELECT
  CAST(frequency AS BIGINT) AS frequency,
  CAST(recency AS DOUBLE) AS recency,
  CAST(t AS DOUBLE) AS t,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM family_summary
GROUP BY frequency, recency, t`),
    decode: decoder(histogramName, (c) => ({
      frequency: c.integer('frequency'),
      recency: c.number('recency'),
      T: c.number('t'),
      customers: c.integer('customers'),
    })),
    compare: compareRfm,
  };
  const spend: Statement<SpendRow> = {
    name: spendName,
    sql: asSingleSelect(`${ctes}
SELECT
  CAST(frequency AS BIGINT) AS frequency,
  CAST(monetary_value AS DOUBLE) AS monetary_value,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM family_summary
WHERE frequency > 0
GROUP BY frequency, monetary_value`),
    decode: decoder(spendName, (c) => ({
      frequency: c.integer('frequency'),
      monetaryValue: c.number('monetary_value'),
      customers: c.integer('customers'),
    })),
    compare: (a, b) => a.frequency - b.frequency || a.monetaryValue - b.monetaryValue,
  };
  const customerSummaries: Statement<CustomerSummaryRow> = {
    // Same name as the continuous summaries: one summary prefix per run whatever the family.
    name: summaries.name,
    sql: asSingleSelect(summariesSql),
    decode: summaries.decode,
    compare: summaries.compare,
    ...(summaries.parts === undefined ? {} : { parts: summaries.parts }),
  };
  return { customerSummaries, histogram, spend };
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface ColumnReader {
  string(column: string): string;
  nullableString(column: string): string | null;
  number(column: string): number;
  integer(column: string): number;
}

/** Builds a row decoder whose errors name the statement and the column. */
export function decoder<Row>(
  statement: string,
  build: (columns: ColumnReader) => Row,
): (raw: Record<string, unknown>) => Row {
  return (raw) => {
    const fail = (column: string, expected: string): never => {
      const value = raw[column];
      const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
      throw new TypeError(`${statement}: column '${column}' should be ${expected}, got ${shown}`);
    };
    const columns: ColumnReader = {
      string(column) {
        const value = raw[column];
        return typeof value === 'string' ? value : fail(column, 'a string');
      },
      nullableString(column) {
        const value = raw[column];
        if (value === null || value === undefined) return null;
        return typeof value === 'string' ? value : fail(column, 'a string or null');
      },
      number(column) {
        const value = raw[column];
        if (typeof value === 'number' && !Number.isNaN(value)) return value;
        if (typeof value === 'bigint') return Number(value);
        return fail(column, 'a number');
      },
      integer(column) {
        const value = raw[column];
        if (typeof value === 'bigint') {
          if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
            return fail(column, 'a safe integer');
          }
          return Number(value);
        }
        if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
        return fail(column, 'an integer');
      },
    };
    return build(columns);
  };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRfm(a: { frequency: number; recency: number; T: number }, b: typeof a): number {
  return a.frequency - b.frequency || a.recency - b.recency || a.T - b.T;
}
