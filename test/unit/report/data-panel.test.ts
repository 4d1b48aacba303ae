/** The report's data panel: first in the report, the data's range and everything left out and why. */
import { describe, expect, it } from 'vitest';
import { renderDataPanel } from '#adapters/report/data-panel.ts';
import { renderRunReport } from '#adapters/report/render-report.ts';
import { describeDataSelection } from '#domain/recalc/data-selection.ts';
import { createReportAccumulator } from '#domain/report/aggregates.ts';
import type { RunRecord } from '#domain/run.ts';
import { sampleRunRecord } from '#test-support/sample-run.ts';

const withData = (): RunRecord => ({
  ...sampleRunRecord(),
  currency: 'EUR',
  sampleExcluded: true,
  dataWarnings: ['The as-of date 2026-12-05 is 5840 days after the last transaction (2010-12-09) <b>'],
  dataRange: {
    firstDate: '2005-01-02',
    lastDate: '2010-12-09',
    sources: ['retailer'],
    rows: 3187,
    orders: 3187,
    customers: 600,
    oneTimeBuyers: 150,
    currencies: [{ currency: 'EUR', rate: 1, rows: 3187 }],
    currencyChoice: 'most rows',
  },
  exclusions: {
    rows: [
      { reason: 'sample', source: 'sample', currency: 'USD', rows: 6919, amount: 244091.94 },
      { reason: 'currency', source: 'us-shop', currency: 'USD', rows: 90, amount: 912.5 },
    ],
    suppressedIds: 3,
    crossSourceDuplicates: { rows: 12, amount: 340, handling: 'keep' },
  },
});

describe('data panel', () => {
  it('speaks of members and subscriptions for a run over subscriptions exports, without one-time buyers', () => {
    const base = withData();
    const run: RunRecord = { ...base, model: { ...base.model!, input: 'subscriptions' } };
    const html = renderDataPanel(run);
    expect(html).toContain('<th>Start dates</th>');
    expect(html).toContain('<th>Members</th><td>600</td>');
    expect(html).toContain('<th>Subscriptions</th><td>3,187</td>');
    expect(html).not.toContain('One-time buyers');
    expect(describeDataSelection(run).find((line) => line.startsWith('Data:'))).toMatch(
      /^Data: 3,187 subscriptions of 600 members, started 2005-01-02 to 2010-12-09/,
    );
  });

  it('shows range, customers, orders, one-time share, warnings and every exclusion', () => {
    const html = renderDataPanel(withData());
    expect(html).toContain('2005-01-02 to 2010-12-09');
    expect(html).toContain('<th>Customers</th><td>600</td>');
    expect(html).toContain('<th>Orders</th><td>3,187</td>');
    expect(html).toContain('150 (25.0 %)');
    expect(html).toContain('role="alert"');
    expect(html).toContain('&lt;b&gt;');
    for (const reason of ['sample', 'currency', 'cross_source_duplicate', 'suppressed']) {
      expect(html).toContain(`data-reason="${reason}"`);
    }
    expect(html).toContain('Sample left out');
  });

  it('comes first in the report, before the charts', async () => {
    const html = await renderRunReport({ run: withData(), aggregates: createReportAccumulator().result() });
    const panel = html.indexOf('data-panel="data"');
    expect(panel).toBeGreaterThan(0);
    expect(panel).toBeLessThan(html.indexOf('class="kpis"'));
    expect(panel).toBeLessThan(html.indexOf('data-chart='));
  });
});
