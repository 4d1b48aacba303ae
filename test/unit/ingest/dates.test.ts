/**
 * Date and timestamp parsing: calendar arithmetic, ISO and configured formats, time zones across DST,
 * date-format sniffing, and the byte path agreeing with the text path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileDateFormat,
  DATE_NOT_A_DATE,
  DATE_OK,
  DATE_SHAPE_MISMATCH,
  daysFromCivil,
  newLocalDateTime,
  parseIsoDate,
  parsePlainIsoMillis,
  parsePlainIsoMillisAscii,
} from '#domain/ingest/date-format.ts';
import { createOrderTimestampParser, sniffDateFormat } from '#domain/ingest/order-timestamps.ts';
import { createLocalToUtc } from '#domain/ingest/zone.ts';

const ms = (iso: string) => Date.parse(iso);

describe('calendar arithmetic', () => {
  it('daysFromCivil agrees with Date.UTC for every day from 1900 to 2199', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2199 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        (y, m, d) => {
          expect(daysFromCivil(y, m, d) * 86_400_000).toBe(Date.UTC(y, m - 1, d));
        },
      ),
    );
  });
});

describe('ISO and compact dates', () => {
  const parser = createOrderTimestampParser(null, 'UTC');
  it.each([
    ['2025-03-14', '2025-03-14T00:00:00Z'],
    ['2025-03-14T10:30:00Z', '2025-03-14T10:30:00Z'],
    ['2025-03-14 10:30', '2025-03-14T10:30:00Z'],
    ['2025-03-14T10:30:00+01:00', '2025-03-14T09:30:00Z'],
    ['2025-03-14T10:30:00-0500', '2025-03-14T15:30:00Z'],
    ['2025-03-14T10:30:00.250Z', '2025-03-14T10:30:00.250Z'],
    ['2025-3-4', '2025-03-04T00:00:00Z'],
    ['2025/03/14', '2025-03-14T00:00:00Z'],
    ['20250314', '2025-03-14T00:00:00Z'],
    ['2024-02-29', '2024-02-29T00:00:00Z'],
    ['2025-03-14 10:30:00 UTC', '2025-03-14T10:30:00Z'],
  ])('%s', (text, iso) => {
    expect(parser.parse(text)).toBe(ms(iso) * 1000);
  });

  it('keeps microseconds', () => {
    expect(parser.parse('2025-03-14T10:30:00.123456Z')).toBe(ms('2025-03-14T10:30:00.123Z') * 1000 + 456);
  });

  it.each([
    ['2025-02-29', 'not_a_date'],
    ['2025-13-01', 'not_a_date'],
    ['2025-04-31', 'not_a_date'],
    ['2025-03-14T24:00', 'not_a_date'],
    ['20250230', 'not_a_date'],
    ['14-03-2025', 'unrecognised'],
    ['yesterday', 'unrecognised'],
    ['2025-03-14T10', 'unrecognised'],
    ['1899-12-31', 'out_of_range'],
    ['2200-01-01', 'out_of_range'],
  ])('%s is %s', (text, problem) => {
    expect(parser.parse(text)).toBe(problem);
  });
});

describe('configured formats', () => {
  it('reads dd-MM-yyyy with one- or two-digit parts and an optional time', () => {
    const format = compileDateFormat('dd-MM-yyyy');
    const out = newLocalDateTime();
    expect(format.parse('14-03-2025', out)).toBe(DATE_OK);
    expect([out.year, out.month, out.day]).toEqual([2025, 3, 14]);
    expect(format.parse('4-3-2025 9:05', out)).toBe(DATE_OK);
    expect([out.day, out.month, out.hour, out.minute]).toEqual([4, 3, 9, 5]);
    expect(format.parse('31-02-2025', out)).toBe(DATE_NOT_A_DATE);
    expect(format.parse('2025-03-14x', out)).toBe(DATE_SHAPE_MISMATCH);
  });

  it('reads US dates with AM/PM and quoted literals', () => {
    const out = newLocalDateTime();
    expect(compileDateFormat('MM/dd/yyyy').parse('03/14/2025 1:30 PM', out)).toBe(DATE_OK);
    expect([out.month, out.day, out.hour, out.minute]).toEqual([3, 14, 13, 30]);
    expect(compileDateFormat("yyyy-MM-dd'T'HH:mm").parse('2025-03-14T08:15', out)).toBe(DATE_OK);
    expect([out.hour, out.minute]).toEqual([8, 15]);
    expect(compileDateFormat('yyyyMMddHHmmss').parse('20250314081502', out)).toBe(DATE_OK);
    expect([out.day, out.hour, out.minute, out.second]).toEqual([14, 8, 15, 2]);
  });

  it('explains a wrong pattern', () => {
    expect(() => compileDateFormat('dd-mm-yyyy')).toThrow(
      /mm \(minutes\) but no MM \(month\); did you mean 'dd-MM-yyyy'/,
    );
    expect(() => compileDateFormat('DD-MM-YYYY')).toThrow(/unknown letter 'D'.*lower-case/);
    expect(() => compileDateFormat('dd-MM-yy')).toThrow(/year must be written yyyy/);
    expect(() => compileDateFormat('MM-yyyy')).toThrow(/has no day/);
  });

  it('prefers the built-in ISO forms and reports the configured format for impossible dates', () => {
    const parser = createOrderTimestampParser(compileDateFormat('dd-MM-yyyy'), 'UTC');
    expect(parser.parse('2025-03-14')).toBe(ms('2025-03-14') * 1000);
    expect(parser.parse('14-03-2025')).toBe(ms('2025-03-14') * 1000);
    expect(parser.parse('31-02-2025')).toBe('not_a_date');
    expect(parser.describe()).toContain('dd-MM-yyyy');
  });
});

describe('time zones', () => {
  it('converts Amsterdam wall-clock time in winter and summer', () => {
    const toUtc = createLocalToUtc('Europe/Amsterdam');
    expect(toUtc(ms('2025-01-15T12:00:00Z'))).toBe(ms('2025-01-15T11:00:00Z'));
    expect(toUtc(ms('2025-07-15T12:00:00Z'))).toBe(ms('2025-07-15T10:00:00Z'));
    expect(toUtc(ms('2025-03-14T00:00:00Z'))).toBe(ms('2025-03-13T23:00:00Z'));
  });

  it('resolves the skipped and the repeated hour like Temporal "compatible"', () => {
    const toUtc = createLocalToUtc('Europe/Amsterdam');
    // 2025-03-30 02:30 does not exist in Amsterdam (clocks jump 02:00 → 03:00): read as 03:30 CEST.
    expect(toUtc(ms('2025-03-30T02:30:00Z'))).toBe(ms('2025-03-30T01:30:00Z'));
    expect(toUtc(ms('2025-03-30T01:59:00Z'))).toBe(ms('2025-03-30T00:59:00Z'));
    expect(toUtc(ms('2025-03-30T03:00:00Z'))).toBe(ms('2025-03-30T01:00:00Z'));
    // 2025-10-26 02:30 happens twice (03:00 → 02:00): the earlier, CEST one.
    expect(toUtc(ms('2025-10-26T02:30:00Z'))).toBe(ms('2025-10-26T00:30:00Z'));
    expect(toUtc(ms('2025-10-26T03:30:00Z'))).toBe(ms('2025-10-26T02:30:00Z'));
  });

  it('matches Intl for random instants in several zones', () => {
    const zones = [
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Europe/London',
      'America/Sao_Paulo',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: ms('1950-01-01'), max: ms('2100-01-01') }),
        (zone, utc) => {
          const instant = Math.floor(utc / 60_000) * 60_000;
          const parts = new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
          }).formatToParts(instant);
          const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
          const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
          const back = createLocalToUtc(zone)(local);
          // The wall-clock time maps back to the instant, or (in a repeated hour) to the earlier twin.
          expect(back <= instant && instant - back <= 3_600_000).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('applies the zone only to values without an offset', () => {
    const parser = createOrderTimestampParser(null, 'America/New_York');
    expect(parser.parse('2025-07-04')).toBe(ms('2025-07-04T04:00:00Z') * 1000);
    expect(parser.parse('2025-07-04T12:00:00Z')).toBe(ms('2025-07-04T12:00:00Z') * 1000);
  });
});

describe('date format sniffing', () => {
  it('finds day-first and month-first from decisive values', () => {
    const dayFirst = sniffDateFormat(['01-02-2025', '13-02-2025']);
    expect('format' in dayFirst && dayFirst.format?.pattern).toBe('dd-MM-yyyy');
    const monthFirst = sniffDateFormat(['02/01/2025', '02/13/2025 10:00']);
    expect('format' in monthFirst && monthFirst.format?.pattern).toBe('MM/dd/yyyy');
    const dotted = sniffDateFormat(['01.02.2025']);
    expect('format' in dotted && dotted.format?.pattern).toBe('dd.MM.yyyy');
  });

  it('leaves ISO files alone and reports undecidable files', () => {
    expect(sniffDateFormat(['2025-03-14', '20250315'])).toEqual({ format: null });
    expect(sniffDateFormat(['03/04/2025', '05/06/2025'])).toEqual({ ambiguous: '03/04/2025' });
    expect(sniffDateFormat(['13/04/2025', '05/14/2025'])).toEqual({ ambiguous: '13/04/2025' });
  });

  it('lets a clear majority decide and leaves a few junk values to be rejected row by row', () => {
    const iso = Array.from({ length: 99 }, (_, i) => `2025-01-${String((i % 28) + 1).padStart(2, '0')}`);
    // A value that fits no reading among ISO dates: ISO only, not a refusal of the whole file.
    expect(sniffDateFormat([...iso, '31/31/2031'])).toEqual({ format: null });
    // One value that fits both readings among ISO dates is junk too.
    expect(sniffDateFormat([...iso, '03/04/2025'])).toEqual({ format: null });
    // One month-first value among many day-first ones.
    const dayFirst = Array.from({ length: 60 }, (_, i) => `${(i % 15) + 13}/03/2025`);
    const chosen = sniffDateFormat([...dayFirst, '12/31/2025']);
    expect('format' in chosen && chosen.format?.pattern).toBe('dd/MM/yyyy');
    const monthFirst = sniffDateFormat([...Array(60).fill('03/27/2025'), '27/03/2025', '31/31/2031']);
    expect('format' in monthFirst && monthFirst.format?.pattern).toBe('MM/dd/yyyy');
  });

  it('still refuses files where no reading has a clear majority', () => {
    // Every value fits both readings: ISO dates do not decide between them.
    const either = Array.from({ length: 40 }, (_, i) => `0${(i % 9) + 1}/0${(i % 7) + 1}/2025`);
    expect(sniffDateFormat([...either, '2025-03-01', '31/31/2031'])).toEqual({ ambiguous: '01/01/2025' });
    // More than a few values that fit both among ISO dates.
    const iso = Array.from({ length: 20 }, () => '2025-03-01');
    expect(sniffDateFormat([...iso, '03/04/2025', '05/06/2025'])).toEqual({ ambiguous: '03/04/2025' });
    // Day-first and month-first evidence in similar numbers.
    const mixed = [...Array(10).fill('13/04/2025'), ...Array(8).fill('04/13/2025')];
    expect(sniffDateFormat(mixed)).toEqual({ ambiguous: '13/04/2025' });
  });

  it('parseIsoDate never throws on arbitrary text', () => {
    const out = newLocalDateTime();
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        expect([DATE_OK, DATE_SHAPE_MISMATCH, DATE_NOT_A_DATE]).toContain(parseIsoDate(text, out));
      }),
    );
  });
});

describe('timestamps read from bytes', () => {
  const shapes = fc.oneof(
    fc.integer({ min: Date.UTC(1890, 0, 1), max: Date.UTC(2210, 0, 1) }).chain((t) => {
      const iso = new Date(t).toISOString();
      return fc.constantFrom(
        iso.slice(0, 10),
        iso.slice(0, 19),
        `${iso.slice(0, 19)}Z`,
        `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
        iso,
      );
    }),
    fc.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[Zz]?)?$/),
    fc.string({ unit: fc.constantFrom('2', '0', '9', '-', ':', 'T', 'Z', ' ', '/'), maxLength: 21 }),
  );

  it('parsePlainIsoMillisAscii reads bytes as parsePlainIsoMillis reads the text', () => {
    fc.assert(
      fc.property(shapes, (text) => {
        const bytes = Uint8Array.from(`,${text},`, (c) => c.charCodeAt(0));
        expect(parsePlainIsoMillisAscii(bytes, 1, bytes.length - 1)).toBe(parsePlainIsoMillis(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("parseAscii gives parse's result wherever it gives a number, in any time zone", () => {
    for (const zone of ['UTC', 'Europe/Amsterdam', 'America/New_York']) {
      const parser = createOrderTimestampParser(null, zone);
      fc.assert(
        fc.property(shapes, (text) => {
          const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
          const fromBytes = parser.parseAscii(bytes, 0, bytes.length);
          if (!Number.isNaN(fromBytes)) expect(fromBytes).toBe(parser.parse(text));
        }),
        { numRuns: 500 },
      );
    }
  });
});
