/**
 * The run report's data panel, shown first: what data the run used (date range, customers, orders,
 * one-time buyers), and everything it left out and why — for a data team checking a run before trusting it.
 */
import { describeDataSelection } from '#domain/recalc/data-selection.ts';
import type { ExcludedRows, RunRecord } from '#domain/run.ts';

const escapeHtml = (value: unknown) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const count = (n: number) => n.toLocaleString('en-US');
const amount = (n: number) =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const REASONS: Record<ExcludedRows['reason'], string> = {
  sample: 'bundled sample (own data present)',
  currency: 'other currency, no fxRates rate',
  after_as_of: 'dated after the as-of date',
  superseded: 'replaced by a later export of the order',
  family: 'another model family (its own run)',
};

/** The panel's HTML (`<section data-panel="data">`); a run recorded without data selection gets a note. */
export function renderDataPanel(run: RunRecord): string {
  const range = run.dataRange;
  const exclusions = run.exclusions;
  const warnings = run.dataWarnings ?? [];
  if (!range || !exclusions) {
    return `<section class="data-panel" data-panel="data"><h2>Data</h2><p>This run was recorded without a data summary.</p></section>`;
  }
  const oneTimeShare = range.customers > 0 ? (range.oneTimeBuyers / range.customers) * 100 : 0;
  // A run over subscriptions exports reads one row per membership: start dates, members and their
  // subscriptions; "one-time buyers" would count every member (renewals are not rows).
  const memberships = run.model?.input === 'subscriptions';
  const facts: [string, string][] = [
    [
      memberships ? 'Start dates' : 'Date range',
      `${range.firstDate ?? '–'} to ${range.lastDate ?? '–'} (as of ${run.asOf})`,
    ],
    [memberships ? 'Members' : 'Customers', count(range.customers)],
    ...(memberships
      ? ([['Subscriptions', count(range.orders)]] as [string, string][])
      : ([
          ['Orders', count(range.orders)],
          ['Rows used', count(range.rows)],
          ['One-time buyers', `${count(range.oneTimeBuyers)} (${oneTimeShare.toFixed(1)} %)`],
        ] as [string, string][])),
    ['Sources', range.sources.join(', ')],
    [
      'Currency',
      `${run.currency} (${range.currencyChoice === 'most rows' ? 'the currency with the most rows' : range.currencyChoice})` +
        range.currencies
          .filter((c) => c.currency !== run.currency)
          .map((c) => `; ${count(c.rows)} rows in ${c.currency} converted at ${c.rate}`)
          .join(''),
    ],
  ];
  const excludedRows = exclusions.rows.map(
    (r) =>
      `<tr data-reason="${escapeHtml(r.reason)}"><td>${escapeHtml(r.reason === 'family' && r.family ? `${r.family} family: run it with cvm recalc --family ${r.family}` : REASONS[r.reason])}</td><td>${escapeHtml(r.source)}</td><td>${escapeHtml(r.currency)}</td><td>${count(r.rows)}</td><td>${amount(r.amount)}</td></tr>`,
  );
  const dup = exclusions.crossSourceDuplicates;
  if (dup.rows > 0) {
    excludedRows.push(
      `<tr data-reason="cross_source_duplicate"><td>identical in two sources (${dup.handling === 'collapse' ? 'collapsed: one copy used' : 'kept: counted twice'})</td><td>–</td><td>${escapeHtml(run.currency)}</td><td>${count(dup.rows)}</td><td>${amount(dup.amount)}</td></tr>`,
    );
  }
  if (exclusions.suppressedIds > 0) {
    excludedRows.push(
      `<tr data-reason="suppressed"><td>erased customer ids (suppressed)</td><td>–</td><td>–</td><td>${count(exclusions.suppressedIds)} ids</td><td>–</td></tr>`,
    );
  }
  const notes = describeDataSelection(run).filter((line) => line.startsWith('Sample left out'));
  return `<section class="data-panel" data-panel="data" style="border:1px solid #ddd;border-radius:6px;padding:0.5rem 1rem;margin:1rem 0">
<h2>Data</h2>
${warnings.map((w) => `<p class="warning" role="alert" style="background:#fff4e5;border-left:4px solid #e07b39;padding:0.4rem 0.8rem">⚠ ${escapeHtml(w)}</p>`).join('\n')}
${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
<table class="data-facts">${facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<h3>Left out</h3>
${
  excludedRows.length > 0
    ? `<table class="data-exclusions"><thead><tr><th>Why</th><th>Source</th><th>Currency</th><th>Rows</th><th>Amount</th></tr></thead><tbody>${excludedRows.join('')}</tbody></table>`
    : '<p>Nothing: every clean row was used.</p>'
}
</section>`;
}
