/** The data selection of a run: own data before the sample, the run currency, the default as-of date, exclusions. */
import { describe, expect, it } from 'vitest';
import {
  describeDataSelection,
  type SourceCurrencyData,
  selectRunData,
} from '#domain/recalc/data-selection.ts';
import { asOfFromData } from '#domain/recalc/settings.ts';

const data = (over: Partial<SourceCurrencyData> & Pick<SourceCurrencyData, 'source' | 'currency'>) => ({
  rows: 100,
  amount: 1000,
  rowsSuperseded: 0,
  amountSuperseded: 0,
  rowsAfterAsOf: 0,
  amountAfterAsOf: 0,
  customers: 10,
  firstDate: '2005-01-01',
  lastDate: '2010-12-09',
  ...over,
});
const SAMPLE = data({
  source: 'sample',
  currency: 'USD',
  rows: 6919,
  amount: 249_000,
  lastDate: '1998-06-30',
});
const RETAILER = data({ source: 'retailer', currency: 'EUR', rows: 3187, amount: 80_000 });
const base = {
  settings: { includeSample: 'auto' as const },
  defaultCurrency: 'EUR',
  yesterday: '2026-12-05',
};

describe('selectRunData', () => {
  it('leaves the sample out as soon as another source has data, and says so', () => {
    const selection = selectRunData({ ...base, data: [SAMPLE, RETAILER] })!;
    expect(selection).toMatchObject({
      sources: ['retailer'],
      sampleExcluded: true,
      currency: 'EUR',
      currencyChoice: 'most rows',
      asOf: '2010-12-09',
      asOfDefaulted: true,
    });
    expect(selection.excluded).toEqual([
      { reason: 'sample', source: 'sample', currency: 'USD', rows: 6919, amount: 249_000 },
    ]);
  });

  it('uses the sample alone, and keeps it when told to', () => {
    expect(selectRunData({ ...base, data: [SAMPLE] })).toMatchObject({
      sources: ['sample'],
      sampleExcluded: false,
      currency: 'USD',
      asOf: '1998-06-30',
    });
    const kept = selectRunData({ ...base, settings: { includeSample: 'always' }, data: [SAMPLE, RETAILER] })!;
    expect(kept.sources).toEqual(['retailer', 'sample']);
    expect(kept.currency).toBe('USD');
    const never = selectRunData({ ...base, settings: { includeSample: 'never' }, data: [SAMPLE] })!;
    expect(never.sources).toEqual([]);
  });

  it('picks the currency of the own data with the most rows and lists the other currencies as left out', () => {
    const usd = data({ source: 'us-shop', currency: 'USD', rows: 50, amount: 700 });
    const selection = selectRunData({ ...base, data: [SAMPLE, RETAILER, usd] })!;
    expect(selection.currency).toBe('EUR');
    expect(selection.excluded).toContainEqual({
      reason: 'currency',
      source: 'us-shop',
      currency: 'USD',
      rows: 50,
      amount: 700,
    });
    const converted = selectRunData({
      ...base,
      settings: { includeSample: 'auto', fxRates: { USD: 0.9, EUR: 2 } },
      data: [RETAILER, usd],
    })!;
    expect(converted.fxRates).toEqual({ USD: 0.9 });
    expect(converted.excluded).toEqual([]);
  });

  it('defaults the as-of date to the last complete day with data, never later than yesterday', () => {
    expect(asOfFromData('2010-12-09', '2026-12-05')).toBe('2010-12-09');
    expect(asOfFromData('2026-12-06', '2026-12-05')).toBe('2026-12-05');
    expect(asOfFromData(null, '2026-12-05')).toBe('2026-12-05');
    const future = data({
      source: 'shop',
      currency: 'EUR',
      lastDate: '2026-12-04',
      rowsAfterAsOf: 3,
      amountAfterAsOf: 30,
    });
    const selection = selectRunData({ ...base, data: [future] })!;
    expect(selection.asOf).toBe('2026-12-04');
    expect(selection.excluded).toEqual([
      { reason: 'after_as_of', source: 'shop', currency: 'EUR', rows: 3, amount: 30 },
    ]);
    expect(selectRunData({ ...base, requestedAsOf: '2008-01-01', data: [RETAILER] })!.asOf).toBe(
      '2008-01-01',
    );
  });

  it('returns null without any data', () => {
    expect(selectRunData({ ...base, data: [] })).toBeNull();
  });
});

describe('describeDataSelection', () => {
  it('prints warnings first, the range, the sample line and every exclusion', () => {
    const lines = describeDataSelection({
      asOf: '2010-12-09',
      currency: 'EUR',
      sampleExcluded: true,
      dataWarnings: ['Left out 50 rows in USD'],
      dataRange: {
        firstDate: '2005-01-03',
        lastDate: '2010-12-09',
        sources: ['retailer'],
        rows: 3187,
        orders: 3187,
        customers: 600,
        oneTimeBuyers: 100,
        currencies: [{ currency: 'EUR', rate: 1, rows: 3187 }],
        currencyChoice: 'most rows',
      },
      exclusions: {
        rows: [
          { reason: 'sample', source: 'sample', currency: 'USD', rows: 6919, amount: 249000 },
          { reason: 'currency', source: 'us-shop', currency: 'USD', rows: 50, amount: 700 },
        ],
        suppressedIds: 2,
        crossSourceDuplicates: { rows: 4, amount: 40, handling: 'keep' },
      },
    });
    expect(lines[0]).toBe('⚠ Left out 50 rows in USD');
    expect(lines[1]).toMatch(/^Data: 3,187 rows, 3,187 orders of 600 customers, 2005-01-03 to 2010-12-09/);
    expect(lines.join('\n')).toContain('Sample left out: the bundled sample (source sample, 6,919 rows');
    expect(lines.join('\n')).toContain(
      'Left out: 50 rows (700.00 USD) of source us-shop, in another currency',
    );
    expect(lines.join('\n')).toContain('Suppressed: 2 erased customer ids');
    expect(lines.join('\n')).toContain('Cross-source duplicates: 4 rows (40.00 EUR)');
  });
});
