/**
 * How customer economics enter the recalculation's statements and report: without economics every
 * statement is the text it was; with them only the customer summaries change (same text for Athena);
 * decoding of the joined columns; the parts' sums merged; the report's sections or the advice.
 */
import { describe, expect, it } from 'vitest';
import { renderEconomicsSection } from '#adapters/report/economics-section.ts';
import { athenaRecalcQueries } from '#adapters/warehouse/athena-warehouse.ts';
import { decodeSummaryEconomics } from '#adapters/warehouse/economics-summaries.ts';
import { recalcStatements } from '#adapters/warehouse/queries.ts';
import { createRecalcQueries } from '#adapters/warehouse/recalc-queries.ts';
import { mergedEconomics } from '#app/recalc/economics-finalize.ts';
import { economicsSqlSettings, selectionQueryParams } from '#app/recalc/query-params.ts';
import {
  addEconomicsCustomer,
  type EconomicsReportCustomer,
  emptyEconomicsAggregates,
} from '#domain/economics/economics-report.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';
import type { RunRecord } from '#domain/run.ts';

const PARAMS = {
  asOf: '1998-06-30',
  calibrationEnd: '1997-09-30',
  timeUnit: 'weeks' as const,
  currency: 'USD',
  sources: ['shop'],
};
const SETTINGS = {
  marginRate: { default: 0.4, bySource: { shop: 0.45 }, byChannel: { "it's": 0.2 } },
  discountIncludedInAmount: false,
  clvMargin: 1,
};

describe('economics in the recalculation statements', () => {
  const queries = createRecalcQueries('bucket');

  it('renders every statement exactly as before for a run without economics', () => {
    const plain = recalcStatements(PARAMS);
    const rendered = queries.statements(PARAMS);
    expect(Object.keys(rendered)).toEqual(Object.keys(plain));
    for (const [key, statement] of Object.entries(plain)) {
      expect(rendered[key as keyof typeof rendered]!.sql, key).toBe(statement.sql);
    }
    const config = { ...parseRecalcConfig({}), currency: 'USD' };
    expect(selectionQueryParams({ config })).toEqual({});
  });

  it('joins economics into the customer summaries only, the same text for Athena', () => {
    const plain = recalcStatements(PARAMS);
    const rendered = queries.statements({ ...PARAMS, economics: SETTINGS });
    for (const [key, statement] of Object.entries(plain)) {
      const sql = rendered[key as keyof typeof rendered]!.sql;
      if (key === 'customerSummaries') {
        expect(sql).not.toBe(statement.sql);
        expect(sql).toContain(statement.sql);
        expect(sql).toContain("WHEN channel = 'it''s' THEN CAST('0.200000' AS DECIMAL(18, 6))");
        expect(sql).toContain("WHEN source = 'shop' THEN CAST('0.450000' AS DECIMAL(18, 6))");
        expect(sql).toContain("ELSE CAST('0.400000' AS DECIMAL(18, 6)) END");
      } else expect(sql, key).toBe(statement.sql);
    }
    const athena = athenaRecalcQueries({ ...PARAMS, economics: SETTINGS }, { bucket: 'b', runId: 'run-1' });
    expect(athena.customerSummaries!.queryString).toContain(rendered.customerSummaries.sql);
    expect(athena.histogram!.queryString).toContain(plain.histogram.sql);
  });

  it("joins economics into the period families' summaries too, leaving their other statements and runs without economics alone", () => {
    for (const name of ['contractual', 'noncontractual-discrete'] as const) {
      const family = { ...PARAMS, calibrationEnd: undefined, family: name };
      const plain = recalcStatements(family);
      const joined = queries.statements({ ...family, economics: SETTINGS });
      expect(joined.customerSummaries.sql, name).not.toBe(plain.customerSummaries.sql);
      expect(joined.customerSummaries.sql, name).toContain(plain.customerSummaries.sql);
      expect(joined.customerSummaries.sql, name).toContain('economics_own_net_cents');
      expect(joined.histogram.sql, name).toBe(plain.histogram.sql);
      expect(queries.statements(family).customerSummaries.sql, name).toBe(plain.customerSummaries.sql);
    }
  });

  it('takes the SQL settings from the run settings, the run margin as the last resort', () => {
    const config = { ...parseRecalcConfig({ clv: { margin: 0.3 } }), currency: 'USD' };
    expect(economicsSqlSettings(config)).toEqual({
      marginRate: { bySource: {}, byChannel: {} },
      discountIncludedInAmount: false,
      clvMargin: 0.3,
    });
    const run = { config, economics: { orderRowsWithFigures: 1, attributeRows: 0 } };
    expect(selectionQueryParams(run).economics).toEqual(economicsSqlSettings(config));
  });

  it('validates the economics settings inside the run settings, naming the field', () => {
    expect(() => parseRecalcConfig({ economics: { marginRate: { byChannel: { web: 35 } } } })).toThrow(
      /economics\.marginRate\.byChannel\.web: must be between 0 and 1/,
    );
    expect(parseRecalcConfig({}).economics).toBeUndefined();
  });
});

