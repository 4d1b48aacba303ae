/**
 * Recalculation settings: documented defaults, defaults filled inside partial objects, errors naming
 * every bad field, and run expiry after the configured weeks.
 */
import { describe, expect, it } from 'vitest';
import { expiresAfterWeeks } from '#adapters/dynamo/keys.ts';
import { parseRecalcConfig } from '#domain/recalc-config.ts';

describe('recalculation settings', () => {
  it('has the documented defaults', () => {
    const config = parseRecalcConfig({});
    expect(config.model).toBe('bgnbd');
    expect(config.clv).toEqual({ horizonMonths: 12, annualDiscountRate: 0.1, margin: 1 });
    expect(config.valueTiers).toEqual({ top1: 0.01, top10: 0.1, top25: 0.25 });
    expect(config.churnBands).toEqual({ lowRiskMin: 0.7, mediumRiskMin: 0.3 });
    expect(config.hashIdsInEvents).toBe(false);
    expect(config.currency).toBeUndefined();
  });

  it('fills defaults inside partly given objects', () => {
    expect(parseRecalcConfig({ clv: { margin: 0.3 } }).clv).toEqual({
      horizonMonths: 12,
      annualDiscountRate: 0.1,
      margin: 0.3,
    });
  });

  it('names the source and every bad field', () => {
    const bad = () =>
      parseRecalcConfig({ clv: { horizonMonths: 0 }, model: 'gbm', currency: 'usd' }, 'config/recalc.json');
    expect(bad).toThrow(/^config\/recalc\.json: invalid recalculation settings: /);
    expect(bad).toThrow(/model: Invalid option/);
    expect(bad).toThrow(/clv\.horizonMonths: Too small/);
    expect(bad).toThrow(/currency: currency must be a three-letter ISO 4217 code/);
    expect(() => parseRecalcConfig({ valueTiers: { top1: 0.2, top10: 0.1 } })).toThrow(
      /top1 < top10 < top25/,
    );
    expect(() => parseRecalcConfig({ churnBands: { lowRiskMin: 0.2, mediumRiskMin: 0.5 } })).toThrow(
      /mediumRiskMin must not exceed lowRiskMin/,
    );
  });

  it('expires a run the configured number of weeks after it started', () => {
    const started = new Date('2026-01-05T06:00:00Z');
    expect(expiresAfterWeeks(started, 26)).toBe(Date.parse('2026-07-06T06:00:00Z') / 1000);
  });
});
