/**
 * Removing one customer's rows from text files: exactly their records go, every other record stays
 * byte for byte (quotes, delimiters inside quotes, line breaks inside quotes, CRLF), and the layout
 * tells erasure which objects to read in which format.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  audienceKey,
  BUCKET_PREFIXES,
  cleanTransactionKey,
  incomingKey,
  PERSONAL_DATA_PREFIXES,
  partChangesKey,
  personalDataFormatOf,
  quarantineKeyFor,
  rejectedKeyFor,
  reportKey,
  runOutputPrefix,
  suppressedKey,
} from '#domain/bucket-layout.ts';
import {
  containsIdToken,
  eraseFromCsv,
  eraseFromExport,
  eraseFromJsonLines,
  matchCustomerId,
} from '#domain/erasure/customer-rows.ts';

const quote = (value: string) => (/[";,\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

describe('eraseFromCsv', () => {
  it('removes exactly the customer’s records and keeps every other record byte for byte', () => {
    const ids = fc.constantFrom('C-1', 'C-10', 'C-2', ' C-1', 'c-1');
    const other = fc.string({ unit: fc.constantFrom('a', '1', ',', ';', '"', '\n', ' ', 'é', 'C', '-') });
    const row = fc.record({ id: ids, order: other, amount: other });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), (rows, eol) => {
        const line = (r: { id: string; order: string; amount: string }) =>
          `${quote(r.id)},${quote(r.order)},${quote(r.amount)}${eol}`;
        const text = `customer_id,order_id,amount${eol}${rows.map(line).join('')}`;
        const erased = eraseFromCsv(text, matchCustomerId('C-1'));
        // Values are compared trimmed, as the ingest trims them: ' C-1' is C-1; 'c-1' and 'C-10' are not.
        const kept = rows.filter((r) => r.id.trim() !== 'C-1');
        expect(erased.removed).toBe(rows.length - kept.length);
        expect(erased.text).toBe(`customer_id,order_id,amount${eol}${kept.map(line).join('')}`);
      }),
    );
  });

  it('compares only the customer id column when the header names one (an order id equal to the id stays)', () => {
    const text = 'Klantnummer;Ordernummer;Bedrag\nK-9;O-1;1,00\nK-1;K-9;2,00\n';
    expect(eraseFromCsv(text, matchCustomerId('K-9'))).toEqual({
      text: 'Klantnummer;Ordernummer;Bedrag\nK-1;K-9;2,00\n',
      removed: 1,
    });
  });

  it('compares every field when no header names a customer id (no unknown name keeps a customer)', () => {
    const text = 'wie,wat\nK-9,x\ny,K-9\nz,w\n';
    expect(eraseFromCsv(text, matchCustomerId('K-9'))).toEqual({ text: 'wie,wat\nz,w\n', removed: 2 });
  });

  it('leaves a file without the customer as it was', () => {
    const text = 'customer_id,amount\nA,1\nB,2';
    expect(eraseFromCsv(text, matchCustomerId('C'))).toEqual({ text, removed: 0 });
  });
});

describe('eraseFromJsonLines and exports', () => {
  it('removes lines holding the id in any value, raw rejected lines included, and keeps blank lines', () => {
    const text = [
      JSON.stringify({ customerId: 'C-1', segment: 'A' }),
      JSON.stringify({ customerId: 'C-10', segment: 'A' }),
      JSON.stringify({ line: 4, raw: { customer_id: 'C-1', amount: 'x' }, reason: 'amount_invalid' }),
      JSON.stringify({ line: 5, raw: 'C-1;2025-01-01;"unterminated', reason: 'row_malformed' }),
      '',
      'not json, C-1, at all',
      'not json, C-12',
      '',
    ].join('\n');
    const erased = eraseFromJsonLines(text, matchCustomerId('C-1'));
    expect(erased.removed).toBe(4);
    expect(erased.text).toBe(
      [JSON.stringify({ customerId: 'C-10', segment: 'A' }), '', 'not json, C-12', ''].join('\n'),
    );
  });

  it('reads an export as JSON Lines or CSV the way the ingest detects it', () => {
    const jsonl = '{"customer_id":"C-1","amount":1}\n{"customer_id":"C-2","amount":2}\n';
    expect(eraseFromExport(jsonl, matchCustomerId('C-1'), 'orders.txt').text).toBe(
      '{"customer_id":"C-2","amount":2}\n',
    );
    const csv = '\uFEFFcustomer_id,amount\nC-1,1\nC-2,2\n';
    expect(eraseFromExport(csv, matchCustomerId('C-1'), 'orders.csv').text).toBe(
      '\uFEFFcustomer_id,amount\nC-2,2\n',
    );
  });

  it('finds an id in free text only as a whole token', () => {
    expect(containsIdToken('customer c-17 rejected', 'c-17')).toBe(true);
    expect(containsIdToken('"c-17"', 'c-17')).toBe(true);
    expect(containsIdToken('c-170;c-1', 'c-17')).toBe(false);
    expect(containsIdToken('xc-17', 'c-17')).toBe(false);
  });
});

describe('bucket layout for erasure', () => {
  it('searches every prefix but config/, derived from the prefix list', () => {
    expect([...PERSONAL_DATA_PREFIXES].sort()).toEqual(
      Object.values(BUCKET_PREFIXES)
        .filter((prefix) => prefix !== BUCKET_PREFIXES.config)
        .sort(),
    );
  });

  it('reads each kind of object in its format', () => {
    expect(personalDataFormatOf(incomingKey('shop', 'orders.csv.gz'))).toBe('export');
    expect(personalDataFormatOf(incomingKey('shop', 'orders.jsonl'))).toBe('export');
    expect(personalDataFormatOf(quarantineKeyFor('shop', 'i1', 'broken.xlsx'))).toBe('export');
    expect(personalDataFormatOf(cleanTransactionKey('shop', '2025-01-01', 'abc'))).toBe('parquet');
    expect(personalDataFormatOf(`${runOutputPrefix('r1', 'customer-summaries')}part-0.parquet`)).toBe(
      'parquet',
    );
    expect(personalDataFormatOf(rejectedKeyFor('shop', 'i1'))).toBe('jsonl');
    expect(personalDataFormatOf(partChangesKey('r1', 'runs/r1/customer-summaries/part-0.parquet'))).toBe(
      'jsonl',
    );
    expect(personalDataFormatOf(audienceKey('r1', 'win-back'))).toBe('csv');
    expect(personalDataFormatOf(suppressedKey('r1'))).toBe('json');
    expect(personalDataFormatOf(reportKey('r1'))).toBeNull();
    expect(personalDataFormatOf('config/sources/shop.json')).toBeNull();
  });
});
