/**
 * Family per source: which family each source has, which sources a run reads, what it lists as left
 * out (reason `family`, with how to run that family), and the period a run's sources agree on.
 */
import { describe, expect, it } from 'vitest';
import {
  describeDataSelection,
  type SourceCurrencyData,
  selectRunData,
} from '#domain/recalc/data-selection.ts';
import { parseRecalcConfig, runPeriodOf, sourceFamiliesOf } from '#domain/recalc-config.ts';

const data = (source: string, currency: string, rows: number, lastDate: string): SourceCurrencyData => ({
  source,
  currency,
  rows,
  amount: rows * 10,
  rowsSuperseded: 0,
  amountSuperseded: 0,
  rowsAfterAsOf: 0,
  amountAfterAsOf: 0,
  customers: rows,
  firstDate: '2020-01-01',
  lastDate,
});

describe('family per source', () => {
  it('takes the source entry, else contractual for a subscriptions export, else the run family', () => {
    const config = parseRecalcConfig({
      family: 'noncontractual-discrete',
      sources: { shop: { family: 'noncontractual-continuous' } },
    });
    expect(sourceFamiliesOf(config, ['shop', 'club', 'donors'], new Set(['club']))).toEqual({
      shop: 'noncontractual-continuous',
      club: 'contractual',
      donors: 'noncontractual-discrete',
    });
  });

  it('keeps the bundled sample (a web shop) continuous unless its entry says otherwise', () => {
    const members = parseRecalcConfig({ family: 'contractual' });
    expect(sourceFamiliesOf(members, ['sample', 'club'], new Set(['club']))).toEqual({
      sample: 'noncontractual-continuous',
      club: 'contractual',
    });
    const configured = parseRecalcConfig({
      family: 'contractual',
      sources: { sample: { family: 'contractual' } },
    });
    expect(sourceFamiliesOf(configured, ['sample'], new Set())).toEqual({ sample: 'contractual' });
  });

  it('dates a snapshot (a subscriptions export) as of yesterday by default, not its last start date', () => {
    const input = {
      data: [data('club', 'EUR', 40, '2023-12-07')],
      settings: { includeSample: 'auto' as const },
      defaultCurrency: 'EUR',
      yesterday: '2026-12-05',
    };
    expect(selectRunData(input)?.asOf).toBe('2023-12-07');
    expect(selectRunData({ ...input, snapshot: true })).toMatchObject({
      asOf: '2026-12-05',
      asOfDefaulted: true,
    });
    expect(selectRunData({ ...input, snapshot: true, requestedAsOf: '2024-12-31' })?.asOf).toBe('2024-12-31');
  });

  it('names the field of a bad source entry', () => {
    expect(() => parseRecalcConfig({ sources: { shop: { family: 'retail' } } })).toThrow(
      /sources\.shop\.family: /,
    );
    expect(() => parseRecalcConfig({ sources: { shop: { period: 'week' } } })).toThrow(
      /sources\.shop\.period: /,
    );
    expect(() => parseRecalcConfig({ sources: { shop: { model: 'bgnbd' } } })).toThrow(/sources\.shop: /);
  });

  it('reads the sources of its family only; the others are listed, with how to run them', () => {
    // The shop has more rows in USD and later data: read, it would decide currency and as-of.
    const selection = selectRunData({
      data: [data('donors', 'EUR', 50, '2024-12-20'), data('shop', 'USD', 500, '2025-06-30')],
      settings: {
        includeSample: 'auto',
        family: 'noncontractual-discrete',
        sourceFamilies: { donors: 'noncontractual-discrete', shop: 'noncontractual-continuous' },
      },
      defaultCurrency: 'EUR',
      yesterday: '2026-01-01',
    })!;
    expect(selection).toMatchObject({ sources: ['donors'], currency: 'EUR', asOf: '2024-12-20' });
    expect(selection.excluded).toEqual([
      {
        reason: 'family',
        source: 'shop',
        currency: 'USD',
        rows: 500,
        amount: 5000,
        family: 'noncontractual-continuous',
      },
    ]);
    const lines = describeDataSelection({
      asOf: selection.asOf,
      currency: selection.currency,
      exclusions: {
        rows: selection.excluded,
        suppressedIds: 0,
        crossSourceDuplicates: { rows: 0, amount: 0, handling: 'keep' },
      },
    });
    expect(lines).toContain(
      'Left out: 500 rows (5,000.00 USD) of source shop, of the noncontractual-continuous family (config sources.<source>.family, or a subscriptions export); score it with its own run: cvm recalc --family noncontractual-continuous, or POST /runs with {"family": "noncontractual-continuous"}.',
    );
  });

  it("uses the period the run's sources name, and refuses sources that disagree", () => {
    const config = parseRecalcConfig({
      family: 'contractual',
      sources: { gym: { period: 'month' }, club: { period: 'year' }, other: {} },
    });
    expect(runPeriodOf(config, ['gym', 'other'])).toBe('month');
    expect(runPeriodOf(config, ['other'])).toBe('year');
    expect(() => runPeriodOf(config, ['club', 'gym'])).toThrow(
      /sources\.club\.period is "year", sources\.gym\.period is "month"/,
    );
  });
});
