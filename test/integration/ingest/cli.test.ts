/**
 * `cvm ingest`: a JSON report per file, exit codes for quarantined files, why a file failed, and refusal
 * of an invalid `--config` before anything is uploaded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '#infra/cli/commands/ingest.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/exports');

describe('cvm ingest', () => {
  let home: string;
  let previousHome: string | undefined;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'cvm-cli-ingest-'));
    previousHome = process.env.CVM_HOME;
    process.env.CVM_HOME = home;
  });
  afterAll(() => {
    if (previousHome === undefined) delete process.env.CVM_HOME;
    else process.env.CVM_HOME = previousHome;
    rmSync(home, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void err.push(args.join(' ')));
    return { out, err };
  }

  it('prints one JSON report per file and exits 0 when every file succeeded', async () => {
    const { out } = capture();
    const code = await run([
      join(fixtures, 'clean.csv'),
      join(fixtures, 'duplicates.csv'),
      '--source',
      'webshop',
      '--json',
    ]);
    expect(code).toBe(0);
    const reports = out.map((line) => JSON.parse(line));
    expect(reports).toEqual([
      {
        ingestId: expect.stringMatching(/^[0-9a-f]{24}$/),
        source: 'webshop',
        key: 'incoming/webshop/clean.csv',
        status: 'succeeded',
        rowsRead: 6,
        accepted: 6,
        rejected: 0,
        duplicates: 0,
        rejectReasons: {},
        amountTotals: { EUR: '245.45', USD: '1234.56' },
      },
      {
        ingestId: expect.stringMatching(/^[0-9a-f]{24}$/),
        source: 'webshop',
        key: 'incoming/webshop/duplicates.csv',
        status: 'succeeded',
        rowsRead: 9,
        accepted: 7,
        rejected: 0,
        duplicates: 2,
        rejectReasons: {},
        amountTotals: { EUR: '75.00' },
      },
    ]);
  });

  it('stores a --config mapping for the source and exits 1 when a file is quarantined', async () => {
    const config = join(home, 'strict.json');
    writeFileSync(config, JSON.stringify({ maxRejectRatio: 0.1, currency: 'USD' }));
    const { out } = capture();
    const code = await run([join(fixtures, 'rejects.csv'), '--source', 'strict', '--config', config]);
    expect(code).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('incoming/strict/rejects.csv: quarantined');
    expect(text).toContain('rows read 49 = accepted 40 + rejected 9 + duplicates 0');
    expect(text).toContain('top reject reasons: amount_invalid 1, amount_missing 1');
    expect(text).toMatch(/rejected rows: s3:\/\/cvm-local\/rejected\/strict\/[0-9a-f]{24}\.jsonl/);
  });

  it('--json says why a file failed, where it was quarantined and what it duplicates', async () => {
    const config = join(home, 'strict-json.json');
    writeFileSync(config, JSON.stringify({ maxRejectRatio: 0.1 }));
    const binary = join(home, 'binary.csv');
    writeFileSync(binary, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 256)));
    const copy = join(home, 'clean-again.csv');
    writeFileSync(copy, readFileSync(join(fixtures, 'clean.csv')));
    const { out } = capture();
    const code = await run([
      join(fixtures, 'rejects.csv'),
      binary,
      join(fixtures, 'clean.csv'),
      copy,
      '--source',
      'json-detail',
      '--config',
      config,
      '--json',
    ]);
    expect(code).toBe(1);
    const [quarantined, failed, first, again] = out.map((line) => JSON.parse(line));
    expect(quarantined).toMatchObject({
      status: 'quarantined',
      quarantineKey: expect.stringMatching(/^quarantine\/json-detail\/[0-9a-f]{24}\/rejects\.csv$/),
      message: expect.stringContaining('maxRejectRatio 0.1'),
    });
    expect(failed).toMatchObject({ status: 'failed', message: expect.stringContaining('binary data') });
    expect(first).not.toHaveProperty('message');
    expect(first).not.toHaveProperty('quarantineKey');
    expect(first).not.toHaveProperty('duplicateOfIngestId');
    expect(again).toMatchObject({
      status: 'succeeded',
      duplicateOfIngestId: first.ingestId,
      message: expect.stringContaining(`Same content as ingest ${first.ingestId}`),
    });
  });

  it('rejects an invalid --config before uploading anything, naming the field', async () => {
    const config = join(home, 'bad.json');
    writeFileSync(config, JSON.stringify({ delimeter: ';' }));
    const { err } = capture();
    const code = await run([join(fixtures, 'clean.csv'), '--config', config]);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('bad.json: unknown field "delimeter"');
  });

  it('--customers uploads under incoming/<source>/customers/ and ingests the file as customer attributes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvm-cli-customers-'));
    try {
      const file = join(dir, 'klanten.csv');
      writeFileSync(file, 'Klantnummer;Wervingskanaal;NPS\nK1;google;9\nK2;;12\n');
      const { out } = capture();
      expect(await run([file, '--source', 'crm', '--customers', '--json', '--config', configFile()])).toBe(0);
      const [report] = out.map((line) => JSON.parse(line));
      expect(report).toMatchObject({
        key: 'incoming/crm/customers/klanten.csv',
        status: 'succeeded',
        rowsRead: 2,
        accepted: 1,
        rejected: 1,
        rejectReasons: { satisfaction_invalid: 1 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    function configFile() {
      // One bad row of two would be quarantined under the default 20 % limit.
      const path = join(dir, 'crm.json');
      writeFileSync(path, JSON.stringify({ maxRejectRatio: 0.6 }));
      return path;
    }
  });

  it('--subscriptions uploads under incoming/<source>/subscriptions/ and ingests the file as memberships', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvm-cli-subscriptions-'));
    try {
      const file = join(dir, 'leden.csv');
      writeFileSync(
        file,
        'lidnummer;startdatum;opzegdatum;contributie\nL1;2021-03-15;;60,00\nL2;2021-03-15;2022-01-31;60,00\nL3;2022-05-01;2021-05-01;60,00\n',
      );
      const { out } = capture();
      const config = join(dir, 'club.json');
      writeFileSync(config, JSON.stringify({ maxRejectRatio: 0.5 }));
      expect(await run([file, '--source', 'club', '--subscriptions', '--json', '--config', config])).toBe(0);
      const [report] = out.map((line) => JSON.parse(line));
      expect(report).toMatchObject({
        key: 'incoming/club/subscriptions/leden.csv',
        status: 'succeeded',
        rowsRead: 3,
        accepted: 2,
        rejected: 1,
        rejectReasons: { cancelled_before_started: 1 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses --customers together with --subscriptions', async () => {
    const { err } = capture();
    expect(await run([join(fixtures, 'clean.csv'), '--customers', '--subscriptions'])).toBe(2);
    expect(err.join('\n')).toContain('--customers and --subscriptions exclude each other');
  });

  it('explains its usage when no file is given', async () => {
    const { err } = capture();
    expect(await run([])).toBe(2);
    expect(err.join('\n')).toContain('Usage: cvm ingest <file...>');
  });
});
