/** Published scores: churn risk agrees with the data for one-time buyers, and times carry their unit. */
import { describe, expect, it } from 'vitest';
import { buildScores, type ScoringRun, type SummaryRow } from '#domain/recalc/scoring.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';
import { customerScoreSchema } from '#domain/score.ts';

/** BG/NBD fitted to a retailer export (weeks), CDNOW-like. */
const PARAMS = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };

function runWith(timeUnit: 'days' | 'weeks', churnBands?: Record<string, number>): ScoringRun {
  const scale = timeUnit === 'days' ? 7 : 1;
  return {
    runId: 'r1',
    asOf: '2010-12-31',
    config: { ...parseRecalcConfig({ timeUnit, ...(churnBands ? { churnBands } : {}) }), currency: 'GBP' },
    model: {
      name: 'bgnbd',
      params: { ...PARAMS, alpha: PARAMS.alpha * scale },
      logLikelihood: -1,
      converged: true,
      customers: 600,
    },
    spendModel: null,
    fallbackSpend: 20,
    tierThresholds: { top1: 1000, top10: 100, top25: 10 },
  };
}

const row = (customerId: string, frequency: number, recency: number, T: number): SummaryRow => ({
  customerId,
  frequency,
  recency,
  T,
  monetaryValue: frequency > 0 ? 25 : 0,
  historicRevenue: 25 * (frequency + 1),
  historicOrders: frequency + 1,
  recencyScore: 1,
  frequencyScore: 1,
  monetaryScore: 1,
});

describe('churn risk of published scores', () => {
  it('a one-time buyer from 2005 is high churn risk although BG/NBD P(alive) is 1', () => {
    const [oneTime] = buildScores(runWith('weeks'), [row('11', 0, 0, 300)], '2011-01-01T00:00:00Z');
    expect(oneTime!.pAlive).toBe(1);
    expect(oneTime!.churnRisk).toBe('high');
    expect(oneTime!.expectedNextPurchaseDate).toBeNull();
  });

  it('a frequent, recent buyer is low risk; a lapsed repeat buyer is high risk', () => {
    const [frequent, lapsed] = buildScores(
      runWith('weeks'),
      [row('a', 20, 99, 100), row('b', 3, 20, 250)],
      '2011-01-01T00:00:00Z',
    );
    expect(frequent!.churnRisk).toBe('low');
    expect(lapsed!.churnRisk).toBe('high');
  });

  it('bands follow the configured thresholds and horizon', () => {
    const customers = [row('c', 4, 40, 50)];
    const [quarter] = buildScores(runWith('weeks'), customers, 'now');
    const [year] = buildScores(
      runWith('weeks', { lowRiskMin: 0.7, mediumRiskMin: 0.3, horizonDays: 365 }),
      customers,
      'now',
    );
    expect(['medium', 'high']).toContain(quarter!.churnRisk);
    expect(year!.churnRisk).toBe('low');
  });

  it('scores state the unit of recency and T, and the same customer scores alike in days and weeks', () => {
    const [weeks] = buildScores(runWith('weeks'), [row('d', 2, 10, 30)], 'now');
    const [days] = buildScores(runWith('days'), [row('d', 2, 70, 210)], 'now');
    expect(weeks!.timeUnit).toBe('weeks');
    expect(days!.timeUnit).toBe('days');
    expect(days!.churnRisk).toBe(weeks!.churnRisk);
    expect(days!.pAlive).toBeCloseTo(weeks!.pAlive, 6);
    expect(customerScoreSchema.parse(days).timeUnit).toBe('days');
  });
});
