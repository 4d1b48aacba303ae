/** The automatic model choice: candidates, and only identified fits may win the holdout check. */
import { describe, expect, it } from 'vitest';
import type { ModelCandidate } from '#domain/models/purchase-models.ts';
import {
  autoCandidates,
  chooseAutoModel,
  ONE_TIME_BUYER_SHARE,
  oneTimeBuyerShare,
  rankAutoModels,
} from '#domain/recalc/model-choice.ts';

const good = { converged: true, identified: true };
const unidentified = { converged: true, identified: false };

describe('automatic model choice', () => {
  it('skips an unidentified candidate even when its holdout error is the lowest', () => {
    const candidates: ModelCandidate[] = [
      { model: 'bgnbd', fit: good, holdoutError: 0.4 },
      { model: 'mbgnbd', fit: unidentified, holdoutError: 0.1 },
      { model: 'pareto', fit: good, holdoutError: 0.3 },
    ];
    expect(chooseAutoModel(candidates)).toEqual({ model: 'pareto', note: null });
  });

  it('ranks identified candidates first, then the others, each by holdout error (the order full fits are tried in)', () => {
    expect(
      rankAutoModels([
        { model: 'bgnbd', fit: good, holdoutError: 0.4 },
        { model: 'mbgnbd', fit: unidentified, holdoutError: 0.1 },
        { model: 'pareto', fit: good, holdoutError: 0.3 },
      ]),
    ).toEqual(['pareto', 'bgnbd', 'mbgnbd']);
    expect(rankAutoModels([{ model: 'pareto', fit: null, holdoutError: Number.NaN }])).toEqual([]);
  });

  it('falls back to the lowest error with a note when no candidate is identified, and to BG/NBD without results', () => {
    const choice = chooseAutoModel([
      { model: 'bgnbd', fit: unidentified, holdoutError: 0.4 },
      { model: 'pareto', fit: unidentified, holdoutError: 0.2 },
    ]);
    expect(choice.model).toBe('pareto');
    expect(choice.note).toMatch(/no candidate is identified/);
    expect(chooseAutoModel([])).toEqual({
      model: 'bgnbd',
      note: 'model auto: no holdout result, BG/NBD chosen',
    });
  });

  it('has MBG/NBD among the candidates and says why when one-time buyers dominate', () => {
    const dominated = [
      { frequency: 0, customers: 70 },
      { frequency: 2, customers: 30 },
    ];
    expect(oneTimeBuyerShare(dominated)).toBeCloseTo(0.7, 12);
    expect(ONE_TIME_BUYER_SHARE).toBe(0.6);
    const auto = autoCandidates(dominated);
    expect(auto.models).toContain('mbgnbd');
    expect(auto.note).toMatch(/70 % of the calibration customers bought once: MBG\/NBD/);
    expect(autoCandidates([{ frequency: 1, customers: 5 }]).note).toBeNull();
  });
});
