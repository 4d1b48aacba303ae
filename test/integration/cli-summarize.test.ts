/**
 * `cvm summarize` on the exports the ingest reads: header aliases, delimiters, decimal commas, a
 * `--config` column mapping, and the four-column layout of the full CDNOW master file.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdnowFixture, cvm, PROJECT_ROOT, parseCsv } from '#test-support/analyst-cli.ts';

const _root = PROJECT_ROOT;
const fixture = cdnowFixture;
const work = mkdtempSync(join(tmpdir(), 'cvm-cli-summarize-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** c1: first purchase 2024-01-01, repeats on 01-11 (12,50) and 01-21 (7,50); c2: one order. */
const DUTCH_ROWS = [
  ['c1', '2024-01-01', '10,00'],
  ['c1', '2024-01-11', '12,50'],
  ['c1', '2024-01-21', '7,50'],
  ['c2', '2024-01-05', '3,25'],
];
const DUTCH_SUMMARY = [
  { customer_id: 'c1', frequency: '2', recency: '20', T: '30', monetary_value: '10' },
  { customer_id: 'c2', frequency: '0', recency: '0', T: '26', monetary_value: '0' },
];

describe('cvm summarize reads exports the way the ingest does', () => {
  it('maps Dutch alias headers, sniffs the ; delimiter and reads decimal commas without a config', async () => {
    const log = write(
      'dutch.csv',
      `klantnummer;besteldatum;bedrag\n${DUTCH_ROWS.map((row) => row.join(';')).join('\n')}\n`,
    );
    const result = await cvm('summarize', log, '--observation-end', '2024-01-31');
    expect(result.stderr).not.toMatch(/error|expected/i);
    expect(result.code).toBe(0);
    expect(parseCsv(result.stdout)).toEqual(DUTCH_SUMMARY);
  });

  it('uses the columns, delimiter, decimal separator and date format of a --config mapping', async () => {
    const log = write(
      'dutch-mapped.csv',
      `Klant|Moment|Totaal incl. btw\n${DUTCH_ROWS.map(([id, date, amount]) => [id, date!.split('-').reverse().join('-'), amount].join('|')).join('\n')}\n`,
    );
    const config = write(
      'dutch-mapping.json',
      JSON.stringify({
        columns: { customer_id: 'Klant', order_ts: 'Moment', amount: 'Totaal incl. btw' },
        delimiter: '|',
        decimal: ',',
        dateFormat: 'dd-MM-yyyy',
      }),
    );
    const result = await cvm('summarize', log, '--observation-end', '2024-01-31', '--config', config);
    expect(result.stderr).not.toMatch(/error|expected/i);
    expect(result.code).toBe(0);
    expect(parseCsv(result.stdout)).toEqual(DUTCH_SUMMARY);
  });

  it('names the file, the missing field and the accepted headers when the header does not match', async () => {
    const log = write('unknown-header.csv', 'wie,wanneer,bedrag\nc1,2024-01-01,10\n');
    const result = await cvm('summarize', log, '--observation-end', '2024-01-31');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(log);
    expect(result.stderr).toContain('no column for customer_id (accepted headers: customerid');
    expect(result.stderr).toContain('columns.customer_id');
  });

  it('reads the retailer export "",Id,Date,Price through a --config column mapping', async () => {
    const log = write(
      'retailer.csv',
      '"",Id,Date,Price\n1,17850,2010-12-01,15.30\n2,17850,2010-12-08,20.34\n3,13047,2010-12-01,54.08\n',
    );
    const config = write(
      'retailer.json',
      JSON.stringify({ columns: { customer_id: 'Id', order_ts: 'Date', amount: 'Price' } }),
    );
    const withoutConfig = await cvm('summarize', log, '--observation-end', '2010-12-31');
    expect(withoutConfig.code).toBe(1);
    expect(withoutConfig.stderr).toContain('no column for amount');
    const result = await cvm('summarize', log, '--observation-end', '2010-12-31', '--config', config);
    expect(result.code).toBe(0);
    expect(parseCsv(result.stdout)).toEqual([
      { customer_id: '17850', frequency: '1', recency: '7', T: '30', monetary_value: '20.34' },
      { customer_id: '13047', frequency: '0', recency: '0', T: '30', monetary_value: '0' },
    ]);
  });

  it('refuses an invalid mapping file, naming the file and the field', async () => {
    const log = write('plain.csv', 'customer_id,date,amount\nc1,2024-01-01,10\n');
    const config = write('typo.json', JSON.stringify({ delimeter: ';' }));
    const result = await cvm('summarize', log, '--observation-end', '2024-01-31', '--config', config);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${config}: unknown field "delimeter"`);
  });

  it('reads the four-column layout of CDNOW_master.txt (customer id, yyyymmdd, quantity, amount)', async () => {
    const result = await cvm(
      'summarize',
      fixture('CDNOW_master_sample.txt'),
      '--observation-end',
      '1998-06-30',
    );
    expect(result.code).toBe(0);
    expect(parseCsv(result.stdout)).toEqual([
      { customer_id: '4', frequency: '3', recency: '345', T: '545', monetary_value: '23.723333' },
      { customer_id: '21', frequency: '1', recency: '12', T: '545', monetary_value: '11.77' },
      { customer_id: '50', frequency: '0', recency: '0', T: '545', monetary_value: '0' },
    ]);
  });
});
