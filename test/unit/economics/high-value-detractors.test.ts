/**
 * The high-value detractors list: its index sort key (signed net CLV in string order), its file (the
 * selection's order, RFC 4180 fields), its count merged across parts, its cursor and its report lines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listMemberKey, listPartition } from '#adapters/dynamo/keys.ts';
import { renderEconomicsSection } from '#adapters/report/economics-section.ts';
import type { SatisfactionScore } from '#domain/economics/customer-attributes.ts';
import { DEFAULT_ECONOMICS_CONFIG } from '#domain/economics/economics-config.ts';
import {
  addEconomicsCustomer,
  type EconomicsReportCustomer,
  economicsReport,
  emptyEconomicsAggregates,
  mergeEconomicsAggregates,
} from '#domain/economics/economics-report.ts';
import {
  HIGH_VALUE_DETRACTORS_CSV_COLUMNS,
  type HighValueDetractorRow,
  highValueDetractorsCsv,
  isHighValueDetractor,
  selectHighValueDetractors,
} from '#domain/economics/satisfaction.ts';
import type { RunRecord } from '#domain/run.ts';
import type { ValueTier } from '#domain/score.ts';
import { decodeListCursor, decodeSegmentCursor, encodeCursor } from '#functions/api/cursor.ts';

const satisfaction = fc.option(
  fc.oneof(
    fc.integer({ min: 0, max: 10 }).map((score): SatisfactionScore => ({ scale: 'nps', score })),
    fc.integer({ min: 1, max: 5 }).map((score): SatisfactionScore => ({ scale: 'csat', score })),
  ),
  { nil: null },
);
const row = fc.record({
  customerId: fc.string({ minLength: 1, maxLength: 8 }),
  valueTier: fc.constantFrom<ValueTier>('top1', 'top10', 'top25', 'rest'),
  netClv: fc.integer({ min: -1_000_000, max: 1_000_000 }).map((cents) => cents / 100),
  satisfaction,
  clv: fc.integer({ min: 0, max: 1_000_000 }).map((cents) => cents / 100),
  segment: fc.constantFrom('Champions', 'At risk'),
  currency: fc.constant('EUR'),
});
const uniqueRows = fc.uniqueArray(row, { selector: (r) => r.customerId, maxLength: 30 });

describe('the high-value detractors list', () => {
  it('sorts its index keys as the net CLVs, negative ones included, ties by customer id', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(10 ** 14), max: 10 ** 14 }),
        fc.integer({ min: -(10 ** 14), max: 10 ** 14 }),
        (a, b) => {
          const ka = listMemberKey('r1', 'high-value-detractors', a / 100, 'x').gsi3sk;
          const kb = listMemberKey('r1', 'high-value-detractors', b / 100, 'x').gsi3sk;
          expect(ka < kb ? -1 : ka > kb ? 1 : 0).toBe(Math.sign(a - b));
          expect(ka).toMatch(/^\d{16}#x$/);
        },
      ),
    );
    expect(listPartition('r1', 'high-value-detractors')).toBe('LIST#r1#high-value-detractors');
  });

  it('writes the file in the selection’s order, whatever order the parts delivered the rows in', () => {
    fc.assert(
      fc.property(uniqueRows, fc.integer(), (rows, seed) => {
        const highValue = DEFAULT_ECONOMICS_CONFIG.highValue;
        const listed = rows.filter((r) => isHighValueDetractor(r, highValue));
        const shuffled = [...listed].sort(
          (a, b) => ((a.customerId.length * seed) % 7) - ((b.customerId.length * seed) % 7),
        );
        const csv = highValueDetractorsCsv(shuffled);
        const lines = csv.trimEnd().split('\n');
        expect(lines[0]).toBe(HIGH_VALUE_DETRACTORS_CSV_COLUMNS.join(','));
        expect(lines).toHaveLength(listed.length + 1);
        expect(csv).toBe(highValueDetractorsCsv(selectHighValueDetractors(rows, highValue)));
      }),
    );
  });

  it('quotes ids with commas or quotes and ranks from 1', () => {
    const rows: HighValueDetractorRow[] = [
      {
        customerId: 'plain',
        valueTier: 'top10',
        netClv: 10,
        satisfaction: { scale: 'nps', score: 3 },
        clv: 12,
        segment: 'At risk',
        currency: 'EUR',
      },
      {
        customerId: 'a,"b"',
        valueTier: 'top1',
        netClv: 20.5,
        satisfaction: { scale: 'csat', score: 2 },
        clv: 30,
        segment: 'Champions',
        currency: 'EUR',
      },
    ];
    expect(highValueDetractorsCsv(rows)).toBe(
      'rank,customer_id,net_clv,clv,value_tier,satisfaction_scale,satisfaction_score,segment,currency\n' +
        '1,"a,""b""",20.50,30.00,top1,csat,2,Champions,EUR\n' +
        '2,plain,10.00,12.00,top10,nps,3,At risk,EUR\n',
    );
    expect(highValueDetractorsCsv([])).toBe(`${HIGH_VALUE_DETRACTORS_CSV_COLUMNS.join(',')}\n`);
  });

  const customer = (flag: boolean, score: SatisfactionScore | null): EconomicsReportCustomer => ({
    segment: 'Champions',
    historicRevenue: 100,
    historicNetContribution: 40,
    grossClv: 200,
    netClv: 70,
    negativeNetContribution: false,
    acquisitionChannel: null,
    acquisitionCost: null,
    satisfaction: score,
    pAlive: 0.8,
    purchasedInLastPeriod: null,
    highValueDetractor: flag,
  });

  it('counts the listed customers in the run record, parts merged in any split', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 40 }), fc.nat(40), (flags, cut) => {
        const parts = [emptyEconomicsAggregates(), emptyEconomicsAggregates()];
        flags.forEach((flag, i) => {
          addEconomicsCustomer(parts[i < cut ? 0 : 1]!, customer(flag, { scale: 'nps', score: 2 }));
        });
        const merged = mergeEconomicsAggregates(parts[1]!, parts[0]!);
        expect(economicsReport(merged).highValueDetractors).toBe(flags.filter(Boolean).length);
      }),
    );
    // A part result from before the list existed has no count.
    const old = emptyEconomicsAggregates();
    delete old.highValueDetractors;
    expect(economicsReport(mergeEconomicsAggregates(old, old)).highValueDetractors).toBe(0);
  });

  const runWith = (economics: RunRecord['economics']) =>
    ({ runId: 'r1', currency: 'EUR', economics }) as RunRecord;

  it('shows the count and a link to the list file, or says the list waits for satisfaction scores', () => {
    const aggregates = emptyEconomicsAggregates();
    addEconomicsCustomer(aggregates, customer(true, { scale: 'nps', score: 2 }));
    addEconomicsCustomer(aggregates, customer(false, { scale: 'nps', score: 9 }));
    const html = renderEconomicsSection(runWith(economicsReport(aggregates)));
    expect(html).toContain('<strong>1</strong> high-value detractors');
    expect(html).toContain('<a href="lists/high-value-detractors.csv">');
    expect(html).toContain('GET /playbook/high-value-detractors');

    const unscored = emptyEconomicsAggregates();
    addEconomicsCustomer(unscored, customer(false, null));
    const advice = renderEconomicsSection(runWith(economicsReport(unscored)));
    expect(advice).toContain('<p class="satisfaction-advice">No satisfaction scores yet');
    expect(advice).toContain(
      'The high-value detractors list stays empty until satisfaction scores are exported',
    );
    expect(advice).not.toContain('<strong>');
    // A record from before the list existed shows no list line.
    const { highValueDetractors: _, ...older } = economicsReport(aggregates);
    expect(renderEconomicsSection(runWith(older))).not.toContain('high-value-detractors');
  });

  it('walks with cursors that stay on their run and list', () => {
    const after = listMemberKey('run-7', 'high-value-detractors', -12.34, 'C1').gsi3sk;
    const cursor = encodeCursor({ kind: 'list', runId: 'run-7', list: 'high-value-detractors', after });
    expect(decodeListCursor(cursor, 'high-value-detractors')).toMatchObject({ runId: 'run-7', after });
    expect(() => decodeSegmentCursor(cursor, 'Champions')).toThrow(/another listing/);
    const forged = encodeCursor({
      kind: 'list',
      runId: 'run-7',
      list: 'high-value-detractors',
      after: '12#C1',
    });
    expect(() => decodeListCursor(forged, 'high-value-detractors')).toThrow(/unexpected content/);
  });
});
