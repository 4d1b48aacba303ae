/**
 * The run report's customer economics (docs/economics.md), for runs with economics data: revenue vs
 * net contribution per segment, CLV/CAC by acquisition channel, and the value for the customer by
 * satisfaction band — or, without satisfaction scores, what to add. Empty for other runs.
 */
import { runListKey, runPrefix } from '#domain/bucket-layout.ts';
import { HIGH_VALUE_DETRACTORS_LIST } from '#domain/economics/satisfaction.ts';
import type { RunRecord } from '#domain/run.ts';

const escapeHtml = (value: unknown) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const amount = (n: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const ratio = (n: number | null) => (n === null ? '–' : n.toFixed(2));
const share = (n: number | null) => (n === null ? '–' : `${(n * 100).toFixed(1)} %`);

function table(className: string, headers: string[], rows: Array<Array<string | number>>): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const BAND_NAMES = {
  detractor: 'Detractors',
  passive: 'Passives',
  promoter: 'Promoters',
  unknown: 'No score',
};

/** The list file relative to the report (both in the run folder). */
const listLink = (runId: string) =>
  runListKey(runId, HIGH_VALUE_DETRACTORS_LIST).slice(runPrefix(runId).length);

export function renderEconomicsSection(run: RunRecord): string {
  const e = run.economics;
  if (!e) return '';
  const c = run.currency;
  const segments = table(
    'economics-segments',
    [
      'Segment',
      'Customers',
      `Revenue so far (${c})`,
      `Net contribution so far (${c})`,
      'Net share',
      `Gross CLV (${c})`,
      `Net CLV (${c})`,
      'Negative net CLV',
      'Mean satisfaction (0–100)',
      'Net promoter score',
    ],
    e.segments.map((s) => [
      s.segment,
      s.customers,
      amount(s.historicRevenue),
      amount(s.historicNetContribution),
      share(s.netShare),
      amount(s.grossClv),
      amount(s.netClv),
      s.negativeNetContribution,
      s.meanSatisfaction === null ? '–' : s.meanSatisfaction.toFixed(1),
      s.netPromoterScore === null ? '–' : s.netPromoterScore.toFixed(0),
    ]),
  );
  const channels = table(
    'economics-channels',
    [
      'Acquisition channel',
      'Customers',
      `Mean net CLV (${c})`,
      'With acquisition cost',
      `Mean acquisition cost (${c})`,
      'Net CLV / CAC',
      'Lifetime net / CAC',
    ],
    e.channels.map((ch) => [
      ch.channel,
      ch.customers,
      amount(ch.meanNetClv),
      ch.customersWithCost,
      ch.meanAcquisitionCost === null ? '–' : amount(ch.meanAcquisitionCost),
      ratio(ch.netClvToCac),
      ratio(ch.lifetimeNetToCac),
    ]),
  );
  const satisfaction =
    e.satisfactionAdvice !== null
      ? `<p class="satisfaction-advice">${escapeHtml(e.satisfactionAdvice)}</p>`
      : table(
          'economics-satisfaction',
          [
            'Band',
            'Customers',
            'Retention (bought in the holdout weeks)',
            'Mean P(alive)',
            `Mean gross CLV (${c})`,
            `Mean net CLV (${c})`,
          ],
          e.satisfactionBands.map((b) => [
            BAND_NAMES[b.band],
            b.customers,
            share(b.retention),
            b.meanPAlive.toFixed(3),
            amount(b.meanGrossClv),
            amount(b.meanNetClv),
          ]),
        );
  const detractors =
    e.highValueDetractors === undefined
      ? ''
      : e.satisfactionAdvice !== null
        ? '<p class="high-value-detractors">The high-value detractors list stays empty until satisfaction scores are exported (see above).</p>'
        : `<p class="high-value-detractors"><strong>${e.highValueDetractors}</strong> high-value detractors (a detractor’s score, and a value tier at or above economics.highValue.minValueTier or net CLV ≥ economics.highValue.minNetClv), net CLV descending: <a href="${escapeHtml(listLink(run.runId))}">the list file</a>, or <code>GET /playbook/high-value-detractors</code>.</p>`;
  return `<section class="economics" data-panel="economics">
<h2>Revenue vs net contribution per segment</h2>
<p class="caption">Net contribution = revenue − cost of goods − discounts − shipping − returns; net CLV also subtracts the expected cost to serve. Satisfaction on 0–100 (NPS × 10, (CSAT − 1) × 25) over the customers with a score.</p>
${segments}
<h2>CLV/CAC by acquisition channel</h2>
<p class="caption">Ratios over the customers with a known acquisition cost; lifetime adds the net contribution so far.${e.channelsOmitted > 0 ? ` ${e.channelsOmitted} smaller channels are not listed.` : ''}</p>
${channels}
<h2>Satisfaction bands (detractors / passives / promoters): retention, P(alive), CLV</h2>
${satisfaction}
${detractors}
</section>`;
}
