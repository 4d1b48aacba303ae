/**
 * Campaign periods in the run settings: the calendar's rules (ISO dates, sorted, unique, at least
 * two) with errors naming the field, the family they belong to, and the period length scoring uses.
 */
import { describe, expect, it } from 'vitest';
import { parseRecalcConfig, periodLengthDays } from '#domain/recalc-config.ts';

const discrete = { family: 'noncontractual-discrete', period: 'campaign' } as const;

describe('campaign settings', () => {
  it('accepts a sorted calendar of at least two ISO dates', () => {
    const config = parseRecalcConfig({ ...discrete, campaigns: ['2024-03-01', '2024-11-15'] });
    expect(config.campaigns).toEqual(['2024-03-01', '2024-11-15']);
  });

  it('names the field of every calendar problem', () => {
    const problem = (campaigns: unknown) => {
      try {
        parseRecalcConfig({ ...discrete, campaigns }, 'config/recalc.json');
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(problem(undefined)).toMatch(
      /config\/recalc\.json: .*campaigns: period "campaign" needs campaigns/,
    );
    expect(problem(['2024-03-01'])).toMatch(/campaigns: campaigns: give at least two/);
    expect(problem(['2024-11-15', '2024-03-01'])).toMatch(
      /campaigns\.1: campaign starts must be sorted and unique/,
    );
    expect(problem(['2024-03-01', '2024-03-01'])).toMatch(/campaigns\.1: .*sorted and unique/);
    expect(problem(['2024-03-01', '2024-02-30'])).toMatch(
      /campaigns\.1: a campaign start is a calendar date/,
    );
    expect(problem(['2024-03-01', '15-11-2024'])).toMatch(
      /campaigns\.1: a campaign start is a calendar date/,
    );
  });

  it('belongs to the discrete family', () => {
    expect(() =>
      parseRecalcConfig({
        family: 'contractual',
        period: 'campaign',
        campaigns: ['2024-03-01', '2024-11-15'],
      }),
    ).toThrow(/period: period "campaign" is for the noncontractual-discrete family/);
    expect(() => parseRecalcConfig({ period: 'campaign', campaigns: ['2024-03-01', '2024-11-15'] })).toThrow(
      /period: /,
    );
  });

  it('measures a campaign period as the mean gap between starts', () => {
    expect(periodLengthDays({ period: 'year' })).toBe(365.25);
    expect(periodLengthDays({ period: 'month' })).toBe(365.25 / 12);
    expect(
      periodLengthDays({ period: 'campaign', campaigns: ['2024-01-01', '2024-01-11', '2024-01-31'] }),
    ).toBe(15);
  });
});
