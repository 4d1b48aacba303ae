// Playbook settings: presets, validation messages that name the field, and the documented example.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PLAYBOOK_PRESETS, parsePlaybookConfig } from '#domain/playbook/playbook-config.ts';

describe('playbook settings', () => {
  it('defaults to the web-shop preset and offers a non-profit one', () => {
    expect(parsePlaybookConfig(undefined)).toEqual(PLAYBOOK_PRESETS['web-shop']);
    const nonProfit = parsePlaybookConfig({ preset: 'non-profit' });
    expect(nonProfit.ladder.rungs.map((rung) => rung.id)).toEqual([
      'first-gift',
      'second-gift',
      'regular',
      'major',
    ]);
    expect(nonProfit.ladder.orderNoun).toEqual({ singular: 'gift', plural: 'gifts' });
  });

  it('names the source and the field of every problem', () => {
    const actions = PLAYBOOK_PRESETS['web-shop'].actions.map((action, i) =>
      i === 2 ? { ...action, successRate: 1.5 } : action,
    );
    expect(() => parsePlaybookConfig({ actions }, 'config/recalc.json#playbook')).toThrow(
      /^config\/recalc\.json#playbook: invalid playbook settings: actions\.2\.successRate: Too big/,
    );
    expect(() => parsePlaybookConfig({ preset: 'charity' })).toThrow(/preset: /);
    expect(() => parsePlaybookConfig({ colour: 'red' })).toThrow(/colour/);
  });

  it('refuses conditions on the entry rung, duplicate ids and unknown rungs in actions', () => {
    const ladder = structuredClone(PLAYBOOK_PRESETS['web-shop'].ladder);
    ladder.rungs[0]!.rule = { minOrders: 1 };
    ladder.rungs[2]!.id = 'returning';
    const message = (() => {
      try {
        parsePlaybookConfig({ ladder });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain(
      "ladder.rungs.0.rule: the first rung ('first-time') is where every customer starts",
    );
    expect(message).toContain("ladder.rungs.2.id: duplicate rung id 'returning'");
    expect(message).toContain("actions.2.rungs.0: unknown rung 'loyal'");
  });

  it('requires an action other than serve-cheaper for every (rung, state), listing the uncovered ones', () => {
    const actions = PLAYBOOK_PRESETS['web-shop'].actions.filter((action) => action.name !== 'win-back');
    expect(() => parsePlaybookConfig({ actions })).toThrow(
      /actions: every \(rung, state\) needs an action other than serve-cheaper .*uncovered: returning\/lapsed, loyal\/lapsed, top\/lapsed$/,
    );
  });

  it("reserves the name 'let-go' and names the fields of an empty state condition", () => {
    const actions = [...PLAYBOOK_PRESETS['web-shop'].actions, { name: 'let-go', goal: 'let-go' }];
    expect(() => parsePlaybookConfig({ actions })).toThrow(/actions\.8\.name: 'let-go' names the audience/);
    const ladder = structuredClone(PLAYBOOK_PRESETS['web-shop'].ladder);
    ladder.states.slipping.whenAny.push({});
    expect(() => parsePlaybookConfig({ ladder })).toThrow(
      /ladder\.states\.slipping\.whenAny\.2: a condition needs at least one of minDaysSinceLastPurchase/,
    );
  });

  it('accepts the example of docs/playbook.md', () => {
    const doc = readFileSync(new URL('../../../docs/playbook.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(doc)![1]!;
    const config = parsePlaybookConfig(JSON.parse(example), 'docs/playbook.md');
    expect(config.ladder.rungs.map((rung) => rung.id)).toEqual(['first-time', 'returning', 'regular', 'top']);
    expect(config.actions).toHaveLength(5);
  });
});
