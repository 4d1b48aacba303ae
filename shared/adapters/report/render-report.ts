import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import {
  FREQUENCY_BINS,
  type ReportAggregates,
  WEEKS_SINCE_LAST_BINS,
} from '../../domain/report/aggregates.ts';
import type { RunRecord } from '../../domain/run.ts';
import { renderDataPanel } from './data-panel.ts';

/**
 * Renders the run report: one self-contained HTML page with server-side SVG charts (Vega-Lite
 * compiled and rendered in-process, no CDN, no script on the page), so it can be stored next to the
 * run in S3, opened offline and read by people who never look at JSON.
 */
export interface RunReportInput {
  run: RunRecord;
  aggregates: ReportAggregates;
}

/** The charts a report contains; the browser test checks each one rendered. */
export const REPORT_CHARTS = [
  'segment-sizes',
  'segment-value',
  'clv-distribution',
  'holdout-tracking',
  'p-alive',
  'migration',
] as const;
export type ReportChart = (typeof REPORT_CHARTS)[number];

const PALETTE = { actual: '#1f4e79', predicted: '#e07b39', accent: '#2e7d32' };

async function renderSvg(input: TopLevelSpec): Promise<string> {
  // Vega tags the data objects it is given (a symbol id per datum): hand it a copy, never the run.
  const spec = structuredClone(input);
  const compiled = compile({
    ...spec,
    background: 'white',
    config: { font: 'DejaVu Sans, Arial, sans-serif' },
  });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const escapeHtml = (value: unknown) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const money = (value: number, currency: string) =>
  `${currency} ${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;

function chartSection(id: ReportChart, title: string, svg: string | null, caption: string): string {
  const body = svg ?? `<p class="empty">${escapeHtml(caption)}</p>`;
  return `<section class="chart" data-chart="${id}" data-rendered="${svg ? 'true' : 'false'}">
<h2>${escapeHtml(title)}</h2>
${body}
${svg ? `<p class="caption">${escapeHtml(caption)}</p>` : ''}
</section>`;
}

function table(headers: string[], rows: Array<Array<string | number>>, className = ''): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export async function renderRunReport({ run, aggregates }: RunReportInput): Promise<string> {
  const currency = run.currency;
  const segments = [...run.segments].sort((a, b) => b.totalClv - a.totalClv);

  // One horizontal bar per segment, largest first; the two segment charts differ only in the measure.
  const segmentBars = (color: string, encoding: Record<string, unknown>) =>
    segments.length === 0
      ? null
      : renderSvg({
          width: 520,
          height: { step: 22 },
          data: { values: segments },
          mark: { type: 'bar', color },
          encoding: { y: { field: 'segment', type: 'nominal', sort: '-x', title: null }, ...encoding },
        });

  const segmentSizes = await segmentBars(PALETTE.actual, {
    x: { field: 'customers', type: 'quantitative', title: 'Customers' },
    tooltip: [{ field: 'segment' }, { field: 'customers' }],
  });

  const segmentValue = await segmentBars(PALETTE.accent, {
    x: {
      field: 'shareOfValue',
      type: 'quantitative',
      title: 'Share of predicted value',
      axis: { format: '%' },
    },
  });

  const clvValues = aggregates.clvHistogram.map((b) => ({
    bucket: b.to === null ? `≥ ${b.from}` : `${b.from}–${b.to}`,
    order: b.from,
    customers: b.customers,
  }));
  const clvChart = clvValues.some((b) => b.customers > 0)
    ? await renderSvg({
        width: 640,
        height: 260,
        data: { values: clvValues },
        mark: { type: 'bar', color: PALETTE.actual },
        encoding: {
          x: {
            field: 'bucket',
            type: 'ordinal',
            sort: { field: 'order', op: 'min' },
            title: `Predicted CLV (${currency})`,
            axis: { labelAngle: -40 },
          },
          y: { field: 'customers', type: 'quantitative', title: 'Customers' },
        },
      })
    : null;

  const weekly = run.holdout?.weekly ?? [];
  const holdoutStart = weekly.find((w) => w.period === 'holdout')?.weekStart;
  const trackingValues = weekly.flatMap((w) => [
    { weekStart: w.weekStart, series: 'actual', value: w.actual },
    { weekStart: w.weekStart, series: 'predicted', value: w.predicted },
  ]);
  const trackingChart =
    weekly.length === 0
      ? null
      : await renderSvg({
          width: 640,
          height: 260,
          layer: [
            {
              data: { values: trackingValues },
              mark: { type: 'line', strokeWidth: 2 },
              encoding: {
                x: { field: 'weekStart', type: 'temporal', title: 'Week' },
                y: { field: 'value', type: 'quantitative', title: 'Repeat transactions per week' },
                color: {
                  field: 'series',
                  type: 'nominal',
                  scale: { domain: ['actual', 'predicted'], range: [PALETTE.actual, PALETTE.predicted] },
                  title: null,
                },
                strokeDash: {
                  field: 'series',
                  type: 'nominal',
                  scale: {
                    domain: ['actual', 'predicted'],
                    range: [
                      [1, 0],
                      [6, 4],
                    ],
                  },
                  legend: null,
                },
              },
            },
            ...(holdoutStart
              ? [
                  {
                    data: { values: [{ weekStart: holdoutStart, label: 'holdout starts' }] },
                    layer: [
                      { mark: { type: 'rule' as const, color: '#666', strokeDash: [3, 3] } },
                      {
                        mark: {
                          type: 'text' as const,
                          align: 'left' as const,
                          dx: 4,
                          dy: -110,
                          color: '#444',
                        },
                        encoding: { text: { field: 'label', type: 'nominal' as const } },
                      },
                    ],
                    encoding: { x: { field: 'weekStart', type: 'temporal' as const } },
                  },
                ]
              : []),
          ],
        });

  const pAliveChart =
    aggregates.pAliveGrid.length === 0
      ? null
      : await renderSvg({
          width: 420,
          height: 260,
          data: { values: aggregates.pAliveGrid },
          encoding: {
            x: {
              field: 'weeksSinceLastPurchase',
              type: 'ordinal',
              // Bins in their natural order even when some are empty (absent from the data).
              sort: WEEKS_SINCE_LAST_BINS.map((b) => b.label),
              title: 'Weeks since last purchase',
            },
            y: {
              field: 'frequency',
              type: 'ordinal',
              sort: FREQUENCY_BINS.map((b) => b.label),
              title: 'Repeat purchases',
            },
          },
          layer: [
            {
              mark: 'rect',
              encoding: {
                color: {
                  field: 'meanPAlive',
                  type: 'quantitative',
                  scale: { domain: [0, 1], scheme: 'blues' },
                  title: 'P(alive)',
                },
              },
            },
            {
              mark: { type: 'text', fontSize: 11 },
              encoding: {
                text: { field: 'meanPAlive', type: 'quantitative', format: '.2f' },
                color: { condition: { test: 'datum.meanPAlive > 0.6', value: 'white' }, value: 'black' },
              },
            },
          ],
        });

  const migrationCells = Object.entries(run.migration ?? {}).flatMap(([from, row]) =>
    Object.entries(row).map(([to, customers]) => ({ from, to, customers })),
  );
  const migrationChart =
    migrationCells.length === 0
      ? null
      : await renderSvg({
          width: { step: 34 },
          height: { step: 26 },
          data: { values: migrationCells },
          encoding: {
            x: { field: 'to', type: 'nominal', title: 'This run', axis: { labelAngle: -40 } },
            y: { field: 'from', type: 'nominal', title: 'Previous run' },
          },
          layer: [
            {
              mark: 'rect',
              encoding: { color: { field: 'customers', type: 'quantitative', scale: { scheme: 'oranges' } } },
            },
            {
              mark: { type: 'text', fontSize: 10 },
              encoding: { text: { field: 'customers', type: 'quantitative' } },
            },
          ],
        });

  const model = run.model;
  const spend = run.spendModel;
  const holdout = run.holdout;
  const paramRows = [model, spend]
    .filter((m): m is NonNullable<typeof m> => m !== null)
    .flatMap((m) =>
      Object.entries(m.params).map(([name, value]) => [
        m.name,
        name,
        value.toPrecision(5),
        m.standardErrors?.[name] == null ? '–' : Number(m.standardErrors[name]).toPrecision(3),
      ]),
    );

  const totalClv = segments.reduce((sum, s) => sum + s.totalClv, 0);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer value run ${escapeHtml(run.runId)}</title>
<style>
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d1d1f; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.meta { color: #555; margin-top: 0; }
.kpis { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1.5rem 0; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 0.8rem 1rem; min-width: 10rem; }
.kpi b { display: block; font-size: 1.3rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1.5rem; }
section.chart { border: 1px solid #e4e4e4; border-radius: 6px; padding: 0.5rem 1rem 1rem; }
section.chart svg { max-width: 100%; height: auto; }
.caption, .empty { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3rem 0.8rem; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Customer value — run ${escapeHtml(run.runId)}</h1>
<p class="meta">As of ${escapeHtml(run.asOf)} · model ${escapeHtml(model?.name ?? 'none')} · status ${escapeHtml(run.status)} · time unit ${escapeHtml(run.timeUnit)} · ${escapeHtml(run.finishedAt ?? run.startedAt)}</p>
${renderDataPanel(run)}
<div class="kpis">
<div class="kpi">Customers<b>${run.customers.toLocaleString('en-US')}</b></div>
<div class="kpi">Predicted value (${run.clvSettings.horizonMonths} months)<b>${escapeHtml(money(totalClv, currency))}</b></div>
<div class="kpi">Holdout error (aggregate)<b>${holdout ? escapeHtml(`${holdout.aggregateErrorPct.toFixed(1)} %`) : '–'}</b></div>
<div class="kpi">Per-customer MAE<b>${holdout ? escapeHtml(holdout.meanAbsoluteError.toFixed(3)) : '–'}</b></div>
</div>
<div class="grid">
${chartSection('segment-sizes', 'Segment sizes', segmentSizes, 'Customers per RFM segment in this run.')}
${chartSection('segment-value', 'Share of predicted value', segmentValue, 'Each segment’s share of the total predicted CLV.')}
${chartSection('clv-distribution', 'CLV distribution', clvChart, `Customers by predicted ${run.clvSettings.horizonMonths}-month CLV (${currency}).`)}
${chartSection('holdout-tracking', 'Holdout tracking', trackingChart, holdout ? `Weekly repeat transactions, actual vs predicted. Calibration ends ${holdout.calibrationEnd}; the holdout runs to ${holdout.holdoutEnd}.` : 'No holdout check in this run (too little history).')}
${chartSection('p-alive', 'P(alive) by frequency and recency', pAliveChart, 'Mean probability that a customer is still active, by repeat purchases and weeks since the last purchase.')}
${chartSection('migration', 'Segment migration', migrationChart, run.previousRunId ? `Customers moving between segments since run ${run.previousRunId}.` : 'This is the first run: there is no previous run to compare with.')}
</div>
<h2>Segments</h2>
${table(
  ['Segment', 'Customers', `Total CLV (${currency})`, `Mean CLV (${currency})`, 'Share of value'],
  segments.map((s) => [
    s.segment,
    s.customers,
    s.totalClv.toFixed(2),
    s.meanClv.toFixed(2),
    pct(s.shareOfValue),
  ]),
  'segments',
)}
<h2>Model</h2>
${table(['Model', 'Parameter', 'Estimate', 'Std. error'], paramRows, 'params')}
${table(
  ['Fit', 'Log-likelihood', 'Converged', 'Customers'],
  [model, spend]
    .filter((m): m is NonNullable<typeof m> => m !== null)
    .map((m) => [m.name, m.logLikelihood.toFixed(2), m.converged ? 'yes' : 'no', m.customers]),
  'fits',
)}
<h2>Holdout accuracy</h2>
${
  holdout
    ? table(
        [
          'Calibration end',
          'Holdout end',
          'Model',
          'Predicted repeat purchases',
          'Actual',
          'Aggregate error',
          'MAE',
          'Correlation',
        ],
        [
          [
            holdout.calibrationEnd,
            holdout.holdoutEnd,
            holdout.model,
            holdout.predictedRepeatPurchases.toFixed(1),
            holdout.actualRepeatPurchases.toFixed(0),
            `${holdout.aggregateErrorPct.toFixed(1)} %`,
            holdout.meanAbsoluteError.toFixed(3),
            holdout.correlation === null ? '–' : holdout.correlation.toFixed(3),
          ],
        ],
        'holdout',
      )
    : '<p class="empty">No holdout check in this run.</p>'
}
<h2>CLV settings</h2>
${table(
  ['Horizon', 'Yearly discount rate', 'Margin', 'Period length'],
  [
    [
      `${run.clvSettings.horizonMonths} months`,
      pct(run.clvSettings.annualDiscountRate),
      run.clvSettings.margin,
      `${run.clvSettings.periodDays.toFixed(4)} days`,
    ],
  ],
  'clv-settings',
)}
</body>
</html>
`;
  return html;
}
