import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { GONE_COLUMN, NEW_CUSTOMERS_ROW } from '#domain/migration.ts';
import { holdoutErrorText } from '#domain/recalc/holdout-check.ts';
import { FREQUENCY_BINS, type ReportAggregates, WEEKS_SINCE_LAST_BINS } from '#domain/report/aggregates.ts';
import type { RunRecord } from '#domain/run.ts';
import { segmentGuide } from '#domain/segment-guide.ts';
import { renderDataPanel } from './data-panel.ts';
import { renderEconomicsSection } from './economics-section.ts';
import { PLAYBOOK_STYLES, renderPlaybookSection } from './playbook-section.ts';

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

/** Smallest text in a chart, in px at its natural size (charts are laid out so they never shrink). */
export const MIN_CHART_FONT_PX = 12;

/**
 * Text sizes of every chart: Vega's defaults (10–11 px labels) are too small to read on a report
 * page, so axes, legends and titles are set here once.
 */
const CHART_CONFIG = {
  font: 'DejaVu Sans, Arial, sans-serif',
  // Segment names are long ("Potential Loyalists"): never cut them off.
  axis: { labelFontSize: MIN_CHART_FONT_PX, titleFontSize: 13, labelLimit: 320 },
  legend: { labelFontSize: MIN_CHART_FONT_PX, titleFontSize: 13 },
  header: { labelFontSize: MIN_CHART_FONT_PX, titleFontSize: 13 },
  title: { fontSize: 14 },
  text: { fontSize: MIN_CHART_FONT_PX },
};

/** The two series of the holdout tracking chart, as the legend names them. */
export const HOLDOUT_SERIES = ['Actual', 'Predicted'] as const;

