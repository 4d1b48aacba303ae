/**
 * The run report's value-playbook section, shown before the charts: the ladder as a funnel (customers
 * and value share per rung and off-ladder state, with the movement since the previous run), the
 * action table (audience, value at stake, cost, backtest lift) with a line on what each audience
 * means and what to do, and what became of the previous run's audiences. Plain HTML and CSS bars:
 * no script, readable offline.
 */
import { GONE_POSITION, NEW_POSITION } from '#domain/playbook/movement.ts';
import type { PlaybookSummary } from '#domain/playbook/summary.ts';
import type { RunRecord } from '#domain/run.ts';

const escapeHtml = (value: unknown) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const count = (n: number) => n.toLocaleString('en-US');
const money = (n: number, currency: string) =>
  `${currency} ${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const pct = (n: number) => `${(n * 100).toFixed(1)} %`;
const lift = (n: number | null) => (n === null ? '–' : `× ${n.toFixed(2)}`);

/** Styles of the section (added to the report's stylesheet). */
export const PLAYBOOK_STYLES = `
section.playbook { border: 1px solid #d7e3ef; border-radius: 6px; padding: 0.5rem 1rem 1rem; margin: 1.5rem 0; }
.ladder { display: grid; grid-template-columns: minmax(11rem, max-content) minmax(14rem, 1fr) max-content max-content max-content; gap: 0.35rem 0.8rem; align-items: center; margin: 0.8rem 0; }
.ladder .rung-label { font-weight: bold; font-size: 0.95rem; }
.ladder .rung-label small { display: block; font-weight: normal; color: #555; font-size: 0.8rem; }
.ladder .bar { background: #eef3f8; height: 1.4rem; border-radius: 3px; }
.ladder .bar span { display: block; height: 100%; background: #1f4e79; border-radius: 3px; min-width: 2px; }
.ladder .off .bar span { background: #e07b39; }
.ladder .num { font-variant-numeric: tabular-nums; font-size: 0.9rem; text-align: right; }
.ladder .move { font-size: 0.9rem; white-space: nowrap; }
.ladder .up { color: #2e7d32; } .ladder .down { color: #b3261e; }
.ladder .explain { grid-column: 1 / -1; color: #555; font-size: 0.85rem; margin: -0.2rem 0 0.4rem; }
table.actions td.money { white-space: nowrap; }
table.actions tr.explain td { color: #555; font-size: 0.85rem; padding-top: 0; }
table.actions tr[data-action] td { border-bottom: none; }
`;

interface PositionMovement {
  in: number;
  out: number;
}

/** Customers who moved into and out of each position since the previous run (new and gone included). */
function movementByPosition(movement: PlaybookSummary['movement']): Map<string, PositionMovement> {
  const byPosition = new Map<string, PositionMovement>();
  const entry = (position: string) => {
    const found = byPosition.get(position) ?? { in: 0, out: 0 };
    byPosition.set(position, found);
    return found;
  };
  for (const [from, row] of Object.entries(movement?.matrix ?? {})) {
    for (const [to, cell] of Object.entries(row)) {
      if (from === to) continue;
      if (from !== NEW_POSITION) entry(from).out += cell.customers;
      if (to !== GONE_POSITION) entry(to).in += cell.customers;
    }
  }
  return byPosition;
}

/** Mean satisfaction of a ladder position, or that none of its customers has a score. */
function satisfactionText(satisfaction: { meanPercent: number | null; scored: number }): string {
  return satisfaction.meanPercent === null
    ? 'no satisfaction scores'
    : `mean satisfaction ${satisfaction.meanPercent.toFixed(0)}/100 (${count(satisfaction.scored)} scored)`;
}

function ladderView(playbook: PlaybookSummary, currency: string): string {
  const moves = movementByPosition(playbook.movement);
  const largest = Math.max(1, ...playbook.positions.map((p) => p.customers));
  // Top rung first, off-ladder states last: the ladder reads from the top.
  const rows = [...playbook.positions].reverse().map((position) => {
    const off = position.position === 'slipping' || position.position === 'lapsed';
    const move = moves.get(position.position) ?? { in: 0, out: 0 };
    const net = move.in - move.out;
    const moveText = playbook.movement
      ? `<span class="up">↑ ${count(move.in)} in</span> · <span class="down">↓ ${count(move.out)} out</span> · net ${net > 0 ? '+' : ''}${count(net)}`
      : '–';
    const rule = playbook.ladder.rungs.find((rung) => rung.id === position.position)?.rule;
    return `<div class="rung-label${off ? ' off' : ''}" data-position="${escapeHtml(position.position)}">${escapeHtml(position.label)}<small>${escapeHtml(off ? 'off the ladder' : (rule ?? ''))}</small></div>
<div class="${off ? 'off' : ''}"><div class="bar" title="${escapeHtml(`${position.customers} customers`)}"><span style="width: ${((100 * position.customers) / largest).toFixed(1)}%"></span></div></div>
<div class="num">${count(position.customers)} customers</div>
<div class="num">${pct(position.valueShare)} of value (${escapeHtml(money(position.clv, currency))})</div>
<div class="move">${moveText}</div>
<div class="explain">${escapeHtml(position.explanation)}${position.satisfaction ? ` · ${escapeHtml(satisfactionText(position.satisfaction))}` : ''}</div>`;
  });
  return `<div class="ladder" data-ladder="${escapeHtml(playbook.ladder.name)}">${rows.join('\n')}</div>`;
}

function actionTable(playbook: PlaybookSummary, currency: string): string {
  const head = [
    'Audience',
    'Goal',
    'Channel',
    'Customers',
    'Value at stake',
    'Cost per customer',
    'Total cost',
    'Backtest purchase lift',
    'Backtest next-rung lift',
  ];
  const body = playbook.actions.map((action) => {
    const cells: [string, string?][] = [
      [action.action],
      [action.goal],
      [action.channel ?? '–'],
      [count(action.customers)],
      [money(action.valueAtStake, currency), 'money'],
      [money(action.maxCostPerCustomer, currency), 'money'],
      [money(action.totalCost, currency), 'money'],
      [lift(action.backtest?.purchaseLift ?? null)],
      [lift(action.backtest?.nextRungLift ?? null)],
    ];
    const row = cells
      .map(([text, className]) => `<td${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</td>`)
      .join('');
    // What it means and what to do: a full-width line under the figures.
    return `<tr data-action="${escapeHtml(action.action)}">${row}</tr>
<tr class="explain" data-explains="${escapeHtml(action.action)}"><td colspan="${cells.length}">${escapeHtml(action.explanation)}</td></tr>`;
  });
  return `<table class="actions"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

function movementText(playbook: PlaybookSummary): string {
  if (!playbook.movement) {
    return '<p class="caption">No previous run with a playbook to compare with: movement shows from the next run on.</p>';
  }
  const { summary, previousRunId } = playbook.movement;
  return `<p class="caption movement-summary">Since run ${escapeHtml(previousRunId)}: ${count(summary.up.customers)} moved up, ${count(summary.stayed.customers)} stayed, ${count(summary.down.customers)} moved down, ${count(summary.new.customers)} new, ${count(summary.gone.customers)} gone; net ${summary.netUp.customers >= 0 ? '+' : ''}${count(summary.netUp.customers)} up.${disjointRunsNote(summary)}</p>`;
}

/**
 * Two runs without a customer in common (e.g. the bundled sample, then the user's own export) make
 * every customer "new" and every earlier one "gone": say why instead of leaving it as churn.
 */
export function disjointRunsNote(summary: NonNullable<PlaybookSummary['movement']>['summary']): string {
  const common = summary.up.customers + summary.stayed.customers + summary.down.customers;
  if (common > 0 || summary.new.customers === 0 || summary.gone.customers === 0) return '';
  return ' No customer is in both runs: the previous run read other data (another source, such as the bundled sample), so this is not movement of the same customers.';
}

function previousActionsTable(playbook: PlaybookSummary): string {
  const previous = playbook.previousActions;
  if (!previous || previous.actions.length === 0) return '';
  const rows = previous.actions.map(
    (a) =>
      `<tr><td>${escapeHtml(a.action)}</td><td>${count(a.members)}</td><td>${count(a.movedUp)} (${pct(a.movedUpShare)})</td><td>${count(a.stayed)}</td><td>${count(a.fell)}</td><td>${count(a.gone)}</td></tr>`,
  );
  return `<h3>What became of the previous run’s audiences</h3>
<p class="caption">${escapeHtml(previous.description)}</p>
<table class="previous-actions"><thead><tr><th>Audience (run ${escapeHtml(previous.previousRunId)})</th><th>Members</th><th>Moved up</th><th>Stayed</th><th>Fell</th><th>Gone</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** The section's HTML; empty for runs recorded before the playbook existed. */
export function renderPlaybookSection(run: RunRecord): string {
  const playbook = run.playbook;
  if (!playbook) return '';
  const backtest = playbook.backtest;
  return `<section class="playbook" data-section="playbook">
<h2>Value ladder (${escapeHtml(playbook.ladder.name)})</h2>
${movementText(playbook)}
${ladderView(playbook, run.currency)}
<h2>Actions</h2>
<p class="caption">${escapeHtml(playbook.valueAtStakeBasis)}</p>
${actionTable(playbook, run.currency)}
<p class="caption backtest-note">${
    backtest
      ? escapeHtml(
          `Backtest: calibration to ${backtest.calibrationEnd}, holdout to ${backtest.holdoutEnd}, ${backtest.customers} customers${backtest.sampled ? ' (a sample)' : ''}. ${backtest.description}`,
        )
      : 'No backtest in this run: the history has no holdout split.'
  }</p>
${previousActionsTable(playbook)}
</section>`;
}
