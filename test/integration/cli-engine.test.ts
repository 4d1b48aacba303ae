/**
 * The analyst CLI end to end: `cvm summarize` and `cvm fit` run as child processes on real files,
 * the way an analyst runs them.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdnowFixture, cvm, PROJECT_ROOT, parseCsv } from '#test-support/analyst-cli.ts';

const root = PROJECT_ROOT;
const fixture = cdnowFixture;
const work = mkdtempSync(join(tmpdir(), 'cvm-cli-engine-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('cvm summarize', () => {
  it('reproduces the published CDNOW summary from the raw transaction log (weeks, end 1997-09-30)', async () => {
    const out = join(work, 'summary.csv');
    const result = await cvm(
      'summarize',
      fixture('CDNOW_sample.txt'),
      '--observation-end',
      '1997-09-30',
      '--unit',
      'weeks',
      '--out',
      out,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('2357 customers');
    const ours = new Map(parseCsv(readFileSync(out, 'utf8')).map((r) => [Number(r['customer_id']), r]));
    const reference = parseCsv(readFileSync(fixture('cdnow_customers_summary.csv'), 'utf8'));
    const spend = new Map(
      parseCsv(readFileSync(fixture('cdnow_customers_summary_with_transactions.csv'), 'utf8')).map((r) => [
        r['ID'],
        r,
      ]),
    );
    expect(ours.size).toBe(reference.length);
    const close = (a: string | undefined, b: string | undefined) =>
      Math.abs(Number(a) - Number(b)) <= 0.005 + 1e-9;
    const mismatched = reference.filter((ref) => {
      const row = ours.get(Number(ref['ID']));
      return (
        !row ||
        row['frequency'] !== ref['frequency'] ||
        !close(row['recency'], ref['recency']) ||
        !close(row['T'], ref['T']) ||
        !close(row['monetary_value'], spend.get(ref['ID'])?.['zbar'])
      );
    });
    expect(mismatched).toEqual([]);
  });

  it('reads a CSV log with a header, splits calibration and holdout, and writes to stdout', async () => {
    const log = join(work, 'orders.csv');
    writeFileSync(
      log,
      'customer_id,date,amount\nc1,2024-01-01,10\nc1,2024-01-10,20.50\nc1,2024-02-05T10:00:00Z,30\nc2,2024-01-03,5\nc2,2024-01-03,-5\n',
    );
    const result = await cvm(
      'summarize',
      log,
      '--observation-end',
      '2024-02-29',
      '--calibration-end',
      '2024-01-31',
    );
    expect(result.code).toBe(0);
    expect(parseCsv(result.stdout)).toEqual([
      {
        customer_id: 'c1',
        frequency: '1',
        recency: '9',
        T: '30',
        monetary_value: '20.5',
        frequency_holdout: '1',
        monetary_value_holdout: '30',
        duration_holdout: '29',
      },
      {
        customer_id: 'c2',
        frequency: '0',
        recency: '0',
        T: '28',
        monetary_value: '0',
        frequency_holdout: '0',
        monetary_value_holdout: '0',
        duration_holdout: '29',
      },
    ]);
  });

  it('names file, line and field of a malformed row', async () => {
    const log = join(work, 'bad.csv');
    writeFileSync(log, 'customer_id,date,amount\nc1,2024-01-01,10\nc1,01/02/2024,5\n');
    const result = await cvm('summarize', log, '--observation-end', '2024-02-29');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${log}:3: field 'date'`);
  });

  it('rejects a missing or malformed observation end as a usage error', async () => {
    const result = await cvm('summarize', fixture('CDNOW_sample.txt'), '--observation-end', '30/09/1997');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--observation-end');
  });
});

describe('cvm fit', () => {
  it('prints exactly the documented JSON for BG/NBD with Gamma-Gamma spend', async () => {
    const result = await cvm('fit', fixture('cdnow_customers_summary_with_transactions.csv'), '--json');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(Object.keys(output)).toEqual([
      'model',
      'params',
      'logLikelihood',
      'converged',
      'customers',
      'standardErrors',
      'spend',
    ]);
    expect(output.model).toBe('bgnbd');
    expect(Object.keys(output.params)).toEqual(['r', 'alpha', 'a', 'b']);
    expect(output.params.r).toBeCloseTo(0.2426, 4);
    expect(output.params.alpha).toBeCloseTo(4.4136, 3);
    expect(Math.abs(output.logLikelihood - -9582.43)).toBeLessThan(0.01);
    expect(output.converged).toBe(true);
    expect(output.customers).toBe(2357);
    expect(Object.keys(output.standardErrors)).toEqual(['r', 'alpha', 'a', 'b']);
    expect(Object.keys(output.spend.params)).toEqual(['p', 'q', 'v']);
    expect(Math.abs(output.spend.params.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(output.spend.logLikelihood - -4055.92)).toBeLessThan(0.02);
  });

  it('fits MBG/NBD and Pareto/NBD on the lifetimes-named summary, without spend', async () => {
    const mbg = JSON.parse(
      (await cvm('fit', fixture('cdnow_customers_summary.csv'), '--model', 'mbgnbd', '--json')).stdout,
    );
    expect(Object.keys(mbg.params)).toEqual(['r', 'alpha', 'a', 'b']);
    expect(Number(mbg.params.r.toPrecision(3))).toBe(0.525);
    expect(mbg.spend).toBeNull();
    const pareto = JSON.parse(
      (await cvm('fit', fixture('cdnow_customers_summary.csv'), '--model', 'pareto', '--json')).stdout,
    );
    expect(Object.keys(pareto.params)).toEqual(['r', 'alpha', 's', 'beta']);
    expect(Math.abs(pareto.logLikelihood - -9594.97)).toBeLessThan(0.02);
  });

  it('prints a readable table by default and fits the output of summarize', async () => {
    const summary = join(work, 'for-fit.csv');
    await cvm(
      'summarize',
      fixture('CDNOW_sample.txt'),
      '--observation-end',
      '1997-09-30',
      '--unit',
      'weeks',
      '--out',
      summary,
    );
    const result = await cvm('fit', summary, '--penalizer', '0.001');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/parameter\s+estimate\s+std\. error/);
    expect(result.stdout).toMatch(/^alpha\s+\d/m);
    expect(result.stdout).toContain('gamma-gamma');
    expect(result.stdout).toContain('penalizer 0.001');
  });

  it('explains bad input: unknown model, recency beyond T, missing columns', async () => {
    expect((await cvm('fit', fixture('cdnow_customers_summary.csv'), '--model', 'nope')).code).toBe(2);
    const bad = join(work, 'bad-summary.csv');
    writeFileSync(bad, 'ID,frequency,recency,T\n1,2,40,38.86\n');
    const result = await cvm('fit', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}:2: field 'recency'`);
    const noColumns = join(work, 'no-columns.csv');
    writeFileSync(noColumns, 'a,b\n1,2\n');
    expect((await cvm('fit', noColumns)).stderr).toContain('frequency, recency, T');
  });
});

describe('cvm fit: donors, subscribers, units and identification', () => {
  const fixtureIn = (folder: string, name: string) => join(root, 'test/fixtures', folder, name);

  it('fits BG/BB to the donations summary (lifetimes column names) and prints alpha, beta, gamma, delta', async () => {
    const result = await cvm('fit', '--model', 'bgbb', fixtureIn('donations', 'donations.csv'), '--json');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { params: Record<string, number>; identified: boolean };
    expect(Object.keys(output.params)).toEqual(['alpha', 'beta', 'gamma', 'delta']);
    expect(Math.abs(output.params['alpha']! - 1.204)).toBeLessThan(0.01);
    expect(output.identified).toBe(true);
  });

  it('fits sBG to a cohort of customer_id, recency, T and prints gamma, delta', async () => {
    const result = await cvm('fit', '--model', 'sbg', fixtureIn('sbg', 'regular.csv'), '--json');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { params: Record<string, number> };
    expect(Object.keys(output.params)).toEqual(['gamma', 'delta']);
    expect(Math.abs(output.params['gamma']! - 0.704)).toBeLessThan(0.001);
  });

  it('Pareto/NBD on the CDNOW summary in days returns quickly with α in days', async () => {
    const out = join(work, 'days.csv');
    await cvm('summarize', fixture('CDNOW_sample.txt'), '--observation-end', '1997-09-30', '--out', out);
    const started = Date.now();
    const result = await cvm('fit', out, '--model', 'pareto', '--json');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { params: Record<string, number> };
    expect(output.params['alpha']! / 10.578).toBeCloseTo(7, 1);
  });

  it('all one-time buyers: exit 1 with a message naming the rule', async () => {
    const file = join(work, 'one-time.csv');
    writeFileSync(file, `frequency,recency,T\n${'0,0,10\n'.repeat(20)}`);
    const result = await cvm('fit', file, '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('one-time buyers');
  });

  it('a BG/BB row with recency beyond periods names file, line and field', async () => {
    const file = join(work, 'bad-bgbb.csv');
    writeFileSync(file, 'frequency,recency,periods,weights\n1,1,6,10\n2,9,6,3\n');
    const result = await cvm('fit', '--model', 'bgbb', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:3: recency`);
  });
});

describe('cvm predict', () => {
  const summary = fixture('cdnow_customers_summary_with_transactions.csv');
  const fitFile = join(work, 'fit.json');
  let fitted: { params: Record<string, number>; spend: { params: Record<string, number> } };

  it('cvm fit --out writes the fit file: model, params, unit, penalizer, spend, identified', async () => {
    const result = await cvm('fit', summary, '--out', fitFile, '--penalizer', '0');
    expect(result.code).toBe(0);
    fitted = JSON.parse(readFileSync(fitFile, 'utf8'));
    expect(fitted).toMatchObject({
      model: 'bgnbd',
      timeUnit: 'weeks',
      penalizer: 0,
      customers: 2357,
      identified: true,
      warnings: [],
      spend: { model: 'gamma-gamma' },
    });
    expect(Object.keys(fitted.params)).toEqual(['r', 'alpha', 'a', 'b']);
    expect(fitted.params['r']).toBeCloseTo(0.2426, 4);
    expect(Object.keys(fitted.spend.params)).toEqual(['p', 'q', 'v']);
  });

  it('scores every customer as CSV from the fit file (round trip), with P(X = n) columns', async () => {
    const out = join(work, 'scores.csv');
    const result = await cvm('predict', summary, '--params', fitFile, '--horizon', '39', '--out', out);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('2357 customers scored with bgnbd');
    const rows = parseCsv(readFileSync(out, 'utf8'));
    expect(rows).toHaveLength(2357);
    expect(Object.keys(rows[0]!)).toEqual([
      'customer_id',
      'p_alive',
      'expected_purchases',
      'p_no_purchase',
      'p_0',
      'p_1',
      'p_2',
      'p_3',
      'expected_spend',
      'clv',
    ]);
    // Customer 1 of the BTYD paper: x = 2, t_x = 30.43, T = 38.86; 1.226 purchases expected in 39 weeks.
    expect(rows[0]!['customer_id']).toBe('1');
    expect(Math.abs(Number(rows[0]!['expected_purchases']) - 1.226)).toBeLessThan(0.001);
    for (const row of rows.slice(0, 50)) {
      const p = [0, 1, 2, 3].map((n) => Number(row[`p_${n}`]));
      expect(p.reduce((s, v) => s + v, 0)).toBeLessThanOrEqual(1 + 1e-8);
      expect(row['p_no_purchase']).toBe(row['p_0']);
      expect(Number(row['clv'])).toBeGreaterThan(0);
    }
  });

  it('writes JSON Lines by the .jsonl extension, fitting first without --params; --max-n sets the columns', async () => {
    const out = join(work, 'scores.jsonl');
    const result = await cvm('predict', summary, '--out', out, '--max-n', '1', '--horizon', '39');
    expect(result.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2357);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual([
      'customer_id',
      'p_alive',
      'expected_purchases',
      'p_no_purchase',
      'p_0',
      'p_1',
      'expected_spend',
      'clv',
    ]);
    expect(first['customer_id']).toBe('1');
    expect(Math.abs((first['expected_purchases'] as number) - 1.226)).toBeLessThan(0.001);
  });

  it('writes CSV to standard output without --out; without spend there is no spend or CLV', async () => {
    const result = await cvm('predict', fixture('cdnow_customers_summary.csv'), '--model', 'pareto');
    expect(result.code).toBe(0);
    const rows = parseCsv(result.stdout);
    expect(rows).toHaveLength(2357);
    expect(Object.keys(rows[0]!)).not.toContain('clv');
    expect(result.stderr).toContain('no spend model');
  });

  it('scores BG/BB donors per row: P(alive), expected transactions, DERT', async () => {
    const donors = join(root, 'test/fixtures/donations/donations.csv');
    const bgbbFit = join(work, 'bgbb.json');
    expect((await cvm('fit', '--model', 'bgbb', donors, '--out', bgbbFit)).code).toBe(0);
    const result = await cvm('predict', donors, '--params', bgbbFit, '--horizon', '5');
    expect(result.code).toBe(0);
    const rows = parseCsv(result.stdout);
    expect(Object.keys(rows[0]!)).toEqual([
      'row',
      'frequency',
      'recency',
      'periods',
      'weights',
      'p_alive',
      'expected_transactions',
      'dert',
    ]);
    for (const row of rows) expect(Number(row['p_alive'])).toBeLessThanOrEqual(1);
  });

  it('scores an sBG cohort per row: cancelled subscribers have P(alive) 0, active ones DERL > 0', async () => {
    const cohort = join(root, 'test/fixtures/sbg/regular.csv');
    const result = await cvm(
      'predict',
      '--model',
      'sbg',
      cohort,
      '--horizon',
      '3',
      '--out',
      join(work, 'sbg.jsonl'),
    );
    expect(result.code).toBe(0);
    const rows = readFileSync(join(work, 'sbg.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, number>);
    expect(Object.keys(rows[0]!)).toEqual([
      'row',
      'recency',
      'T',
      'weights',
      'p_alive',
      'expected_renewals',
      'derl',
    ]);
    const cancelled = rows.filter((r) => r['recency']! < r['T']!);
    const active = rows.filter((r) => r['recency'] === r['T']);
    expect(cancelled.length).toBeGreaterThan(0);
    expect(active.length).toBeGreaterThan(0);
    for (const r of cancelled) expect([r['p_alive'], r['expected_renewals'], r['derl']]).toEqual([0, 0, 0]);
    for (const r of active) {
      expect(r['p_alive']).toBeGreaterThan(0);
      expect(r['expected_renewals']).toBeLessThanOrEqual(3);
      expect(r['derl']).toBeGreaterThan(0);
    }
  });

  it('a bad fit file: exit 1 naming the file and the field', async () => {
    const bad = join(work, 'bad-fit.json');
    writeFileSync(bad, JSON.stringify({ ...fitted, params: { r: 0.24, alpha: -1, a: 0.8 } }));
    const result = await cvm('predict', summary, '--params', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}: not a cvm fit file`);
    expect(result.stderr).toContain('params.alpha');
    expect(result.stderr).toContain('params.b: missing');
    const notJson = join(work, 'not-json.json');
    writeFileSync(notJson, '{"model":');
    expect((await cvm('predict', summary, '--params', notJson)).stderr).toContain(
      `${notJson}: not valid JSON`,
    );
    const other = await cvm('predict', summary, '--params', fitFile, '--model', 'pareto');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('holds a bgnbd fit');
  });

  it('rejects an output file that is neither .csv nor .jsonl', async () => {
    const result = await cvm('predict', summary, '--params', fitFile, '--out', join(work, 'scores.txt'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('.csv or .jsonl');
  });
});
