// The ladder's "since run …" line explains two runs without a customer in common (the sample, then
// the user's own data) instead of showing them as churn.
import { describe, expect, it } from 'vitest';
import { disjointRunsNote } from '#adapters/report/playbook-section.ts';

const cell = (customers: number) => ({ customers, clv: customers * 10, previousClv: customers * 9 });
const summary = (up: number, stayed: number, down: number, added: number, gone: number) => ({
  up: cell(up),
  stayed: cell(stayed),
  down: cell(down),
  new: cell(added),
  gone: cell(gone),
  netUp: { customers: up - down, clv: 0 },
});

describe('disjointRunsNote', () => {
  it('explains runs without a customer in common', () => {
    expect(disjointRunsNote(summary(0, 0, 0, 6898, 2357))).toMatch(/No customer is in both runs/);
  });

  it('says nothing when customers are in both runs, or when nobody is new or gone', () => {
    expect(disjointRunsNote(summary(1, 0, 0, 10, 10))).toBe('');
    expect(disjointRunsNote(summary(0, 5, 0, 10, 10))).toBe('');
    expect(disjointRunsNote(summary(0, 0, 0, 10, 0))).toBe('');
    expect(disjointRunsNote(summary(0, 0, 0, 0, 10))).toBe('');
  });
});
