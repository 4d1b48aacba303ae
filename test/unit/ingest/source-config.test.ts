/**
 * Source configs and header mapping: the schema accepts the documented example and names bad fields;
 * headers map loosely, configured columns win, e-mails never become ids.
 */
import { describe, expect, it } from 'vitest';
import { mapColumns, normalizeHeader } from '#domain/ingest/column-mapping.ts';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import { parseSourceConfig, parseSourceConfigText } from '#domain/ingest/source-config.ts';

const ORIGIN = 'config/sources/shop.json';
const problem = (value: unknown) => {
  try {
    parseSourceConfig(value, ORIGIN);
  } catch (error) {
    expect(error).toBeInstanceOf(IngestFileError);
    expect((error as IngestFileError).code).toBe('config_invalid');
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
};

describe('sourceConfigSchema', () => {
  it('takes a currency symbol map and names a bad symbol or code', () => {
    expect(parseSourceConfig({ currencySymbols: { kr: 'SEK', $: 'CAD', 'Fr.': 'CHF' } }, ORIGIN)).toEqual({
      currencySymbols: { kr: 'SEK', $: 'CAD', 'Fr.': 'CHF' },
    });
    expect(problem({ currencySymbols: { kr: 'sek' } })).toContain(
      'currencySymbols.kr: must be a three-letter',
    );
    expect(problem({ currencySymbols: { kr: 'ABC' } })).toContain('currencySymbols.kr: is not an ISO 4217');
    expect(problem({ currencySymbols: { '1$': 'USD' } })).toContain('a symbol is 1–5 characters');
  });

  it('accepts the documented example and normalises delimiter and encoding', () => {
    const config = parseSourceConfigText(
      JSON.stringify({
        columns: {
          customer_id: 'Klantnummer',
          order_id: 'Ordernummer',
          order_ts: 'Besteldatum',
          amount: 'Bedrag',
          currency: 'Valuta',
        },
        delimiter: 'tab',
        encoding: 'latin1',
        decimal: ',',
        dateFormat: 'dd-MM-yyyy',
        timezone: 'Europe/Amsterdam',
        currency: 'EUR',
        maxRejectRatio: 0.2,
        dedupeExactRows: true,
      }),
      ORIGIN,
    );
    expect(config.delimiter).toBe('\t');
    expect(config.encoding).toBe('windows-1252');
    expect(parseSourceConfig({}, ORIGIN)).toEqual({});
  });

  it.each([
    [{ delimeter: ';' }, `${ORIGIN}: unknown field "delimeter"`],
    [{ columns: { customer: 'x' } }, `${ORIGIN}: columns: unknown field "customer"`],
    [{ columns: { amount: ' ' } }, 'columns.amount: must be the header name of a column in the export'],
    [{ delimiter: ':' }, 'delimiter: must be one of "," ";" "\\t" "|" (or "tab")'],
    [{ encoding: 'klingon' }, 'encoding: is not a text encoding'],
    [{ decimal: 'comma' }, 'decimal: must be "." or ","'],
    [
      { dateFormat: 'dd-mm-yyyy' },
      "dateFormat: date format 'dd-mm-yyyy' uses mm (minutes) but no MM (month); did you mean 'dd-MM-yyyy'?",
    ],
    [{ timezone: 'Europe/Amsterdamm' }, 'timezone: is not an IANA time zone'],
    [{ currency: 'euro' }, 'currency: must be a three-letter ISO 4217 code such as "EUR"'],
    [{ maxRejectRatio: 1.5 }, 'maxRejectRatio: must be between 0 and 1'],
    [{ maxRejectRatio: '0.2' }, 'maxRejectRatio: must be a number between 0 and 1'],
    [{ dedupeExactRows: 'yes' }, 'dedupeExactRows: must be true or false'],
  ])('%j → %s', (value, message) => {
    expect(problem(value)).toContain(message);
  });

  it('reports JSON syntax errors with the file name', () => {
    expect(() => parseSourceConfigText('{"delimiter": ";",}', ORIGIN)).toThrow(
      /^config\/sources\/shop.json: not valid JSON/,
    );
  });
});

describe('header mapping', () => {
  it('normalises case, accents, spaces and punctuation', () => {
    expect(normalizeHeader(' Customer ID ')).toBe('customerid');
    expect(normalizeHeader('Order-Date')).toBe('orderdate');
    expect(normalizeHeader('Währung')).toBe('wahrung');
    expect(normalizeHeader('Order #')).toBe('order');
  });

  it.each([
    [
      ['Klant ID', 'Besteldatum', 'Bedrag'],
      { customer_id: 'Klant ID', order_ts: 'Besteldatum', amount: 'Bedrag' },
    ],
    [
      ['klantnummer', 'ordernummer', 'datum', 'totaal', 'valuta', 'kanaal', 'aantal'],
      {
        customer_id: 'klantnummer',
        order_id: 'ordernummer',
        order_ts: 'datum',
        amount: 'totaal',
        currency: 'valuta',
        channel: 'kanaal',
        quantity: 'aantal',
      },
    ],
    [
      ['CUSTOMER', 'ORDER_DATE', 'REVENUE', 'QTY'],
      { customer_id: 'CUSTOMER', order_ts: 'ORDER_DATE', amount: 'REVENUE', quantity: 'QTY' },
    ],
    [
      ['customerid', 'date', 'order date', 'amount'],
      { customer_id: 'customerid', order_ts: 'order date', amount: 'amount' },
    ],
  ])('%j', (headers, columns) => {
    expect(mapColumns(headers, undefined, 'x.csv').columns).toEqual(columns);
  });

  it('never takes an e-mail address as the customer id', () => {
    expect(() => mapColumns(['email', 'date', 'amount'], undefined, 'x.csv')).toThrow(
      /no column for customer_id/,
    );
  });

  it('lets configured columns win over aliases, matching exactly or loosely', () => {
    const mapping = mapColumns(
      ['customer', 'account nr', 'date', 'amount'],
      { customer_id: 'Account_Nr' },
      'x.csv',
    );
    expect(mapping.columns.customer_id).toBe('account nr');
    expect(mapping.index.customer_id).toBe(1);
  });
});
