// Ladder movement and audience outcomes: accumulators merged from parts equal the whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_OUTCOME_DESCRIPTION,
  type ActionOutcomes,
  addActionOutcome,
  addLadderMove,
  completeLadderMovement,
  GONE_POSITION,
  type LadderMovement,
  ladderPositionKey,
  mergeActionOutcomes,
  mergeLadderMovement,
  NEW_POSITION,
  positionLevel,
  reportActionOutcomes,
  summarizeLadderMovement,
} from '#domain/playbook/movement.ts';
import { PLAYBOOK_PRESETS } from '#domain/playbook/playbook-config.ts';

const ladder = PLAYBOOK_PRESETS['web-shop'].ladder;
const positions = ['lapsed', 'slipping', ...ladder.rungs.map((rung) => rung.id)];
const position = fc.constantFrom(...positions);
const money = fc.integer({ min: 0, max: 100_000 }).map((cents) => cents / 100);

describe('ladder positions', () => {
  it('are the rung when active and the state off the ladder, ordered lapsed < slipping < rungs', () => {
    expect(ladderPositionKey('loyal', 'active')).toBe('loyal');
    expect(ladderPositionKey('loyal', 'slipping')).toBe('slipping');
    expect(positions.map((key) => positionLevel(ladder, key))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(positionLevel(ladder, NEW_POSITION)).toBeUndefined();
  });
});

describe('ladder movement', () => {
  // A customer: previous position (or new) with CLV, current position (or gone) with CLV.
  const customerArbitrary = fc.record({
    from: fc.option(position, { nil: null }),
    to: fc.option(position, { nil: null }),
    previousClv: money,
    clv: money,
  });

  it('merged from parts equals the whole, and adds up to the counts of each customer', () => {
    fc.assert(
      fc.property(
        fc.array(customerArbitrary, { maxLength: 150 }),
        fc.integer({ min: 1, max: 5 }),
        (rows, partCount) => {
          const whole: LadderMovement = {};
          const parts: LadderMovement[] = Array.from({ length: partCount }, () => ({}));
          const previousTotals: Record<string, { customers: number; clv: number }> = {};
          rows.forEach(({ from, to, previousClv, clv }, i) => {
            if (from !== null) {
              const total = previousTotals[from] ?? { customers: 0, clv: 0 };
              previousTotals[from] = total;
              total.customers += 1;
              total.clv += previousClv;
            }
            // Scoring sees only customers with a position now; the gone ones come from the totals.
            if (to === null) return;
            addLadderMove(whole, from ?? NEW_POSITION, to, clv, from === null ? 0 : previousClv);
            addLadderMove(
              parts[i % partCount]!,
              from ?? NEW_POSITION,
              to,
              clv,
              from === null ? 0 : previousClv,
            );
          });
          const merged = parts.reduce(mergeLadderMovement, {});
          expect(comparable(merged)).toEqual(comparable(whole));
          const complete = completeLadderMovement(merged, previousTotals);
          const summary = summarizeLadderMovement(complete, ladder);

          // Independent count, customer by customer.
          const expected = { up: 0, stayed: 0, down: 0, new: 0, gone: 0, upClv: 0, downClv: 0 };
          for (const { from, to, clv } of rows) {
            if (from === null && to === null) continue;
            if (from === null) expected.new += 1;
            else if (to === null) expected.gone += 1;
            else {
              const step = positions.indexOf(to) - positions.indexOf(from);
              if (step > 0) {
                expected.up += 1;
                expected.upClv += clv;
              } else if (step < 0) {
                expected.down += 1;
                expected.downClv += clv;
              } else expected.stayed += 1;
            }
          }
          expect(summary.up.customers).toBe(expected.up);
          expect(summary.stayed.customers).toBe(expected.stayed);
          expect(summary.down.customers).toBe(expected.down);
          expect(summary.new.customers).toBe(expected.new);
          expect(summary.gone.customers).toBe(expected.gone);
          expect(summary.netUp.customers).toBe(expected.up - expected.down);
          expect(summary.netUp.clv).toBeCloseTo(expected.upClv - expected.downClv, 6);
          const goneClv = rows
            .filter((r) => r.from !== null && r.to === null)
            .reduce((s, r) => s + r.previousClv, 0);
          expect(summary.gone.previousClv).toBeCloseTo(goneClv, 6);
        },
      ),
    );
  });

  it('refuses totals smaller than what moved out of a position', () => {
    const movement: LadderMovement = {};
    addLadderMove(movement, 'loyal', 'top', 10, 5);
    addLadderMove(movement, 'loyal', 'loyal', 10, 5);
    expect(() => completeLadderMovement(movement, { loyal: { customers: 1, clv: 5 } })).toThrow(
      "ladder movement: 2 customers moved out of 'loyal' but the previous run had only 1 there",
    );
    expect(
      completeLadderMovement(movement, { loyal: { customers: 3, clv: 40 } })['loyal']![GONE_POSITION],
    ).toEqual({ customers: 1, clv: 0, previousClv: 30 });
  });
});

describe('outcomes of the previous run’s audiences', () => {
  it('count members who moved up, stayed, fell or left; merged parts equal the whole', () => {
    const members = fc.array(
      fc.record({
        action: fc.constantFrom('second-order', 'win-back', 'let-go'),
        from: position,
        to: fc.option(position, { nil: null }),
      }),
      { maxLength: 100 },
    );
    fc.assert(
      fc.property(members, fc.integer({ min: 1, max: 4 }), (rows, partCount) => {
        const whole: ActionOutcomes = {};
        const parts: ActionOutcomes[] = Array.from({ length: partCount }, () => ({}));
        rows.forEach(({ action, from, to }, i) => {
          addActionOutcome(whole, ladder, action, from, to);
          addActionOutcome(parts[i % partCount]!, ladder, action, from, to);
        });
        expect(parts.reduce(mergeActionOutcomes, {})).toEqual(whole);
        const report = reportActionOutcomes(whole);
        expect(report.description).toBe(ACTION_OUTCOME_DESCRIPTION);
        for (const outcome of report.actions) {
          const mine = rows.filter((row) => row.action === outcome.action);
          const up = mine.filter((r) => r.to !== null && positions.indexOf(r.to) > positions.indexOf(r.from));
          const fell = mine.filter(
            (r) => r.to !== null && positions.indexOf(r.to) < positions.indexOf(r.from),
          );
          expect(outcome.members).toBe(mine.length);
          expect(outcome.movedUp).toBe(up.length);
          expect(outcome.fell).toBe(fell.length);
          expect(outcome.gone).toBe(mine.filter((r) => r.to === null).length);
          expect(outcome.movedUp + outcome.stayed + outcome.fell + outcome.gone).toBe(outcome.members);
        }
      }),
    );
    expect(ACTION_OUTCOME_DESCRIPTION).toMatch(/not the effect of the action/);
  });
});

/** Cells with sums rounded, so float addition order does not matter. */
function comparable(movement: LadderMovement) {
  const rows: string[] = [];
  for (const [from, row] of Object.entries(movement)) {
    for (const [to, cell] of Object.entries(row)) {
      rows.push(`${from}→${to}:${cell.customers}:${cell.clv.toFixed(4)}:${cell.previousClv.toFixed(4)}`);
    }
  }
  return rows.sort();
}
