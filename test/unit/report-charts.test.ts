/** Report charts for a data team: legend, readable text, grid-ordered migration, no empty CLV tail. */
import { describe, expect, it } from 'vitest';
import {
  HOLDOUT_SERIES,
  MIN_CHART_FONT_PX,
  migrationAxisOrder,
  renderRunReport,
} from '#adapters/report/render-report.ts';
import { createReportAccumulator } from '#domain/report/aggregates.ts';
import { sampleRunRecord } from '../support/sample-run.ts';

const section = (html: string, chart: string) => {
  const start = html.indexOf(`data-chart="${chart}"`);
  return html.slice(start, html.indexOf('</section>', start));
};

async function report(run = sampleRunRecord()) {
  const acc = createReportAccumulator();
  acc.add({ clv: 0.5, pAlive: 1, frequency: 0, recencyWeeks: 0, TWeeks: 300 });
  acc.add({ clv: 120, pAlive: 0.95, frequency: 12, recencyWeeks: 60, TWeeks: 61 });
  return renderRunReport({ run, aggregates: acc.result() });
}

describe('report charts', () => {
  it('the holdout chart has a legend naming actual and predicted', async () => {
    const holdout = section(await report(), 'holdout-tracking');
    const legend = holdout.match(/aria-label="Symbol legend[^"]*"/)?.[0];
    expect(legend).toBeDefined();
    for (const series of HOLDOUT_SERIES) expect(legend).toContain(series);
  });

  it('no chart text is smaller than the minimum size', async () => {
    const html = await report();
    const sizes = [...html.matchAll(/font-size="([\d.]+)px"/g)].map((m) => Number(m[1]));
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(MIN_CHART_FONT_PX);
    expect(MIN_CHART_FONT_PX).toBeGreaterThanOrEqual(11);
  });

  it('the CLV histogram ends at the last bucket with customers', async () => {
    const clv = section(await report(), 'clv-distribution');
    expect(clv).toContain('100–250');
    expect(clv).not.toContain('250–500');
    expect(clv).not.toContain('≥ 10000');
  });

  it('the migration matrix follows the segment grid: (new) first, (gone) last', async () => {
    const run = sampleRunRecord({
      migration: {
        Lost: { Lost: 5, Champions: 1, '(gone)': 2 },
        '(new)': { 'At Risk': 3, Champions: 4 },
        Champions: { 'At Risk': 1, Champions: 9 },
      },
    });
    const order = migrationAxisOrder(run);
    expect(order.rows).toEqual(['(new)', 'Champions', 'Lost']);
    expect(order.columns).toEqual(['Champions', 'At Risk', 'Lost', '(gone)']);
    const matrix = section(await report(run), 'migration');
    expect(matrix).toContain(
      `Y-axis titled 'Previous run' for a discrete scale with 3 values: (new), Champions, Lost`,
    );
    expect(matrix).toContain(
      `X-axis titled 'This run' for a discrete scale with 4 values: Champions, At Risk, Lost, (gone)`,
    );
  });

  it('explains P(alive) = 1 of BG/NBD customers without repeat purchases', async () => {
    expect(section(await report(), 'p-alive')).toMatch(/P\(alive\) = 1 by construction/);
  });
});
