/**
 * The playbook as part of the recalculation settings: the web-shop preset by default, the non-profit
 * preset on request, a user's own ladder or actions validated with errors naming the field.
 */
import { describe, expect, it } from 'vitest';
import { PLAYBOOK_PRESETS } from '#domain/playbook/playbook-config.ts';
import { mergeSettings } from '#domain/recalc/settings.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';

describe('playbook in the recalculation settings', () => {
  it('defaults to the web-shop preset', () => {
    expect(parseRecalcConfig({}).playbook).toEqual(PLAYBOOK_PRESETS['web-shop']);
  });

  it('takes the non-profit preset for donors', () => {
    const { playbook } = parseRecalcConfig({ playbook: { preset: 'non-profit' } });
    expect(playbook.ladder.rungs.map((rung) => rung.id)).toEqual([
      'first-gift',
      'second-gift',
      'regular',
      'major',
    ]);
    expect(playbook).toEqual(PLAYBOOK_PRESETS['non-profit']);
  });

  it('replaces the preset actions with the user’s own, merged over the stored settings', () => {
    const actions = PLAYBOOK_PRESETS['web-shop'].actions.map((action) =>
      action.name === 'second-order' ? { ...action, successRate: 0.2 } : action,
    );
    const merged = mergeSettings({ playbook: { preset: 'web-shop' } }, { playbook: { actions } });
    const { playbook } = parseRecalcConfig(merged);
    expect(playbook.actions.find((action) => action.name === 'second-order')?.successRate).toBe(0.2);
    expect(playbook.ladder).toEqual(PLAYBOOK_PRESETS['web-shop'].ladder);
  });

  it('names the source and the offending field of a bad playbook', () => {
    const actions = PLAYBOOK_PRESETS['web-shop'].actions.map((action, i) =>
      i === 2 ? { ...action, successRate: 1.5 } : action,
    );
    const bad = () => parseRecalcConfig({ playbook: { actions } }, 'config/recalc.json');
    expect(bad).toThrow(/^config\/recalc\.json: invalid recalculation settings: /);
    expect(bad).toThrow(/playbook\.actions\.2\.successRate: Too big/);
    expect(() => parseRecalcConfig({ playbook: { preset: 'charity' } })).toThrow(
      /playbook\.preset: Invalid option/,
    );
    expect(() =>
      parseRecalcConfig({
        playbook: {
          ladder: { ...PLAYBOOK_PRESETS['web-shop'].ladder, rungs: [{ id: 'only', label: 'Only' }] },
        },
      }),
    ).toThrow(/playbook\.ladder\.rungs: Too small/);
  });
});
