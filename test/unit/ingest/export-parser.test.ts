/**
 * The export parser on real-world cases: Dutch Excel exports, every reject reason with its line,
 * file-level problems, junk dates, mapping, row hashes and JSON Lines.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IngestFileError } from '#domain/ingest/export-parser.ts';
import { latin1, micros, parseExport, utf8 } from './parse-export.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/exports/parser/${name}`, import.meta.url)));

const fileError = (run: () => unknown): IngestFileError => {
  try {
    run();
  } catch (error) {
    if (error instanceof IngestFileError) return error;
    throw error;
  }
  throw new Error('expected an IngestFileError');
};

describe('Dutch Excel exports', () => {
  for (const [name, encoding] of [
    ['dutch-excel-1252.csv', 'windows-1252'],
    ['dutch-excel-utf8-bom.csv', 'utf-8'],
  ] as const) {
    it(`${name}: sniffs ; ${encoding} 1.234,56 dd-MM-yyyy and converts Amsterdam time to UTC`, () => {
      const { accepted, rejected, summary } = parseExport(fixture(name), {
        fileName: name,
        config: { timezone: 'Europe/Amsterdam' },
      });
      expect(summary).toEqual({
        rowsRead: 5,
        format: 'csv',
        delimiter: ';',
        encoding,
        decimal: ',',
        dateFormat: 'dd-MM-yyyy',
        columns: {
          customer_id: 'Klantnummer',
          order_id: 'Ordernummer',
          order_ts: 'Besteldatum',
          amount: 'Bedrag',
          currency: 'Valuta',
          channel: 'Kanaal',
          quantity: 'Aantal',
        },
      });
      expect(
        accepted.map((r) => [
          r.line,
          r.customerId,
          r.orderId,
          r.orderTsMicros,
          r.amountCents,
          r.channel,
          r.quantity,
        ]),
      ).toEqual([
        [2, 'K-1001', 'ORD-1', micros('2025-03-13T23:00:00Z'), 123456, 'webshop', 2],
        [3, 'K-1002', 'ORD-2', micros('2025-03-14T23:00:00Z'), -4995, 'winkel', 1],
        [5, 'K-1004', 'ORD-4', micros('2025-03-15T23:00:00Z'), 1250, 'webshop', 1],
        // 02:30 on the spring-forward night does not exist; it is read as 03:30 CEST.
        [7, 'K-1005', 'ORD-5', micros('2025-03-30T01:30:00Z'), 700, 'webshop', 1],
      ]);
      expect(rejected).toEqual([
        {
          line: 4,
          reason: 'order_ts_invalid',
          message: "order_ts: '31-02-2025' is not a valid date (format dd-MM-yyyy)",
          raw: {
            Klantnummer: 'K-1003',
            Ordernummer: 'ORD-3',
            Besteldatum: '31-02-2025',
            Bedrag: '10,00',
            Valuta: 'EUR',
            Kanaal: 'webshop',
            Aantal: '1',
            Omschrijving: 'ongeldige datum',
          },
        },
      ]);
    });
  }

  it('gives identical results whatever the chunk size', () => {
    const bytes = fixture('dutch-excel-1252.csv');
    const whole = parseExport(bytes);
    for (let size = 1; size <= 64; size++) expect(parseExport(bytes, { chunkSize: size })).toEqual(whole);
  });
});

describe('every reject reason', () => {
  const csv = [
    'customer_id,order_id,order_date,amount,currency,quantity', // 1
    'c1,o1,2025-03-14,10.00,EUR,1', // 2 accepted
    ',o2,2025-03-14,10.00,EUR,1', // 3
    'c3,o3,,10.00,EUR,1', // 4
    'c4,o4,14/03/2025x,10.00,EUR,1', // 5
    'c5,,2025-03-14,,EUR,1', // 6
    'c6,o6,2025-03-14,ten,EUR,1', // 7
    'c7,o7,2025-03-14,10.00,EU,1', // 8
    'c8,o8,2025-03-14,10.00,EUR,1.5', // 9
    'c9,o9,2025-03-14,10.00', // 10
    `c10,o10,2025-03-14,10.00,EUR,${'9'.repeat(70_000)}`, // 11
    'c11,o11,2025-03-14,,EUR,', // 12 accepted: an empty amount with an order id (a later line item)
    'c12,o12,1850-01-01,1.00,EUR,1', // 13
    'c13,o13,2025-03-14,1.00,"EUR"x,1', // 14
    'c14,o14,2025-03-14,"1,00', // 15 unterminated quote at the end of the file
  ].join('\n');

  it('rejects each row with its line, raw values and a message a person understands', () => {
    const { accepted, rejected, summary } = parseExport(csv);
    expect(accepted.map((r) => [r.line, r.amountCents])).toEqual([
      [2, 1000],
      [12, null],
    ]);
    expect(rejected.map((r) => [r.line, r.reason, r.message])).toEqual([
      [3, 'customer_id_missing', "customer_id (column 'customer_id') is empty"],
      [4, 'order_ts_missing', "order_ts (column 'order_date') is empty"],
      [
        5,
        'order_ts_invalid',
        expect.stringMatching(/^order_ts: '14\/03\/2025x' is not a date in a recognised format \(ISO 8601/),
      ],
      [
        6,
        'amount_missing',
        "amount (column 'amount') is empty and the row has no order_id, so it cannot be a line item of another row",
      ],
      [7, 'amount_invalid', "amount: 'ten' is not a valid amount: it has no digits"],
      [8, 'currency_invalid', "currency: 'EU' is not an ISO 4217 currency code (such as EUR, USD)"],
      [9, 'quantity_invalid', "quantity: '1.5' is not a whole number"],
      [10, 'row_malformed', "line 10 has 4 fields but the header has 6 (delimiter ',')"],
      [11, 'row_too_large', "field 'quantity' is longer than 64 KiB"],
      [13, 'order_ts_invalid', "order_ts: '1850-01-01' is outside the supported years 1900–2199"],
      [14, 'row_malformed', expect.stringContaining('unexpected text after the closing quote of field 5')],
      [15, 'row_malformed', 'unterminated quoted field starting at line 15: the file ends inside quotes'],
    ]);
    expect(rejected[0]!.raw).toEqual({
      customer_id: '',
      order_id: 'o2',
      order_date: '2025-03-14',
      amount: '10.00',
      currency: 'EUR',
      quantity: '1',
    });
    expect(rejected[7]!.raw).toBe('c9,o9,2025-03-14,10.00');
    expect(summary.rowsRead).toBe(accepted.length + rejected.length);
    expect(summary.rowsRead).toBe(14);
  });

  it('rejects a row over 1 MiB and resumes on the next line', () => {
    const text = `customer_id,order_date,amount\nc1,2025-01-01,"${'x'.repeat(1_100_000)}\nc2,2025-01-02,3.00\n`;
    const { accepted, rejected } = parseExport(text, { chunkSize: 100_000 });
    expect(rejected.map((r) => [r.line, r.reason])).toEqual([[2, 'row_too_large']]);
    expect((rejected[0]!.raw as string).length).toBeLessThan(2100);
    expect(accepted.map((r) => [r.line, r.customerId])).toEqual([[3, 'c2']]);
  });
});

describe('file-level problems', () => {
  it.each([
    ['an empty file', new Uint8Array(0), 'empty_file', /is empty/],
    ['only blank lines', utf8('\r\n \n\n'), 'empty_file', /no content/],
    [
      'a gzip stream under a .csv name',
      Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0),
      'format_unknown',
      /gzip-compressed/,
    ],
    ['an Excel workbook', Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0), 'format_unknown', /export the sheet as CSV/],
    ['binary data', Uint8Array.of(0x61, 0x2c, 0x00, 0x62, 0x0a), 'format_unknown', /binary data/],
    [
      'no customer column',
      utf8('email,date,amount\na@b.c,2025-01-01,1\n'),
      'columns_missing',
      /no column for customer_id.*Headers found: 'email', 'date', 'amount'/,
    ],
    [
      'a file that starts with data instead of a header row',
      utf8('1001,2025-01-01,9.95\n1002,2025-01-02,5\n'),
      'columns_missing',
      /first line looks like data, not a header row/,
    ],
    [
      'ambiguous decimals',
      utf8('customer,date,amount\nc,2025-01-01,1.500\nd,2025-01-01,2.000\n'),
      'decimal_ambiguous',
      /'1.500'.*set "decimal"/,
    ],
    [
      'ambiguous dates',
      utf8('customer,date,amount\nc,03/04/2025,1\n'),
      'date_format_ambiguous',
      /'03\/04\/2025'.*"dateFormat"/,
    ],
  ])('%s', (_what, bytes, code, message) => {
    const error = fileError(() => parseExport(bytes));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('says a whitespace-separated file without header (the raw CDNOW layout) is not read as an export', () => {
    const raw = new Uint8Array(
      readFileSync(new URL('../../fixtures/cdnow/CDNOW_sample.txt', import.meta.url)),
    );
    const error = fileError(() => parseExport(raw, { fileName: 'CDNOW_sample.txt' }));
    expect(error.code).toBe('columns_missing');
    expect(error.message).toMatch(
      /data separated by spaces, without a header row.*cvm summarize --format cdnow/,
    );
  });

  it('names a JSON array and a configured column that is not there', () => {
    expect(fileError(() => parseExport('[{"a":1}]', { fileName: 'x.json' })).message).toMatch(/JSON array/);
    const error = fileError(() =>
      parseExport('klant,datum,bedrag\n1,2025-01-01,1\n', { config: { columns: { amount: 'Totaal' } } }),
    );
    expect(error.code).toBe('columns_missing');
    expect(error.message).toMatch(/configured column amount = 'Totaal' is not a header of the file/);
  });

  it('uses the configured decimal and date format when the file cannot tell', () => {
    const { accepted } = parseExport('customer,date,amount\nc,03/04/2025,1.500\n', {
      config: { decimal: ',', dateFormat: 'MM/dd/yyyy' },
    });
    expect(accepted.map((r) => [r.orderTsMicros, r.amountCents])).toEqual([
      [micros('2025-03-04T00:00:00Z'), 150000],
    ]);
  });
});

describe('junk dates in an otherwise clear file', () => {
  const exportFixture = (name: string) =>
    new Uint8Array(readFileSync(new URL(`../../fixtures/exports/${name}`, import.meta.url)));

  it('rejects one impossible date among ISO dates instead of refusing the file', () => {
    const { accepted, rejected, summary } = parseExport(exportFixture('iso-with-junk-date.csv'), {
      fileName: 'iso-with-junk-date.csv',
    });
    expect(summary.rowsRead).toBe(60);
    expect(summary.dateFormat).toBeUndefined();
    expect(accepted).toHaveLength(59);
    expect(rejected).toEqual([
      {
        line: 38,
        reason: 'order_ts_invalid',
        message: expect.stringMatching(
          /^order_ts: '31\/31\/2031' is not a date in a recognised format \(ISO 8601/,
        ),
        raw: {
          customer_id: 'C2',
          order_id: 'O37',
          order_date: '31/31/2031',
          amount: '46.50',
          currency: 'EUR',
        },
      },
    ]);
  });

  it("reads a day-first file with one month-first date, naming the format in that row's reject", () => {
    const { accepted, rejected, summary } = parseExport(exportFixture('day-first-with-junk-date.csv'), {
      fileName: 'day-first-with-junk-date.csv',
    });
    expect(summary).toMatchObject({ rowsRead: 60, delimiter: ';', decimal: ',', dateFormat: 'dd/MM/yyyy' });
    expect(accepted).toHaveLength(59);
    expect(accepted[0]).toMatchObject({ line: 2, orderTsMicros: micros('2025-03-01T00:00:00Z') });
    expect(rejected.map((r) => [r.line, r.reason, r.message])).toEqual([
      [22, 'order_ts_invalid', "order_ts: '12/31/2025' is not a valid date (format dd/MM/yyyy)"],
    ]);
  });
});

describe('mapping and config', () => {
  it('maps configured columns, delimiter, currency and time zone', () => {
    const { accepted, summary } = parseExport('Who|When|Paid|Ref\nA1|2025-06-01 09:00|12.00|R1\n', {
      config: {
        columns: { customer_id: 'Who', order_ts: 'When', amount: 'paid', order_id: 'Ref' },
        delimiter: '|',
        currency: 'USD',
        timezone: 'America/New_York',
      },
    });
    expect(summary.columns).toEqual({
      customer_id: 'Who',
      order_id: 'Ref',
      order_ts: 'When',
      amount: 'Paid',
    });
    expect(accepted[0]).toMatchObject({
      customerId: 'A1',
      orderId: 'R1',
      currency: 'USD',
      orderTsMicros: micros('2025-06-01T13:00:00Z'),
    });
  });

  it("reads Excel's sep= line, CR-only line ends, and a header-only file", () => {
    const sep = parseExport('sep=;\r\nklant_id;datum;bedrag\r\nk;20250301;3,25\r\n');
    expect(sep.summary.delimiter).toBe(';');
    expect(sep.accepted.map((r) => [r.line, r.amountCents])).toEqual([[3, 325]]);
    const mac = parseExport('customer,date,amount\rc,2025-01-01,1.00\rd,2025-01-02,2.00\r');
    expect(mac.accepted.map((r) => r.line)).toEqual([2, 3]);
    expect(parseExport('customer,date,amount\r\n').summary.rowsRead).toBe(0);
  });

  it('takes currency symbols and lower-case codes, and the default currency for empty ones', () => {
    const { accepted } = parseExport(
      'customer,date,amount,currency\na,2025-01-01,1,€\nb,2025-01-01,1,usd\nc,2025-01-01,1,\n',
      {
        defaultCurrency: 'GBP',
      },
    );
    expect(accepted.map((r) => r.currency)).toEqual(['EUR', 'USD', 'GBP']);
  });
});

describe('order ids and row hashes', () => {
  it('generates the same order id for the same values whatever the formatting or column order', () => {
    const a = parseExport('customer,date,amount\nc1,2025-03-14,1234.50\n');
    const b = parseExport('bedrag;klant;datum\n1.234,50;c1;14-03-2025\n', {
      config: { dateFormat: 'dd-MM-yyyy' },
    });
    expect(a.accepted[0]!.orderIdGenerated).toBe(true);
    expect(a.accepted[0]!.orderId).toMatch(/^gen-[0-9a-f]{16}$/);
    expect(b.accepted[0]!.orderId).toBe(a.accepted[0]!.orderId);
  });

  it('gives exact duplicate lines one row hash and different lines different ones', () => {
    const { accepted } = parseExport(
      'customer,order,date,amount\nc,o,2025-01-01,1\nc,o,2025-01-01,1\nc,o,2025-01-01,2\n',
    );
    expect(accepted[0]!.rowHash).toBe(accepted[1]!.rowHash);
    expect(accepted[2]!.rowHash).not.toBe(accepted[0]!.rowHash);
  });
});

describe('JSON Lines', () => {
  it('maps keys like headers, keeps line numbers, and rejects bad lines', () => {
    const text = [
      '{"customer_id": 17, "order_id": "A-1", "order_ts": "2025-03-14T10:00:00Z", "total": 19.9, "channel": "app"}',
      '',
      '{"customer_id": "18", "order_ts": "2025-03-15", "total": "-5.00", "qty": 2}',
      'not json',
      '[1, 2]',
      '{"customer_id": "19", "order_ts": "2025-03-15", "total": {"value": 1}}',
    ].join('\n');
    const { accepted, rejected, summary } = parseExport(utf8(text), { fileName: 'orders.jsonl' });
    expect(summary).toMatchObject({ format: 'jsonl', rowsRead: 5, decimal: '.' });
    expect(summary.delimiter).toBeUndefined();
    expect(accepted.map((r) => [r.line, r.customerId, r.amountCents, r.channel, r.quantity])).toEqual([
      [1, '17', 1990, 'app', null],
      [3, '18', -500, null, 2],
    ]);
    expect(rejected.map((r) => [r.line, r.reason])).toEqual([
      [4, 'row_malformed'],
      [5, 'row_malformed'],
      [6, 'amount_invalid'],
    ]);
    expect(rejected[1]!.message).toBe('line 5: the line is valid JSON but not an object ({...})');
    expect(rejected[2]!.raw).toEqual({ customer_id: '19', order_ts: '2025-03-15', total: '{"value":1}' });
  });
});

describe('streaming past the sniffing window', () => {
  it('keeps decisions and line numbers across a 1 MB file fed in odd chunks', () => {
    const lines = ['klant;datum;bedrag'];
    for (let i = 0; i < 40_000; i++)
      lines.push(
        `k${i};${String((i % 28) + 1).padStart(2, '0')}-02-2025;${i},${String(i % 100).padStart(2, '0')}`,
      );
    lines.push('kx;29-02-2025;1,00');
    const bytes = latin1(`${lines.join('\r\n')}\r\nZoë;01-03-2025;2,00\r\n`);
    const { accepted, rejected, summary } = parseExport(bytes, { chunkSize: 9_999 });
    expect(bytes.length).toBeGreaterThan(900_000);
    expect(summary).toMatchObject({
      rowsRead: 40_002,
      delimiter: ';',
      decimal: ',',
      encoding: 'windows-1252',
    });
    expect(accepted).toHaveLength(40_001);
    expect(accepted[39_999]).toMatchObject({ line: 40_001, customerId: 'k39999', amountCents: 3_999_999 });
    expect(accepted[40_000]).toMatchObject({ line: 40_003, customerId: 'Zoë' });
    expect(rejected.map((r) => [r.line, r.message])).toEqual([
      [40_002, "order_ts: '29-02-2025' is not a valid date (format dd-MM-yyyy)"],
    ]);
  });
});
