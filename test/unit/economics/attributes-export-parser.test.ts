// The attributes export parser: English and German headers, the file's conventions sniffed like the
// transaction parser's, every bad row a reject with reason, line and raw values, whole-file problems
// refused with a message that says what to change.
import { describe, expect, it } from 'vitest';
import { createAttributesParser } from '#domain/economics/attributes-export-parser.ts';
import type { CustomerAttributesRow } from '#domain/economics/customer-attributes.ts';
import type { RejectedRow } from '#domain/ingest/export-parser.ts';
import type { SourceConfig } from '#domain/ingest/source-config.ts';

function parse(text: string, config: SourceConfig = {}, fileName = 'customers.csv', chunkSize = 5) {
  const accepted: CustomerAttributesRow[] = [];
  const rejected: RejectedRow[] = [];
  const parser = createAttributesParser({
    fileName,
    config,
    sink: { accept: (row) => accepted.push(row), reject: (row) => rejected.push(row) },
  });
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += chunkSize) parser.write(bytes.subarray(i, i + chunkSize));
  return { accepted, rejected, summary: parser.end() };
}

const micros = (iso: string) => Date.parse(iso) * 1000;

describe('attributes export parser', () => {
  it('reads English headers with a CSAT column and amounts with a decimal point', () => {
    const { accepted, rejected, summary } = parse(
      'Customer ID,Signup date,UTM source,CAC,Support tickets,Service cost,CSAT,Opt-in\n' +
        'C1,2024-01-15,google,12.50,2,30.00,5,yes\n' +
        'C2,,,,,,,\n',
    );
    expect(rejected).toEqual([]);
    expect(summary).toMatchObject({ rowsRead: 2, format: 'csv', delimiter: ',', decimal: '.' });
    expect(accepted).toEqual([
      {
        customerId: 'C1',
        line: 2,
        updatedAtMicros: null,
        acquiredAtMicros: micros('2024-01-15T00:00:00Z'),
        acquisitionChannel: 'google',
        acquisitionCostCents: 1250,
        serviceContacts: 2,
        serviceCostCents: 3000,
        satisfaction: { scale: 'csat', score: 5 },
        marketingConsent: true,
      },
      {
        customerId: 'C2',
        line: 3,
        updatedAtMicros: null,
        acquiredAtMicros: null,
        acquisitionChannel: null,
        acquisitionCostCents: null,
        serviceContacts: null,
        serviceCostCents: null,
        satisfaction: null,
        marketingConsent: null,
      },
    ]);
  });

  it('reads German headers with a decimal comma and day-first dates in the source time zone', () => {
    const { accepted, rejected, summary } = parse(
      'Kundennummer;Kunde seit;Akquisitionskosten;Einwilligung\nD1;15.01.2024;1.234,50;ja\nD2;16.01.2024;7,00;nein\n',
      { timezone: 'Europe/Berlin', dateFormat: 'dd.MM.yyyy' },
    );
    expect(rejected).toEqual([]);
    expect(summary.decimal).toBe(',');
    expect(
      accepted.map((row) => [
        row.customerId,
        row.acquiredAtMicros,
        row.acquisitionCostCents,
        row.marketingConsent,
      ]),
    ).toEqual([
      ['D1', micros('2024-01-14T23:00:00Z'), 123_450, true],
      ['D2', micros('2024-01-15T23:00:00Z'), 700, false],
    ]);
  });

  it('needs the scale of a generic satisfaction column, and reads it when configured', () => {
    const csv = 'customer_id,satisfaction\nC1,4\n';
    expect(() => parse(csv)).toThrow(/holds satisfaction scores but their scale is unknown/);
    expect(parse(csv, { satisfactionScale: 'csat' }).accepted[0]!.satisfaction).toEqual({
      scale: 'csat',
      score: 4,
    });
    expect(parse(csv, { satisfactionScale: 'nps' }).accepted[0]!.satisfaction).toEqual({
      scale: 'nps',
      score: 4,
    });
  });

  it('maps configured attribute headers', () => {
    const csv = 'Relatie,Bron\nR1,beurs\n';
    const { accepted } = parse(csv, {
      attributeColumns: { customer_id: 'Relatie', acquisition_channel: 'Bron' },
    });
    expect(accepted.map((row) => [row.customerId, row.acquisitionChannel])).toEqual([['R1', 'beurs']]);
  });

  it('rejects malformed rows, control characters and invalid ids with the raw values', () => {
    const { accepted, rejected } = parse('customer_id,nps\nC1,9\nC2,8,extra\nC\u00013,7\nC/4,6\nC5,ten\n');
    expect(accepted.map((row) => row.customerId)).toEqual(['C1']);
    expect(rejected.map((row) => [row.line, row.reason])).toEqual([
      [3, 'row_malformed'],
      [4, 'row_malformed'],
      [5, 'customer_id_invalid'],
      [6, 'satisfaction_invalid'],
    ]);
    expect(rejected[3]!.raw).toEqual({ customer_id: 'C5', nps: 'ten' });
  });

  it('refuses JSON Lines, an empty file and a file without attribute columns', () => {
    expect(() => parse('{"customer_id":"C1"}\n', {}, 'customers.jsonl')).toThrow(/must be CSV/);
    expect(() => parse('')).toThrow(/is empty/);
    expect(() => parse('customer_id,amount\nC1,3\n')).toThrow(/no attribute column/);
  });
});
