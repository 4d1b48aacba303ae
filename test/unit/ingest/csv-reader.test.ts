/**
 * The CSV and JSON Lines readers: quoting, line numbering, chunk independence, rejects that cost one
 * line, size limits, and delimiter sniffing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvReader, LineReader } from '#domain/ingest/csv-reader.ts';
import { sniffDelimiter } from '#domain/ingest/delimiter-sniffing.ts';

interface Read {
  rows: { line: number; fields: string[] }[];
  problems: { line: number; reason: string; message: string; raw: string }[];
}

function readCsv(text: string, delimiter = ',', chunkSize = text.length || 1, maxRowChars = 1 << 20): Read {
  const read: Read = { rows: [], problems: [] };
  const reader = new CsvReader(
    delimiter,
    {
      row: (fields, line) => read.rows.push({ line, fields }),
      malformed: (line, raw, reason, message) => read.problems.push({ line, raw, reason, message }),
    },
    maxRowChars,
  );
  for (let i = 0; i < text.length; i += chunkSize) reader.push(text.slice(i, i + chunkSize));
  reader.finish();
  return read;
}

/** RFC 4180 writer, the inverse of the reader for the property test. */
const writeField = (value: string, delimiter: string) =>
  /["\r\n]/.test(value) || value.includes(delimiter) || value.startsWith('"')
    ? `"${value.replace(/"/g, '""')}"`
    : value;

describe('CsvReader', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, numbering physical lines', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"multi\r\nline\nfield",z\r\n3,5" screen,w\r\n';
    expect(readCsv(text)).toEqual({
      rows: [
        { line: 1, fields: ['a', 'b', 'c'] },
        { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
        { line: 3, fields: ['2', 'multi\r\nline\nfield', 'z'] },
        { line: 6, fields: ['3', '5" screen', 'w'] },
      ],
      problems: [],
    });
  });

  it('gives the same rows whatever the chunk boundaries', () => {
    const text = 'a;b\n"1;\n2";"x"\r\n"";\n"q""";last';
    const whole = readCsv(text, ';');
    for (let size = 1; size < text.length; size++) expect(readCsv(text, ';', size)).toEqual(whole);
    expect(whole.rows.at(-1)).toEqual({ line: 5, fields: ['q"', 'last'] });
  });

  it('rejects text after a closing quote and carries on with the next line', () => {
    const read = readCsv('a,b\n"x"y,2\n3,4\n');
    expect(read.rows).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['3', '4'] },
    ]);
    expect(read.problems).toEqual([
      expect.objectContaining({
        line: 2,
        reason: 'row_malformed',
        raw: '"x"y,2',
        message: expect.stringContaining('closing quote'),
      }),
    ]);
  });

  it('an unterminated quote at the end costs one line, not the rest of the file', () => {
    const read = readCsv('a,b\n1,"oops\n2,3\n4,5\n');
    expect(read.problems).toEqual([
      expect.objectContaining({
        line: 2,
        reason: 'row_malformed',
        message: expect.stringContaining('unterminated'),
      }),
    ]);
    expect(read.rows.map((r) => r.line)).toEqual([1, 3, 4]);
  });

  it('rejects rows over the size limit and resumes at the next line, holding no more than the limit', () => {
    const long = 'x'.repeat(5000);
    for (const chunk of [7, 100, 100_000]) {
      const read = readCsv(`a,b\n1,${long}\n2,3\n"${long}\n4,5\n`, ',', chunk, 1000);
      expect(read.problems.map((p) => [p.line, p.reason])).toEqual([
        [2, 'row_too_large'],
        [4, 'row_too_large'],
      ]);
      expect(read.rows.map((r) => [r.line, r.fields])).toEqual([
        [1, ['a', 'b']],
        [3, ['2', '3']],
        [5, ['4', '5']],
      ]);
    }
  });

  it('round-trips any table written as RFC 4180, in any chunking', () => {
    const field = fc.string({
      unit: fc.constantFrom('a', 'b', ',', ';', '"', '\n', '\r', ' ', 'é', '😀'),
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.constantFrom(',', ';', '\t', '|'),
        fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 20 }),
        (delimiter, rows, chunk) => {
          // A row of one empty field is a blank line; make the first field non-empty to keep rows distinct.
          const table = rows.map((row) => [`k${row[0]}`, ...row.slice(1)]);
          const text = table
            .map((row) => row.map((f) => writeField(f, delimiter)).join(delimiter))
            .join('\r\n');
          const read = readCsv(text, delimiter, chunk);
          expect(read.problems).toEqual([]);
          expect(read.rows.map((r) => r.fields)).toEqual(table);
        },
      ),
    );
  });
});

describe('LineReader', () => {
  it('splits LF and CRLF lines and rejects oversized ones', () => {
    const lines: [number, string][] = [];
    const problems: number[] = [];
    const reader = new LineReader(
      { row: (text, line) => lines.push([line, text]), malformed: (line) => problems.push(line) },
      10,
    );
    for (const piece of ['{"a":1}\r\n', '', 'x'.repeat(30), '\n{"b"', ':2}']) reader.push(piece);
    reader.finish();
    expect(lines).toEqual([
      [1, '{"a":1}'],
      [3, '{"b":2}'],
    ]);
    expect(problems).toEqual([2]);
  });
});

describe('sniffDelimiter', () => {
  it.each([
    ['id,date,amount\n1,2025-01-01,3.5\n', ','],
    ['id;date;amount\n1;2025-01-01;3,5\n2;2025-01-02;"1,5"\n', ';'],
    ['id\tdate\tamount\n1\t2025-01-01\t3,5\n', '\t'],
    ['id|date|amount\n1|2025-01-01|3,5\n', '|'],
    ['"a,b";c;d\n1;2;3\n', ';'],
  ])('%j → %j', (text, delimiter) => {
    expect(sniffDelimiter(text)).toBe(delimiter);
  });
});