describe('decoding the joined economics columns', () => {
  it('reads a customer without economics rows or attributes as nulls', () => {
    expect(decodeSummaryEconomics('s', { customer_id: 'A', economics_has_attributes: 0 })).toEqual({
      primarySource: null,
      observed: null,
      attributes: null,
    });
  });

  it('reads BIGINT sums and the attributes, satisfaction with its scale', () => {
    const decoded = decodeSummaryEconomics('s', {
      economics_primary_source: 'shop',
      economics_own_orders: 2n,
      economics_own_revenue_cents: 18_000n,
      economics_own_net_cents: 6_000n,
      economics_historic_net_cents: 6_500,
      economics_has_attributes: 1,
      economics_acquisition_channel: 'google',
      economics_acquisition_cost_cents: 2500n,
      economics_satisfaction_scale: 'nps',
      economics_satisfaction_score: 9n,
      economics_marketing_consent: 0n,
    });
    expect(decoded).toEqual({
      primarySource: 'shop',
      observed: { ownOrders: 2, ownRevenueCents: 18_000, ownNetCents: 6000, historicNetCents: 6500 },
      attributes: {
        acquiredAtMicros: null,
        acquisitionChannel: 'google',
        acquisitionCostCents: 2500,
        serviceContacts: null,
        serviceCostCents: null,
        satisfaction: { scale: 'nps', score: 9 },
        marketingConsent: false,
      },
    });
  });

  it('names the statement and the column of a value it cannot read', () => {
    expect(() => decodeSummaryEconomics('customer-summaries', { economics_own_orders: 1.5 })).toThrow(
      "customer-summaries: column 'economics_own_orders' should be an integer or null, got 1.5",
    );
    expect(() =>
      decodeSummaryEconomics('customer-summaries', { economics_satisfaction_scale: 'ces' }),
    ).toThrow("column 'economics_satisfaction_scale' should be nps or csat, got ces");
  });
});

const customer = (over: Partial<EconomicsReportCustomer>): EconomicsReportCustomer => ({
  segment: 'Champions',
  historicRevenue: 100,
  historicNetContribution: 40,
  grossClv: 200,
  netClv: 70,
  negativeNetContribution: false,
  acquisitionChannel: 'google',
  acquisitionCost: 20,
  satisfaction: null,
  pAlive: 0.8,
  purchasedInLastPeriod: true,
  ...over,
});

describe('the economics report', () => {
  it('merges the parts to what one pass over all customers gives', () => {
    const customers = [
      customer({}),
      customer({ segment: 'Lost', netClv: -5, negativeNetContribution: true, acquisitionCost: null }),
      customer({
        acquisitionChannel: null,
        satisfaction: { scale: 'nps', score: 3 },
        purchasedInLastPeriod: false,
      }),
      customer({ satisfaction: { scale: 'csat', score: 5 } }),
    ];
    const one = emptyEconomicsAggregates();
    for (const c of customers) addEconomicsCustomer(one, c);
    const parts = customers.map((c) => {
      const part = emptyEconomicsAggregates();
      addEconomicsCustomer(part, c);
      return { economics: JSON.parse(JSON.stringify(part)) };
    });
    const merged = mergedEconomics([...parts.reverse(), { economics: undefined }]);
    expect(merged).toEqual(mergedEconomics([{ economics: one }]));
    const champions = merged!.segments.find((s) => s.segment === 'Champions')!;
    expect(champions).toMatchObject({
      customers: 3,
      historicRevenue: 300,
      historicNetContribution: 120,
      netShare: 0.4,
    });
    // Champions: one NPS 3 (0–100: 30, a detractor) and one CSAT 5 (100, a promoter).
    expect(champions).toMatchObject({ satisfactionScored: 2, meanSatisfaction: 65, netPromoterScore: 0 });
    expect(merged!.segments.find((s) => s.segment === 'Lost')).toMatchObject({
      satisfactionScored: 0,
      meanSatisfaction: null,
      netPromoterScore: null,
    });
    const google = merged!.channels.find((c) => c.channel === 'google')!;
    expect(google).toMatchObject({ customers: 3, customersWithCost: 2, netClvToCac: (70 + 70) / 40 });
    expect(merged!.satisfactionAdvice).toBeNull();
    expect(mergedEconomics([{ economics: undefined }])).toBeUndefined();
  });

  const runWith = (economics: RunRecord['economics']) => ({ currency: 'EUR', economics }) as RunRecord;

  it('shows the three sections, or says what to add without satisfaction scores', () => {
    const aggregates = emptyEconomicsAggregates();
    addEconomicsCustomer(aggregates, customer({}));
    const withoutScores = mergedEconomics([{ economics: aggregates }])!;
    expect(withoutScores.satisfactionAdvice).toMatch(/nps column \(0–10/);
    const html = renderEconomicsSection(runWith(withoutScores));
    expect(html).toContain('<h2>Revenue vs net contribution per segment</h2>');
    expect(html).toContain('<td>Champions</td><td>1</td><td>100.00</td><td>40.00</td><td>40.0 %</td>');
    expect(html).toContain('<h2>CLV/CAC by acquisition channel</h2>');
    expect(html).toContain(
      '<td>google</td><td>1</td><td>70.00</td><td>1</td><td>20.00</td><td>3.50</td><td>5.50</td>',
    );
    expect(html).toContain('<p class="satisfaction-advice">No satisfaction scores yet');
    expect(html).not.toContain('economics-satisfaction');
    addEconomicsCustomer(aggregates, customer({ satisfaction: { scale: 'nps', score: 10 } }));
    const scored = renderEconomicsSection(runWith(mergedEconomics([{ economics: aggregates }])!));
    expect(scored).toContain(
      '<td>Promoters</td><td>1</td><td>100.0 %</td><td>0.800</td><td>200.00</td><td>70.00</td>',
    );
    expect(scored).not.toContain('satisfaction-advice');
    expect(renderEconomicsSection(runWith(undefined))).toBe('');
  });
});
