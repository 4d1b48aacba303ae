// Order-economics columns through the export parser: found by their English, Dutch and German
// headers or by configuration, every bad value a row reject with the domain's reason code, line and a
// message naming the field, and exports without such columns parsed exactly as before.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NO_ORDER_ECONOMICS,
  type OrderEconomics,
  orderNetContribution,
} from '#domain/economics/order-economics.ts';
import { orderEconomicsFromStored, storedOrderEconomics } from '#domain/economics/stored-order-economics.ts';
import { mapColumns } from '#domain/ingest/column-mapping.ts';
import { parseSourceConfig } from '#domain/ingest/source-config.ts';
import { parseExport } from './parse-export.ts';

/** Both readers (byte fast path and text) must give the same; returns the text reader's result. */
const parseBoth = (csv: string, config = {}) => {
  const text = parseExport(csv, { config, byteReader: false, chunkSize: 7 });
  const bytes = parseExport(csv, { config, byteReader: true, chunkSize: 7 });
  expect(bytes).toEqual(text);
  return text;
};

const economics = (partial: Partial<OrderEconomics>): OrderEconomics => ({
  ...NO_ORDER_ECONOMICS,
  ...partial,
});

describe('order-economics columns in an export', () => {
  it('maps English headers and carries the values on each accepted row', () => {
    const csv = [
      'customer_id,order_id,order_date,amount,cost,discount,shipping_cost,returned_amount,returned',
      'C1,O1,2025-01-05,100.00,40.00,5.00,4.95,,no',
      'C2,O2,2025-01-06,80.00,,-3.00,,20.00,',
      'C3,O3,2025-01-07,50.00,,,,,yes',
      'C4,O4,2025-01-08,60.00,,,,,',
    ].join('\n');
    const { accepted, rejected, summary } = parseBoth(csv);
    expect(rejected).toEqual([]);
    expect(summary.columns).toMatchObject({
      cost: 'cost',
      discount: 'discount',
      shipping_cost: 'shipping_cost',
      returned_amount: 'returned_amount',
      returned: 'returned',
    });
    expect(accepted.map((row) => row.economics)).toEqual([
      economics({ costCents: 4000, discountCents: 500, shippingCostCents: 495, returnedWhole: false }),
      economics({ discountCents: 300, returnedCents: 2000 }),
      economics({ returnedWhole: true }),
      economics({}),
    ]);
  });

  it('maps Dutch and German headers, with the file decimal comma and a rate as a percentage', () => {
    const dutch = [
      'klantnummer;ordernummer;besteldatum;bedrag;inkoopprijs;korting;verzendkosten;retourbedrag;geretourneerd',
      'K1;B1;2025-01-05;100,00;40,00;5,00;4,95;;nee',
      'K2;B2;2025-01-06;1.200,50;;;;1.200,50;ja',
    ].join('\n');
    const nl = parseBoth(dutch, { decimal: ',' });
    expect(nl.rejected).toEqual([]);
    expect(nl.accepted.map((row) => row.economics)).toEqual([
      economics({ costCents: 4000, discountCents: 500, shippingCostCents: 495, returnedWhole: false }),
      economics({ returnedCents: 120_050, returnedWhole: true }),
    ]);

    const german = [
      'Kundennummer;Bestellnummer;Bestelldatum;Betrag;Margensatz;Rabatt;Versandkosten;Retourniert',
      'D1;A1;2025-01-05;100,00;35 %;2,00;3,00;nein',
      'D2;A2;2025-01-06;50,00;0,4;;;',
    ].join('\n');
    const de = parseBoth(german, { decimal: ',' });
    expect(de.rejected).toEqual([]);
    expect(de.summary.columns).toMatchObject({ margin_rate: 'Margensatz', discount: 'Rabatt' });
    expect(de.accepted.map((row) => row.economics)).toEqual([
      economics({ marginRate: 0.35, discountCents: 200, shippingCostCents: 300, returnedWhole: false }),
      economics({ marginRate: 0.4 }),
    ]);
  });

  it('maps a configured header for an economics field, and refuses one that is not in the file', () => {
    const csv = 'customer_id,order_date,amount,Inkoop excl btw\nC1,2025-01-05,10.00,4.00\n';
    const config = parseSourceConfig({ columns: { cost: 'Inkoop excl btw' } }, 'config/sources/shop.json');
    expect(parseBoth(csv, config).accepted[0]!.economics).toEqual(economics({ costCents: 400 }));
    expect(() =>
      mapColumns(['customer_id', 'order_date', 'amount'], { cost: 'Inkoop' }, 'export.csv'),
    ).toThrow(/configured column cost = 'Inkoop' is not a header of the file/);
  });

  it('rejects bad values with the domain reason, the line and a message naming the field', () => {
    const csv = [
      'customer_id,order_id,order_date,amount,cost,margin,margin %,discount,shipping_cost,returned_amount,returned',
      'C1,O1,2025-01-05,100.00,-3.00,,,,,,', // line 2
      'C2,O2,2025-01-05,100.00,,120.00,,,,,', // 3
      'C3,O3,2025-01-05,100.00,,,35,,,,', // 4
      'C4,O4,2025-01-05,100.00,40.00,50.00,,,,,', // 5
      'C5,O5,2025-01-05,100.00,,,,5 euro,,,', // 6
      'C6,O6,2025-01-05,100.00,,,,,-4.95,,', // 7
      'C7,O7,2025-01-05,100.00,,,,,,150.00,', // 8
      'C8,O8,2025-01-05,100.00,,,,,,,maybe', // 9
      'C9,O9,2025-01-05,-20.00,,,,,,,yes', // 10
      'C10,O10,2025-01-05,100.00,,,,,,20.00,yes', // 11
      'C11,O11,2025-01-05,100.00,60.00,40.00,40 %,1.00,2.00,0.00,no', // 12: all agree
    ].join('\n');
    const { accepted, rejected } = parseBoth(csv);
    expect(rejected.map(({ line, reason }) => [line, reason])).toEqual([
      [2, 'cost_invalid'],
      [3, 'margin_amount_invalid'],
      [4, 'margin_rate_invalid'],
      [5, 'margin_conflict'],
      [6, 'discount_invalid'],
      [7, 'shipping_cost_invalid'],
      [8, 'returned_invalid'],
      [9, 'returned_invalid'],
      [10, 'returned_conflict'],
      [11, 'returned_conflict'],
    ]);
    expect(rejected[0]!.message).toBe("cost: '-3.00' is negative; the cost of goods is an amount ≥ 0");
    expect(rejected[2]!.message).toMatch(/^margin_rate: '35' is above 1/);
    expect(rejected[4]!.message).toMatch(/^discount: '5 euro' is not a valid amount/);
    expect(rejected[0]!.raw).toMatchObject({ customer_id: 'C1', cost: '-3.00' });
    expect(accepted.map((row) => row.customerId)).toEqual(['C11']);
  });

  it('checks a line item without an amount only on its own values', () => {
    const csv =
      'customer_id,order_id,order_date,amount,cost\nC1,O1,2025-01-05,10.00,4.00\nC1,O1,2025-01-05,,1.50\n';
    const { accepted, rejected } = parseBoth(csv);
    expect(rejected).toEqual([]);
    expect(accepted.map((row) => row.economics?.costCents)).toEqual([400, 150]);
  });

  it('reads economics from JSON Lines too', () => {
    const jsonl =
      '{"customer_id":"C1","order_date":"2025-01-05","amount":"10.00","cost":"4.00","returned":true}\n' +
      '{"customer_id":"C2","order_date":"2025-01-05","amount":"10.00","cost":"-1"}\n';
    const { accepted, rejected } = parseExport(jsonl, { fileName: 'export.jsonl' });
    expect(accepted[0]!.economics).toEqual(economics({ costCents: 400, returnedWhole: true }));
    expect(rejected.map((r) => [r.line, r.reason])).toEqual([[2, 'cost_invalid']]);
  });

  it('leaves rows of an export without economics columns without an economics property', () => {
    const csv = 'customer_id,order_id,order_date,amount,channel\nC1,O1,2025-01-05,10.00,web\n';
    const { accepted, summary } = parseBoth(csv);
    expect(Object.hasOwn(accepted[0]!, 'economics')).toBe(false);
    expect(Object.keys(summary.columns)).toEqual([
      'customer_id',
      'order_id',
      'order_ts',
      'amount',
      'channel',
    ]);
  });

  it('never takes a revenue header as an economics column (transaction fields map first)', () => {
    // 'value' is an amount alias, 'return value' an economics one: each keeps its own column.
    const csv = 'customer_id,order_date,value,return value\nC1,2025-01-05,10.00,2.00\n';
    const { accepted, summary } = parseBoth(csv);
    expect(summary.columns).toMatchObject({ amount: 'value', returned_amount: 'return value' });
    expect(accepted[0]!.amountCents).toBe(1000);
    expect(accepted[0]!.economics).toEqual(economics({ returnedCents: 200 }));
  });
});

