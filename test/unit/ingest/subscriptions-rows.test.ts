/**
 * The subscriptions export's columns and rows: English, Dutch and German headers, and one reject
 * reason per bad row (each message names the field).
 */
import { describe, expect, it } from 'vitest';
import { currencySymbolMap, DEFAULT_CURRENCY_SYMBOLS } from '#domain/ingest/amounts.ts';
import { createOrderTimestampParser } from '#domain/ingest/order-timestamps.ts';
import { cleanSubscriptionRow, mapSubscriptionColumns } from '#domain/subscriptions/subscriptions.ts';

const HEADERS = ['member_id', 'started_at', 'cancelled_at', 'fee', 'currency'];

function clean(fields: string[]) {
  return cleanSubscriptionRow(fields, 7, {
    mapping: mapSubscriptionColumns(HEADERS, undefined, 'members.csv'),
    decimal: '.',
    timestamps: createOrderTimestampParser(null, 'UTC'),
    currency: 'EUR',
    currencySymbols: currencySymbolMap(DEFAULT_CURRENCY_SYMBOLS),
  });
}

describe('subscriptions export', () => {
  it('maps English, Dutch and German headers', () => {
    expect(
      mapSubscriptionColumns(['Lid', 'Ingangsdatum', 'Einddatum', 'Contributie'], undefined, 'f.csv'),
    ).toMatchObject({
      customer_id: 0,
      started_at: 1,
      cancelled_at: 2,
      fee: 3,
      currency: -1,
    });
    expect(
      mapSubscriptionColumns(
        ['Kundennummer', 'Beginndatum', 'Kündigungsdatum', 'Beitrag', 'Tarif'],
        undefined,
        'f.csv',
      ),
    ).toMatchObject({ customer_id: 0, started_at: 1, cancelled_at: 2, fee: 3, plan: 4 });
    expect(
      mapSubscriptionColumns(['klantnummer', 'startdatum', 'opzegdatum'], undefined, 'f.csv'),
    ).toMatchObject({
      customer_id: 0,
      started_at: 1,
      cancelled_at: 2,
    });
  });

  it('refuses a file without a start column, naming the file and the headers found', () => {
    expect(() => mapSubscriptionColumns(['member_id', 'fee'], undefined, 'members.csv')).toThrow(
      /members\.csv: no column for started_at .*Headers found: 'member_id', 'fee'/,
    );
  });

  it('keeps an active membership and one cancelled later', () => {
    const active = clean(['m1', '2021-03-15', '', '60.00', '']);
    expect(active).toMatchObject({
      ok: true,
      row: { customerId: 'm1', cancelledAtMicros: null, feeCents: 6000, currency: 'EUR', line: 7 },
    });
    const cancelled = clean(['m2', '2021-03-15', '2023-01-31', '€40.00', '']);
    expect(cancelled).toMatchObject({ ok: true, row: { feeCents: 4000, currency: 'EUR' } });
    expect(clean(['m3', '2021-03-15', '', '', 'usd'])).toMatchObject({
      ok: true,
      row: { feeCents: null, currency: 'USD' },
    });
  });

  it('rejects each bad row with one reason naming the field', () => {
    const reasons: [string[], string, RegExp][] = [
      [['', '2021-03-15', '', '1', ''], 'customer_id_missing', /customer_id/],
      [['m', '', '', '1', ''], 'started_at_missing', /started_at/],
      [['m', '2021-02-30', '', '1', ''], 'started_at_invalid', /started_at: '2021-02-30'/],
      [['m', '2021-03-15', 'soon', '1', ''], 'cancelled_at_invalid', /cancelled_at: 'soon'/],
      [
        ['m', '2021-03-15', '2021-03-14', '1', ''],
        'cancelled_before_started',
        /cancelled_at '2021-03-14' is before started_at/,
      ],
      [['m', '2021-03-15', '', 'ten', ''], 'fee_invalid', /fee: 'ten'/],
      [['m', '2021-03-15', '', '-5.00', ''], 'fee_negative', /fee: '-5.00' is negative/],
      [['m', '2021-03-15', '', '5.00', 'euro'], 'currency_invalid', /currency: 'euro'/],
      [
        ['m', '2021-03-15', '', '$5.00', 'EUR'],
        'currency_mismatch',
        /fee '\$5.00' is in USD but currency says EUR/,
      ],
    ];
    for (const [fields, reason, message] of reasons) {
      const result = clean(fields);
      expect(result, reason).toMatchObject({ ok: false, reason });
      expect(result.ok ? '' : result.message, reason).toMatch(message);
    }
  });
});
