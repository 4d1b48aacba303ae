/**
 * The run report: aggregates count each customer once and merge like one pass, and the page is
 * self-contained inline SVG that explains missing charts and escapes names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPORT_CHARTS, renderRunReport } from '#adapters/report/render-report.ts';
import { createReportAccumulator } from '#domain/report/aggregates.ts';
import { sampleRunRecord } from '../support/sample-run.ts';

const customers = [
  { clv: 0.5, pAlive: 0.1, frequency: 0, recencyWeeks: 0, TWeeks: 70 },
  { clv: 12, pAlive: 0.8, frequency: 2, recencyWeeks: 30, TWeeks: 32 },
  { clv: 120, pAlive: 0.95, frequency: 12, recencyWeeks: 60, TWeeks: 61 },
  { clv: 20_000, pAlive: 0.99, frequency: 40, recencyWeeks: 70, TWeeks: 70 },
];

describe('report aggregates', () => {
  it('counts every customer once in the CLV histogram and the P(alive) grid', () => {
    const acc = createReportAccumulator();
    for (const c of customers) acc.add(c);
    const { clvHistogram, pAliveGrid } = acc.result();
    expect(clvHistogram.reduce((n, b) => n + b.customers, 0)).toBe(4);
    expect(clvHistogram.find((b) => b.from === 10000)).toMatchObject({
      to: null,
      customers: 1,
      totalClv: 20_000,
    });
    expect(pAliveGrid.reduce((n, c) => n + c.customers, 0)).toBe(4);
    expect(pAliveGrid).toContainEqual({
      frequency: '0',
      weeksSinceLastPurchase: '≥ 52 wk',
      customers: 1,
      meanPAlive: 0.1,
    });
  });

  it('merging part results equals accumulating everything in one place', () => {
    const scored = fc.record({
      clv: fc.double({ min: 0, max: 1e6, noNaN: true }),
      pAlive: fc.double({ min: 0, max: 1, noNaN: true }),
      frequency: fc.integer({ min: 0, max: 500 }),
      recencyWeeks: fc.double({ min: 0, max: 200, noNaN: true }),
      TWeeks: fc.double({ min: 0, max: 400, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(scored, { maxLength: 60 }), fc.nat(60), (all, cut) => {
        const whole = createReportAccumulator();
        for (const c of all) whole.add(c);
        const left = createReportAccumulator();
        const right = createReportAccumulator();
        all.forEach((c, i) => {
          (i < cut ? left : right).add(c);
        });
        const merged = createReportAccumulator();
        merged.merge(left.result());
        merged.merge(right.result());
        const a = whole.result();
        const b = merged.result();
        expect(b.clvHistogram.map((x) => x.customers)).toEqual(a.clvHistogram.map((x) => x.customers));
        expect(b.pAliveGrid.map((x) => [x.frequency, x.weeksSinceLastPurchase, x.customers])).toEqual(
          a.pAliveGrid.map((x) => [x.frequency, x.weeksSinceLastPurchase, x.customers]),
        );
        b.pAliveGrid.forEach((cell, i) => {
          expect(cell.meanPAlive).toBeCloseTo(a.pAliveGrid[i]!.meanPAlive, 9);
        });
      }),
    );
  });
});

describe('run report', () => {
  it('renders every chart as inline SVG with no script and no external resource', async () => {
    const acc = createReportAccumulator();
    for (const c of customers) acc.add(c);
    const html = await renderRunReport({ run: sampleRunRecord(), aggregates: acc.result() });
    for (const chart of REPORT_CHARTS) {
      const section = html.match(
        new RegExp(
          `<section class="chart" data-chart="${chart}" data-rendered="(\\w+)">([\\s\\S]*?)</section>`,
        ),
      );
      expect(section, chart).not.toBeNull();
      expect(section![1], chart).toBe('true');
      expect(section![2], chart).toMatch(/<svg[\s\S]*<\/svg>/);
    }
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('Champions');
    expect(html).toContain('−9582.43'.replace('−', '-'));
  });

  it('explains missing charts on a first run without holdout instead of drawing empty axes', async () => {
    const html = await renderRunReport({
      run: sampleRunRecord({ holdout: null, migration: null, previousRunId: null }),
      aggregates: createReportAccumulator().result(),
    });
    expect(html).toMatch(/data-chart="holdout-tracking" data-rendered="false"/);
    expect(html).toMatch(/data-chart="migration" data-rendered="false"/);
    expect(html).toContain('This is the first run');
  });

  it('escapes segment names', async () => {
    const run = sampleRunRecord();
    run.segments[0]!.segment = '<img src=x onerror=alert(1)>';
    const html = await renderRunReport({ run, aggregates: createReportAccumulator().result() });
    expect(html).not.toContain('<img src=x');
  });
});

describe('run report inputs', () => {
  it('leaves the run record it renders untouched', async () => {
    const run = sampleRunRecord();
    const before = structuredClone(run);
    await renderRunReport({ run, aggregates: createReportAccumulator().result() });
    expect(run).toStrictEqual(before);
    expect(Object.getOwnPropertySymbols(run.segments[0]!)).toEqual([]);
  });
});
