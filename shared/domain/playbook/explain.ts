/**
 * One-line explanations of the playbook for people who do not read JSON: what a rung's rule means,
 * what a ladder position means and what to do with its customers, what an action's audience is for.
 */
import type { ActionConfig, ActionGoal, Ladder, PlaybookConfig, RungRule } from './playbook-config.ts';
import { actionCovers, LET_GO_ACTION } from './playbook-config.ts';

const TIER_TEXT = { top1: 'top 1 %', top10: 'top 10 %', top25: 'top 25 %' } as const;

/** A rung's rule in words, e.g. "at least 4 orders and a purchase in the last 365 days". */
export function describeRungRule(rule: RungRule, ladder: Pick<Ladder, 'orderNoun'>): string {
  const { singular, plural } = ladder.orderNoun;
  const parts: string[] = [];
  if (rule.minOrders !== undefined)
    parts.push(`at least ${rule.minOrders} ${rule.minOrders === 1 ? singular : plural}`);
  if (rule.minRepeatPurchases !== undefined)
    parts.push(`at least ${rule.minRepeatPurchases} repeat purchase days`);
  if (rule.maxDaysSinceLastPurchase !== undefined)
    parts.push(`a ${singular} in the last ${rule.maxDaysSinceLastPurchase} days`);
  if (rule.minTenureDays !== undefined) parts.push(`a customer for at least ${rule.minTenureDays} days`);
  if (rule.minHistoricRevenue !== undefined)
    parts.push(`at least ${rule.minHistoricRevenue} (run currency) in ${plural} so far`);
  if (rule.minClv !== undefined) parts.push(`a predicted value of at least ${rule.minClv}`);
  if (rule.minValueTier !== undefined)
    parts.push(`in the ${TIER_TEXT[rule.minValueTier]} by predicted value`);
  return parts.length > 0 ? parts.join(' and ') : `every customer starts here (one ${singular})`;
}

const GOAL_TEXT: Record<ActionGoal, (channel: string) => string> = {
  'move-up': (channel) =>
    `one step from the next rung and worth the push: contact via ${channel} before the deadline in to_next_rung`,
  retain: (channel) =>
    `valuable and at risk of not buying again: keep them via ${channel} before they drift further`,
  'win-back': (channel) =>
    `gone quiet but still worth one contact: a single ${channel} offer, then drop those who do not respond`,
  'serve-cheaper': (channel) => `cost more than they bring: serve via ${channel}, no paid contacts`,
  'let-go': () => 'not worth a paid contact: keep them in free channels only',
};

/** What an action's audience is and what to do with it, in one line. */
export function explainAction(action: Pick<ActionConfig, 'goal' | 'channel'> & { name: string }): string {
  if (action.name === LET_GO_ACTION) {
    return 'No action pays off for them (value at stake × success rate ≤ cost): no paid contacts, free channels only';
  }
  const text = GOAL_TEXT[action.goal](action.channel);
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/**
 * What a ladder position means and what to do: a rung (its active customers) with its rule and the
 * action configured for it, or an off-ladder state with the actions that cover it.
 */
export function explainPosition(playbook: PlaybookConfig, position: string): string {
  const { ladder } = playbook;
  const actionsFor = (rung: string | undefined, state: 'active' | 'slipping' | 'lapsed') => {
    const names = playbook.actions
      .filter(
        (action) =>
          action.goal !== 'serve-cheaper' &&
          (rung === undefined
            ? ladder.rungs.some((r) => actionCovers(action, r.id, state))
            : actionCovers(action, rung, state)),
      )
      .map((action) => action.name);
    return names.length > 0 ? names.join(', ') : 'none';
  };
  if (position === 'lapsed') {
    return `No purchase for long, or very unlikely to be active: win back only where it pays (${actionsFor(undefined, 'lapsed')}), let the rest go`;
  }
  if (position === 'slipping') {
    return `Buying less often than before: act before they lapse (${actionsFor(undefined, 'slipping')})`;
  }
  const index = ladder.rungs.findIndex((rung) => rung.id === position);
  const rung = ladder.rungs[index];
  if (!rung) return '';
  const next = ladder.rungs[index + 1];
  const meaning = describeRungRule(rung.rule, ladder);
  const step = next
    ? `next: ${next.label} (${describeRungRule(next.rule, ladder)})`
    : 'the top of the ladder: keep them';
  return `${capitalize(meaning)}; ${step}; action: ${actionsFor(rung.id, 'active')}`;
}

const capitalize = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
