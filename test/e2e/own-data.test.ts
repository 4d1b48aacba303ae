/**
 * Acceptance of the first hour with one's own data: a fresh `cvm up` (bundled sample), then a
 * retailer's export with its mapping dropped into `inbox/<source>/`. The next published run must be
 * that export alone — its customers, its last day as the as-of date, its currency — and say that the
 * sample was left out. A second currency dropped next is left out, and the run says so too.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '#domain/run.ts';
import { runRecordSchema } from '#functions/api/schemas.ts';
import {
  type CvmUpProcess,
  dropIntoInbox,
  freePort,
  getJson,
  pollUntil,
  startCvmUp,
  tempCvmHome,
} from '../support/cvm-up.ts';
import { retailerExport } from '../support/export-generator.ts';

const RETAILER = retailerExport();
const US_SHOP = retailerExport({ customers: 40, orders: 90, currency: 'USD', idPrefix: 'US', seed: 7 });

describe('cvm up with your own export', () => {
  let home: string;
  let cvm: CvmUpProcess | undefined;

  beforeAll(async () => {
    home = await tempCvmHome('cvm-e2e-own-');
  });
  afterEach(async () => {
    await cvm?.kill();
    cvm = undefined;
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('publishes a run on the dropped export alone, as of its last day, in its currency, and says the sample was left out', async () => {
    const started = await startCvmUp({ home, port: await freePort(), debounceMs: 200 });
    cvm = started.cvm;
    const { url } = started;
    const current = async () => runRecordSchema.parse((await getJson(`${url}/runs/current`)).body);
    const sampleRun = await current();
    expect(sampleRun).toMatchObject({ currency: 'USD', asOf: '1998-06-30', customers: 2357 });

    const nextRun = (after: string, what: string) =>
      pollUntil<RunRecord>(
        async () => {
          const run = runRecordSchema.safeParse((await getJson(`${url}/runs/current`)).body);
          return run.success && run.data.runId !== after ? run.data : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 300, what, context: () => cvm!.transcript() },
      );

    const retailerInbox = join(home, 'inbox', 'retailer');
    dropIntoInbox(retailerInbox, 'mapping.json', JSON.stringify(RETAILER.mapping));
    await cvm.waitForOutput(/mapping for source retailer stored/, 30_000, 'stderr');
    const dropped = performance.now();
    dropIntoInbox(retailerInbox, 'export.csv', RETAILER.csv);
    const ownRun = await nextRun(sampleRun.runId, 'a run on the dropped export');
    const seconds = (performance.now() - dropped) / 1000;
    console.info(`own export: drop → published run in ${seconds.toFixed(1)} s`);
    expect(seconds, 'the usual few seconds (debounce 200 ms)').toBeLessThan(30);
    expect(ownRun).toMatchObject({
      status: 'published',
      customers: RETAILER.customers,
      asOf: RETAILER.lastDate,
      currency: 'EUR',
      sampleExcluded: true,
    });
    expect(ownRun.dataRange).toMatchObject({
      sources: ['retailer'],
      rows: RETAILER.orders,
      lastDate: RETAILER.lastDate,
    });
    await cvm.waitForOutput(new RegExp(`New run ${ownRun.runId} published`), 30_000, 'stderr');
    expect(cvm.stderr()).toContain(
      `ingest export.csv (source retailer) — incoming/retailer/export.csv: ${RETAILER.orders} rows, ${RETAILER.orders} accepted, 0 rejected`,
    );
    expect(cvm.stderr()).toMatch(/^Sample left out: the bundled sample \(source sample, 6,919 rows/m);
    const report = await fetch(`${url}/report`).then((r) => r.text());
    expect(report).toContain('data-panel="data"');
    expect(report.indexOf('data-panel="data"')).toBeLessThan(report.indexOf('data-chart='));

    // A second currency: left out (no fxRates), in the run record and in the output.
    const usInbox = join(home, 'inbox', 'us-shop');
    dropIntoInbox(usInbox, 'mapping.json', JSON.stringify(US_SHOP.mapping));
    await cvm.waitForOutput(/mapping for source us-shop stored/, 30_000, 'stderr');
    dropIntoInbox(usInbox, 'us.csv', US_SHOP.csv);
    const mixedRun = await nextRun(ownRun.runId, 'a run after the second currency');
    expect(mixedRun).toMatchObject({
      customers: RETAILER.customers,
      currency: 'EUR',
      asOf: RETAILER.lastDate,
    });
    expect(mixedRun.exclusions?.rows).toContainEqual({
      reason: 'currency',
      source: 'us-shop',
      currency: 'USD',
      rows: US_SHOP.orders,
      amount: Number(US_SHOP.amountCents) / 100,
    });
    await cvm.waitForOutput(new RegExp(`New run ${mixedRun.runId} published`), 30_000, 'stderr');
    expect(cvm.stderr()).toContain(`⚠ Left out ${US_SHOP.orders} rows in USD`);
    expect(cvm.stderr()).toContain(`Left out: ${US_SHOP.orders} rows (`);

    const exit = await cvm.interrupt(30_000);
    expect(exit, cvm.transcript()).toEqual({ code: 0, signal: null });
  }, 240_000);

  it('--no-sample removes the sample’s data; a start on an empty home ingests nothing', async () => {
    const empty = await tempCvmHome('cvm-e2e-empty-');
    try {
      const started = await startCvmUp({ home: empty, port: await freePort(), args: ['--no-sample'] });
      cvm = started.cvm;
      expect(cvm.stderr()).not.toMatch(/ingest bundled sample/);
      expect(cvm.stderr()).toContain('Nothing ingested yet');
      expect((await getJson(`${started.url}/runs/current`)).status).toBe(404);
      await cvm.interrupt(30_000);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    // On the home above: the sample's clean data goes, the next run reads the own data only.
    const again = await startCvmUp({ home, port: await freePort(), args: ['--no-sample'] });
    cvm = again.cvm;
    expect(cvm.stderr()).toMatch(/Removed the bundled sample's clean data \(1 files\)/);
    const exit = await cvm.interrupt(30_000);
    expect(exit, cvm.transcript()).toEqual({ code: 0, signal: null });
  }, 180_000);
});
