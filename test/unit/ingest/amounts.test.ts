/**
 * Amount parsing: exact cents in either decimal style, currency symbols and codes, decimal-style
 * sniffing, and the ASCII fast path agreeing with the general rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AmountDetail,
  currencySymbolMap,
  decimalEvidence,
  parseAmountCents,
  parsePlainAmountCentsAscii,
  sniffDecimalSeparator,
} from '#domain/ingest/amounts.ts';

describe('parseAmountCents', () => {
  it.each([
    ['1234.56', '.', 123456],
    ['1,234.56', '.', 123456],
    ['1.234,56', ',', 123456],
    ['1234,56', ',', 123456],
    ['1 234,56', ',', 123456],
    ['1\u00a0234,56', ',', 123456],
    ["1'234.56", '.', 123456],
    ['1,234,567.8', '.', 123456780],
    ['-12.50', '.', -1250],
    ['12.50-', '.', -1250],
    ['(12.50)', '.', -1250],
    ['−3,00', ',', -300],
    ['+7', '.', 700],
    ['€ 12,95', ',', 1295],
    ['12.95 €', '.', 1295],
    ['-€5.00', '.', -500],
    ['$1,000', '.', 100000],
    ['0.5', '.', 50],
    ['.5', '.', 50],
    ['12.', '.', 1200],
    ['1.005', '.', 101],
    ['1.004', '.', 100],
    ['-1.005', '.', -101],
    ['19.999', '.', 2000],
    ['  42  ', '.', 4200],
    ['1.234', ',', 123400],
  ] as const)('%s with decimal %s → %i cents', (text, decimal, cents) => {
    expect(parseAmountCents(text, decimal)).toBe(cents);
  });

  it.each([
    ['', '.'],
    ['abc', '.'],
    ['12,3', '.'],
    ['1,23,456', '.'],
    ['1234.5', ','],
    ['1.2.3', '.'],
    ['--5', '.'],
    ['-(5)', '.'],
    ['1e5', '.'],
    ['.', '.'],
    ['12 34', '.'],
    ['1,234 567', '.'],
    ['99999999999999999999', '.'],
  ] as const)('rejects %j with decimal %s', (text, decimal) => {
    expect(parseAmountCents(text, decimal)).toBeNaN();
  });

  it('reads any integer-cents amount written in either style back exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e13, max: 1e13 }),
        fc.boolean(),
        fc.boolean(),
        (cents, comma, grouped) => {
          const abs = Math.abs(cents);
          let whole = String(Math.floor(abs / 100));
          if (grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, comma ? '.' : ',');
          const text = `${cents < 0 ? '-' : ''}${whole}${comma ? ',' : '.'}${String(abs % 100).padStart(2, '0')}`;
          expect(parseAmountCents(text, comma ? ',' : '.')).toBe(cents === 0 ? 0 : cents);
        },
      ),
    );
  });
});

describe('currency marks and problems', () => {
  it.each([
    ['€ 12,50', ',', 1250, 'EUR'],
    ['$1,234.00', '.', 123400, 'USD'],
    ['12,50 EUR', ',', 1250, 'EUR'],
    ['EUR 12.50', '.', 1250, 'EUR'],
    ['12.50eur', '.', 1250, 'EUR'],
    ['(12.50)', '.', -1250, null],
    ['(€12.50)', '.', -1250, 'EUR'],
    ['€ (12.50)', '.', -1250, 'EUR'],
    ['£7.25', '.', 725, 'GBP'],
    ['¥500', '.', 50000, 'JPY'],
    ['US$ 5', '.', 500, 'USD'],
    ['Fr. 5.00', '.', 500, 'CHF'],
    ['CHF 5.00', '.', 500, 'CHF'],
    ['-$4.00', '.', -400, 'USD'],
    ['12.00 € -', '.', -1200, 'EUR'],
    ['€ 5 EUR', '.', 500, 'EUR'],
    ['1234.56', '.', 123456, null],
  ] as const)('%s with decimal %s → %i cents in %s', (text, decimal, cents, currency) => {
    const detail: AmountDetail = { currency: 'stale', problem: '' };
    expect(parseAmountCents(text, decimal, detail)).toBe(cents);
    expect(detail.currency).toBe(currency);
  });

  it.each([
    ['12..5', '.', "more than one decimal separator '.'"],
    ['12.3.4', '.', "more than one decimal separator '.'"],
    [
      '1,2,3',
      '.',
      "the thousands separator ',' must be followed by groups of three digits (decimal separator '.' in this file)",
    ],
    [
      '12,5',
      '.',
      "the thousands separator ',' must be followed by groups of three digits (decimal separator '.' in this file)",
    ],
    ['ten', '.', 'it has no digits'],
    ['€', '.', 'it has no digits'],
    ['12.50 abc', '.', "'abc' is not a currency symbol or code"],
    ['kr 12', '.', "'kr' is not a currency symbol or code"],
    ['€ 5 USD', '.', 'it names two currencies (EUR and USD)'],
    ['--5', '.', 'it has more than one sign'],
    ['-(5)', '.', 'it has more than one sign'],
    ['(5', '.', 'its parentheses do not match'],
    ['1e5', '.', "unexpected 'e' after the digits"],
    ['99999999999999999999', '.', 'it is too large'],
  ] as const)('%s with decimal %s: %s', (text, decimal, problem) => {
    const detail: AmountDetail = { currency: null, problem: '' };
    expect(parseAmountCents(text, decimal, detail)).toBeNaN();
    expect(detail.problem).toBe(problem);
  });

  it('takes symbols from a map that a source config can extend or override', () => {
    const symbols = currencySymbolMap({ $: 'CAD', kr: 'SEK' });
    const detail: AmountDetail = { currency: null, problem: '' };
    expect(parseAmountCents('$5', '.', detail, symbols)).toBe(500);
    expect(detail.currency).toBe('CAD');
    expect(parseAmountCents('5 kr', '.', detail, symbols)).toBe(500);
    expect(detail.currency).toBe('SEK');
    expect(parseAmountCents('£5', '.', detail, symbols)).toBe(500);
    expect(detail.currency).toBe('GBP');
    expect(parseAmountCents('constructor 5', '.', detail, symbols)).toBeNaN();
  });
});

describe('decimal sniffing', () => {
  it.each([
    ['1.234,56', ','],
    ['1,234.56', '.'],
    ['12,5', ','],
    ['12.50', '.'],
    ['1.234.567', ','],
    ['1,234,567', '.'],
    ['1.234', 'ambiguous'],
    ['1,234', 'ambiguous'],
    ['1234', 'none'],
    ['12..5', 'none'],
    ['12.3.4', 'none'],
    ['€ 12,50', ','],
    ['12,50 EUR', ','],
  ] as const)('%s says %s', (text, evidence) => {
    expect(decimalEvidence(text)).toBe(evidence);
  });

  it('decides unanimous evidence, falls back to config, and reports ambiguity', () => {
    expect(sniffDecimalSeparator(['12', '1.500', '3,25'], undefined)).toEqual({
      decimal: ',',
      sniffed: true,
    });
    expect(sniffDecimalSeparator(['12', '13'], undefined)).toEqual({ decimal: '.', sniffed: false });
    expect(sniffDecimalSeparator(['1.500', '2.000'], ',')).toEqual({ decimal: ',', sniffed: false });
    expect(sniffDecimalSeparator(['1.500', '2.000'], undefined)).toEqual({
      decimal: null,
      example: "'1.500'",
    });
    expect(sniffDecimalSeparator(['1.50', '2,25'], undefined)).toEqual({
      decimal: null,
      example: "'1.50' and '2,25'",
    });
  });

  it('lets a clear majority decide: at least ten values, and at most one in fifty against them', () => {
    const dots = Array.from({ length: 10 }, (_, i) => `${i}.50`);
    expect(sniffDecimalSeparator([...dots, '2,25'], undefined)).toEqual({ decimal: '.', sniffed: true });
    expect(sniffDecimalSeparator([...dots.slice(1), '2,25'], undefined)).toMatchObject({ decimal: null });
    expect(sniffDecimalSeparator([...dots, '2,25', '3,25'], undefined)).toMatchObject({ decimal: null });
    const many = Array.from({ length: 100 }, (_, i) => `${i},50`);
    expect(sniffDecimalSeparator([...many, '1.25', '2.25'], undefined)).toEqual({
      decimal: ',',
      sniffed: true,
    });
    // Junk says nothing either way.
    expect(sniffDecimalSeparator(['1.50', '12..5', '1.2.3', 'abc'], undefined)).toEqual({
      decimal: '.',
      sniffed: true,
    });
  });
});

describe('plain amounts (digits, separator, two digits)', () => {
  it('read as exact cents with either separator, like the general rules', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 9_999_999_999_999n }),
        fc.integer({ min: 0, max: 99 }),
        fc.constantFrom('.', ',') as fc.Arbitrary<'.' | ','>,
        fc.integer({ min: 0, max: 3 }),
        (whole, cents, decimal, leadingZeros) => {
          const text = `${'0'.repeat(leadingZeros)}${whole}${decimal}${String(cents).padStart(2, '0')}`;
          expect(parseAmountCents(text, decimal)).toBe(Number(whole * 100n + BigInt(cents)));
          // With the other separator the last two digits are a malformed thousands group: not an amount.
          const other = decimal === '.' ? ',' : '.';
          expect(parseAmountCents(`${whole}${other}${String(cents).padStart(2, '0')}`, decimal)).toBeNaN();
        },
      ),
    );
  });
});

describe('parsePlainAmountCentsAscii', () => {
  it('returns the cents parseAmountCents gives, or -1 and leaves the text to it', () => {
    const text = fc.oneof(
      fc.stringMatching(/^-?[0-9]{0,14}[.,][0-9]{0,3}$/),
      fc.string({ unit: fc.constantFrom('0', '1', '9', '.', ',', '-', ' ', 'a', '/', ':'), maxLength: 18 }),
    );
    fc.assert(
      fc.property(text, fc.constantFrom('.', ',') as fc.Arbitrary<'.' | ','>, (value, decimal) => {
        const bytes = Uint8Array.from(` ${value} `, (c) => c.charCodeAt(0));
        const cents = parsePlainAmountCentsAscii(bytes, 1, bytes.length - 1, decimal);
        if (cents !== -1) expect(cents).toBe(parseAmountCents(value, decimal));
      }),
      { numRuns: 2000 },
    );
    const bytes = Uint8Array.from('x1234.56', (c) => c.charCodeAt(0));
    expect(parsePlainAmountCentsAscii(bytes, 1, 8, '.')).toBe(123456);
    expect(parsePlainAmountCentsAscii(bytes, 1, 8, ',')).toBe(-1);
  });
});