async function renderSvg(input: TopLevelSpec): Promise<string> {
  // Vega tags the data objects it is given (a symbol id per datum): hand it a copy, never the run.
  const spec = structuredClone(input);
  const compiled = compile({
    ...spec,
    background: 'white',
    config: CHART_CONFIG,
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

  // Trailing empty buckets only stretch the axis (a run whose top CLV is 80 needs no "≥ 10000").
  let lastFilled = aggregates.clvHistogram.length - 1;
  while (lastFilled >= 0 && !(aggregates.clvHistogram[lastFilled]!.customers > 0)) lastFilled--;
  const clvValues = aggregates.clvHistogram.slice(0, lastFilled + 1).map((b) => ({
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
  const [actualSeries, predictedSeries] = HOLDOUT_SERIES;
  const trackingValues = weekly.flatMap((w) => [
    { weekStart: w.weekStart, series: actualSeries, value: w.actual },
    { weekStart: w.weekStart, series: predictedSeries, value: w.predicted },
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
                // Colour and dash share one legend (same field and domain), drawn above the plot.
                color: {
                  field: 'series',
                  type: 'nominal',
                  scale: { domain: [...HOLDOUT_SERIES], range: [PALETTE.actual, PALETTE.predicted] },
                  legend: {
                    title: null,
                    orient: 'top',
                    symbolType: 'stroke',
                    symbolStrokeWidth: 3,
                    labelLimit: 400,
                  },
                },
                strokeDash: {
                  field: 'series',
                  type: 'nominal',
                  scale: {
                    domain: [...HOLDOUT_SERIES],
                    range: [
                      [1, 0],
                      [6, 4],
                    ],
                  },
                  legend: {
                    title: null,
                    orient: 'top',
                    symbolType: 'stroke',
                    symbolStrokeWidth: 3,
                    labelLimit: 400,
                  },
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
              mark: { type: 'text', fontSize: MIN_CHART_FONT_PX },
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
  const migrationOrder = migrationAxisOrder(run);
  const migrationChart =
    migrationCells.length === 0
      ? null
      : await renderSvg({
          width: { step: 40 },
          height: { step: 26 },
          data: { values: migrationCells },
          encoding: {
            // Both axes follow the segment grid (best to worst), so the diagonal reads "stayed".
            x: {
              field: 'to',
              type: 'nominal',
              title: 'This run',
              sort: migrationOrder.columns,
              axis: { labelAngle: -40 },
            },
            y: { field: 'from', type: 'nominal', title: 'Previous run', sort: migrationOrder.rows },
          },
          layer: [
            {
              mark: 'rect',
              encoding: { color: { field: 'customers', type: 'quantitative', scale: { scheme: 'oranges' } } },
            },
            {
              mark: { type: 'text', fontSize: MIN_CHART_FONT_PX },
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

  // Fit warnings and run notes (e.g. an unidentified fit, a skipped holdout check) next to the model.
  const notes = [
    ...(model?.identified === false ? [`The ${model.name} fit is not identified by the data.`] : []),
    ...(model?.warnings ?? []),
    ...(run.message ? run.message.split('; ') : []),
    // A run published within its tolerated share of failed parts names each part.
    ...(run.failedParts ?? []).map(
      (part) => `No new score for the customers of summary part ${part.partKey} (${part.error}).`,
    ),
  ];
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
/* One chart per row: a chart is never narrower than drawn, so its text keeps its size. */
.grid { display: grid; grid-template-columns: 1fr; gap: 1.5rem; }
section.chart { border: 1px solid #e4e4e4; border-radius: 6px; padding: 0.5rem 1rem 1rem; }
section.chart svg { max-width: 100%; height: auto; }
.caption, .empty { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3rem 0.8rem; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
${PLAYBOOK_STYLES}
</style>
</head>
<body>
<h1>Customer value — run ${escapeHtml(run.runId)}</h1>
<p class="meta">As of ${escapeHtml(run.asOf)} · model ${escapeHtml(model?.name ?? 'none')}${model?.family ? ` · family ${escapeHtml(model.family)}${model.period ? ` (per ${escapeHtml(model.period)}${model.campaigns ? `: ${escapeHtml(model.campaigns.join(', '))}` : ''}${model.input === 'subscriptions' ? ', from subscriptions exports' : ''})` : ''}` : ''} · status ${escapeHtml(run.status)} · time unit ${escapeHtml(run.timeUnit)} · ${escapeHtml(run.finishedAt ?? run.startedAt)}</p>
${renderDataPanel(run)}
${renderPlaybookSection(run)}
<div class="kpis">
<div class="kpi">Customers<b>${run.customers.toLocaleString('en-US')}</b></div>
<div class="kpi">Predicted value (${run.clvSettings.horizonMonths} months)<b>${escapeHtml(money(totalClv, currency))}</b></div>
<div class="kpi">Holdout error (aggregate)<b>${holdout ? escapeHtml(holdout.aggregateErrorPct === null ? 'not possible' : holdoutErrorText(holdout)) : '–'}</b></div>
<div class="kpi">Per-customer MAE<b>${holdout && holdout.aggregateErrorPct !== null ? escapeHtml(holdout.meanAbsoluteError.toFixed(3)) : '–'}</b></div>
</div>
<div class="grid">
${chartSection('segment-sizes', 'Segment sizes', segmentSizes, 'Customers per RFM segment in this run.')}
${chartSection('segment-value', 'Share of predicted value', segmentValue, 'Each segment’s share of the total predicted CLV.')}
${chartSection('clv-distribution', 'CLV distribution', clvChart, `Customers by predicted ${run.clvSettings.horizonMonths}-month CLV (${currency}).`)}
${chartSection('holdout-tracking', 'Holdout tracking', trackingChart, holdout ? `Weekly repeat transactions: actual (solid) vs predicted by the model (dashed). Calibration ends ${holdout.calibrationEnd}; the holdout runs to ${holdout.holdoutEnd}.` : 'No holdout check in this run (too little history).')}
${chartSection('p-alive', 'P(alive) by frequency and recency', pAliveChart, `Mean probability that a customer is still active, by repeat purchases and weeks since the last purchase.${model?.name === 'bgnbd' ? ' Row 0: under BG/NBD a customer without repeat purchases has P(alive) = 1 by construction (the model lets customers drop out only after a repeat purchase), however long ago they bought. Churn risk therefore uses the probability of a purchase in the next 90 days, which falls with the time since the last purchase.' : ''}`)}
${chartSection('migration', 'Segment migration', migrationChart, run.previousRunId ? `Customers moving between segments since run ${run.previousRunId}.` : 'This is the first run: there is no previous run to compare with.')}
</div>
<h2>Segments</h2>
${table(
  [
    'Segment',
    'Customers',
    `Total CLV (${currency})`,
    `Mean CLV (${currency})`,
    'Share of value',
    'What it means · what to do',
  ],
  segments.map((s) => [
    s.segment,
    s.customers,
    s.totalClv.toFixed(2),
    s.meanClv.toFixed(2),
    pct(s.shareOfValue),
    segmentGuide(s.segment),
  ]),
  'segments',
)}
${renderEconomicsSection(run)}
<h2>Model</h2>
${notes.length > 0 ? `<ul class="notes">${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>` : ''}
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
  holdout?.aggregateErrorPct === null
    ? `<p class="holdout-not-possible">${escapeHtml(`Holdout check not possible (${holdout.model}, calibration to ${holdout.calibrationEnd}, holdout to ${holdout.holdoutEnd}): ${holdout.notPossibleReason ?? 'no comparable figures'}.`)}</p>`
    : holdout
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
              holdoutErrorText(holdout),
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

/**
 * Row and column order of the migration matrix: the run's segments in grid order (the record lists
 * them as the segment rules are configured, best to worst), new customers first among the rows and
 * gone customers last among the columns; names only the matrix has (a renamed segment) go last.
 */
export function migrationAxisOrder(run: Pick<RunRecord, 'segments' | 'migration'>): {
  rows: string[];
  columns: string[];
} {
  const grid = run.segments.map((s) => s.segment);
  const matrix = run.migration ?? {};
  const rowNames = Object.keys(matrix);
  const columnNames = [...new Set(Object.values(matrix).flatMap((row) => Object.keys(row)))];
  const inOrder = (names: string[], first: string[], last: string[]) => {
    const ordered = [
      ...first,
      ...grid,
      ...names.filter((n) => !grid.includes(n) && !first.includes(n) && !last.includes(n)),
      ...last,
    ];
    return ordered.filter((name) => names.includes(name));
  };
  return {
    rows: inOrder(rowNames, [NEW_CUSTOMERS_ROW], []),
    columns: inOrder(columnNames, [], [GONE_COLUMN]),
  };
}
