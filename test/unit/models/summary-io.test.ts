/**
 * The byte-level summary reader and the prediction writer behind `cvm fit` and `cvm predict` at a
 * million customers: same numbers as a plain text parse, lines across read buffers, quoted ids.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readSummaryChunks, readSummaryFile } from '#adapters/csv-file.ts';
import { PredictionWriter } from '#adapters/predictions-file.ts';

const work = mkdtempSync(join(tmpdir(), 'cvm-summary-io-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('summary reader', () => {
  it('reads exactly what Number() reads, across 1 MB read buffers and chunk boundaries', () => {
    const rows: string[] = ['customer_id,frequency,recency,T,monetary_value'];
    const expected: number[][] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 60_000; i++) {
      const x = Math.floor(random() * 20);
      const T = Number((random() * 80).toFixed(6));
      const tx = x === 0 ? 0 : Math.min(T, Number((T * random()).toFixed(Math.floor(random() * 8))));
      const m = x === 0 ? 0 : Number((random() * 1000).toPrecision(1 + Math.floor(random() * 15)));
      rows.push(`id-${i},${x},${tx},${T},${m}`);
      expected.push([x, tx, T, m]);
    }
    const file = join(work, 'big.csv');
    writeFileSync(file, `${rows.join('\r\n')}\r\n`);
    const whole = readSummaryFile(file);
    expect(whole.x.length).toBe(60_000);
    expected.forEach(([x, tx, T, m], i) => {
      expect([whole.x[i], whole.tx[i], whole.T[i], whole.monetaryValue![i]]).toEqual([x, tx, T, m]);
    });
    expect(whole.ids![59_999]).toBe('id-59999');
    const lengths = [...readSummaryChunks(file, { chunkRows: 7_000, ids: false })].map((c) => c.length);
    expect(lengths.reduce((s, n) => s + n, 0)).toBe(60_000);
    expect(lengths[0]).toBe(7_000);
  });

  it('parses decimals byte by byte exactly as Number() does', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 17 }),
        (v, digits) => {
          const text = v.toFixed(digits);
          const file = join(work, 'one.csv');
          writeFileSync(file, `frequency,recency,T\n0,0,${text}\n`);
          expect(readSummaryFile(file).T[0]).toBe(Number(text));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles quoted ids, blank lines, spaces, exponents and a last line without newline', () => {
    const file = join(work, 'odd.csv');
    writeFileSync(file, 'ID,x,t_x,T,zbar\n"a,1",2, 3.5 ,1e1,+4\n\n  \nb,0,0,2.,0');
    const s = readSummaryFile(file);
    expect(s.ids).toEqual(['a,1', 'b']);
    expect([...s.x]).toEqual([2, 0]);
    expect([...s.tx]).toEqual([3.5, 0]);
    expect([...s.T]).toEqual([10, 2]);
    expect([...s.monetaryValue!]).toEqual([4, 0]);
    writeFileSync(file, 'frequency,recency,T\n1,2,abc\n');
    expect(() => readSummaryFile(file)).toThrow(`${file}:2: field 'T': expected a number, got 'abc'`);
    writeFileSync(file, 'frequency,recency,T\n1,2\n');
    expect(() => readSummaryFile(file)).toThrow(`${file}:2: field 'T' is missing`);
  });
});

describe('prediction writer', () => {
  it('writes 9 decimals below 1, 6 below 1000, 3 above, tiny/huge values exactly, NaN as empty/null', () => {
    const values = Float64Array.from([
      0,
      1,
      0.5,
      1 / 3,
      2 / 3,
      0.999999999999,
      12.3456789,
      999.9999999,
      123456.789,
      -0.25,
      1e-7,
      3e15,
      Number.NaN,
    ]);
    const csv = join(work, 'out.csv');
    const writer = new PredictionWriter(csv, 'csv', 'customer_id', ['value']);
    writer.writeRows(
      Array.from(values, (_, i) => (i === 0 ? 'x,"y"' : `c${i}`)),
      [values],
      values.length,
    );
    writer.close();
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('customer_id,value');
    expect(lines[1]).toBe('"x,""y""",0');
    values.forEach((v, i) => {
      const field = lines[i + 1]!.slice(lines[i + 1]!.lastIndexOf(',') + 1);
      if (Number.isNaN(v)) expect(field).toBe('');
      else {
        const a = Math.abs(v);
        const bound = a < 1e-6 || a >= 1e12 ? 0 : a < 1 ? 5e-10 : a < 1000 ? 5e-7 : 5e-4;
        expect(Math.abs(Number(field) - v)).toBeLessThanOrEqual(bound);
      }
    });
    expect(lines[3]).toBe('c2,0.5');
    expect(lines[4]).toBe('c3,0.333333333');
    expect(lines[6]).toBe('c5,1');

    const jsonl = join(work, 'out.jsonl');
    const json = new PredictionWriter(jsonl, 'jsonl', 'row', ['a', 'b']);
    json.writeRows(null, [Float64Array.of(0.25, Number.NaN), Float64Array.of(2, 1e-9)], 2);
    json.close();
    expect(readFileSync(jsonl, 'utf8')).toBe('{"row":1,"a":0.25,"b":2}\n{"row":2,"a":null,"b":1e-9}\n');
  });

  it('copies ids read as bytes through, quoting or escaping only the ids that need it', () => {
    const file = join(work, 'ids.csv');
    writeFileSync(
      file,
      'customer_id,frequency,recency,T\n"a,1",1,2,3\n  plain ,0,0,3\n"say ""hi""",0,0,1\nü\\x,0,0,2\n',
    );
    const [chunk] = [...readSummaryChunks(file, { ids: 'bytes' })];
    expect(chunk!.ids).toBeNull();
    const column = [Float64Array.of(1, 2, 3, 4)];
    const csv = join(work, 'ids-out.csv');
    const writer = new PredictionWriter(csv, 'csv', 'customer_id', ['v']);
    writer.writeRows(chunk!.idBytes, column, chunk!.length);
    writer.close();
    expect(readFileSync(csv, 'utf8')).toBe('customer_id,v\n"a,1",1\nplain,2\n"say ""hi""",3\nü\\x,4\n');
    const jsonl = join(work, 'ids-out.jsonl');
    const json = new PredictionWriter(jsonl, 'jsonl', 'customer_id', ['v']);
    json.writeRows(chunk!.idBytes, column, chunk!.length);
    json.close();
    const ids = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).customer_id);
    expect(ids).toEqual(['a,1', 'plain', 'say "hi"', 'ü\\x']);
  });

  it('any value reads back within half a unit of its last decimal', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e13, max: 1e13, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (list) => {
          const values = Float64Array.from(list);
          const file = join(work, 'values.csv');
          const writer = new PredictionWriter(file, 'csv', 'row', ['v']);
          writer.writeRows(null, [values], values.length);
          writer.close();
          const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
          lines.forEach((line, i) => {
            const v = values[i]!;
            const a = Math.abs(v);
            const bound = a < 1e-6 || a >= 1e12 ? 0 : a < 1 ? 5e-10 : a < 1000 ? 5e-7 : 5e-4;
            expect(Math.abs(Number(line.split(',')[1]) - v)).toBeLessThanOrEqual(bound * (1 + 1e-9));
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