describe('stored order economics', () => {
  it('keeps every order net contribution when the rate is resolved to an amount', () => {
    const cents = fc.option(fc.integer({ min: 0, max: 1e7 }), { nil: null });
    fc.assert(
      fc.property(
        fc.integer({ min: -1e7, max: 1e7 }),
        fc.record({
          costCents: cents,
          marginAmountCents: fc.option(fc.integer({ min: -1e7, max: 1e7 }), { nil: null }),
          marginRate: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
          discountCents: cents,
          shippingCostCents: cents,
          returnedCents: cents,
          returnedWhole: fc.option(fc.boolean(), { nil: null }),
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (amount, e, configuredRate, discountIncludedInAmount) => {
          const options = { configuredRate, discountIncludedInAmount };
          const stored = storedOrderEconomics(e, amount);
          const direct = orderNetContribution(amount, e, options);
          const back = orderNetContribution(amount, orderEconomicsFromStored(stored), options);
          expect(back.netCents + 0).toBe(direct.netCents + 0);
          expect(back.ownFigures).toBe(direct.ownFigures);
        },
      ),
    );
  });

  it('resolves the rate of a line item without an amount against 0', () => {
    expect(storedOrderEconomics(economics({ marginRate: 0.4 }), null).marginAmountCents).toBe(0);
    expect(storedOrderEconomics(economics({ marginRate: 0.35 }), 1001).marginAmountCents).toBe(350);
  });
});
