/**
 * Acceptance of `npm start` (`cvm up`): the real CLI in a child process, a fresh CVM_HOME, HTTP calls
 * against the port it serves, a file dropped into its inbox, Ctrl-C, and a second start on the same
 * state. Nothing is stubbed: s3rver, dynalite and DuckDB run inside the child as they do for a user.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerScore } from '#domain/score.ts';
import {
  customerScoreSchema,
  runRecordSchema,
  segmentCustomersPageSchema,
  segmentListSchema,
} from '#functions/api/schemas.ts';
import {
  type CvmUpProcess,
  dropIntoInbox,
  freePort,
  getJson,
  pollUntil,
  spawnCvmUp,
  startCvmUp,
  tempCvmHome,
} from '../support/cvm-up.ts';

/** The bundled sample (data/sample/orders.csv): CDNOW, 2,357 customers, 6,919 orders to 1998-06-30. */
const SAMPLE = { customers: 2357, orders: 6919, lastDate: '1998-06-30', currency: 'USD' };
const NEW_CUSTOMER = 'E2E-9901';

async function getParsed<T>(
  url: string,
  schema: { parse(value: unknown): T },
  cvm: CvmUpProcess,
): Promise<T> {
  const response = await getJson(url);
  expect(response.status, `GET ${url} → ${JSON.stringify(response.body)}\n${cvm.transcript()}`).toBe(200);
  return schema.parse(response.body);
}

describe('cvm up (npm start)', () => {
  let home: string;
  let cvm: CvmUpProcess | undefined;
  /** Set by the first test: the run the inbox drop produced, which a second start must reuse. */
  let latestRunId: string | undefined;

  beforeAll(async () => {
    home = await tempCvmHome('cvm-e2e-');
  });
  afterEach(async () => {
    await cvm?.kill();
    cvm = undefined;
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('first start ingests the sample, serves scores, takes an inbox drop and stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const started = await startCvmUp({ home, port, debounceMs: 200 });
    cvm = started.cvm;
    const { url } = started;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(existsSync(join(home, 'stack.json')), 'a running cvm up advertises its stack').toBe(true);

    const log = cvm.stderr();
    expect(log).toContain(
      `ingest bundled sample orders.csv — incoming/sample/orders.csv: ${SAMPLE.orders} rows, ${SAMPLE.orders} accepted, 0 rejected`,
    );
    expect(log).toMatch(/Holdout check \(\w+, calibration to \d{4}-\d{2}-\d{2}, holdout to 1998-06-30\)/);
    expect(log).toContain(`Report:  ${url}/report`);
    expect(log).toContain(`curl -s ${url}/segments`);

    // The segment overview: every sample customer in exactly one segment, shares adding up to 1.
    const overview = await getParsed(`${url}/segments`, segmentListSchema, cvm);
    expect(overview).toMatchObject({ asOf: SAMPLE.lastDate, currency: SAMPLE.currency });
    expect(overview.segments.reduce((n, s) => n + s.customers, 0)).toBe(SAMPLE.customers);
    expect(overview.segments.reduce((n, s) => n + s.shareOfValue, 0)).toBeCloseTo(1, 6);
    expect(log).toContain(`Run ${overview.runId} as of ${SAMPLE.lastDate}: ${SAMPLE.customers} customers`);

    const firstRun = await getParsed(`${url}/runs/current`, runRecordSchema, cvm);
    expect(firstRun).toMatchObject({
      runId: overview.runId,
      status: 'published',
      customers: SAMPLE.customers,
      previousRunId: null,
    });

    // A customer, found the way a client would: through the most valuable segment's first page.
    const top = [...overview.segments].sort((a, b) => b.totalClv - a.totalClv)[0]!;
    const page = await getParsed(
      `${url}/segments/${encodeURIComponent(top.segment)}/customers?limit=1`,
      segmentCustomersPageSchema,
      cvm,
    );
    expect(page.customers).toHaveLength(1);
    const listed = page.customers[0]!;
    expect(listed).toMatchObject({ segment: top.segment, runId: firstRun.runId });
    const customer = await getParsed(
      `${url}/customers/${encodeURIComponent(listed.customerId)}`,
      customerScoreSchema,
      cvm,
    );
    expect(customer).toEqual(listed);
    expect(customer.asOf).toBe(SAMPLE.lastDate);

    // A file without a customer column is refused as a whole: moved to inbox/.failed, no recalculation.
    dropIntoInbox(join(home, 'inbox'), 'broken.csv', 'order_id,order_date,amount\nX1,1998-06-01,10.00\n');
    await pollUntil(
      async () => (existsSync(join(home, 'inbox', '.failed', 'broken.csv')) ? true : undefined),
      {
        timeoutMs: 30_000,
        what: 'broken.csv to be moved to inbox/.failed',
        context: () => cvm!.transcript(),
      },
    );
    expect(cvm.stderr()).toMatch(
      /^✖ ingest broken\.csv \(source inbox\) — incoming\/inbox\/broken\.csv: .*failed: .*customer/im,
    );

    // A second export, dropped into inbox/<source>/: one new order of that customer, two of a new one.
    // Its source is the sample's own (`sample`): a drop under any other source is the user's own data,
    // and runs then leave the sample out (test/e2e/own-data.test.ts).
    dropIntoInbox(
      join(home, 'inbox', 'sample'),
      'orders-extra.csv',
      [
        'order_id,customer_id,order_date,amount,currency,quantity',
        `E2E000001,${customer.customerId},1998-06-20T12:00:00Z,31.50,USD,2`,
        `E2E000002,${NEW_CUSTOMER},1998-04-02T09:30:00Z,18.99,USD,1`,
        `E2E000003,${NEW_CUSTOMER},1998-06-15T17:45:00Z,42.00,USD,3`,
        '',
      ].join('\n'),
    );
    const secondRun = await pollUntil(
      async () => {
        const current = await getJson(`${url}/runs/current`);
        const run = runRecordSchema.safeParse(current.body);
        return run.success && run.data.runId !== firstRun.runId ? run.data : undefined;
      },
      {
        timeoutMs: 75_000,
        intervalMs: 300,
        what: 'a new current run after the inbox drop',
        context: () => cvm!.transcript(),
      },
    );
    expect(cvm.stderr()).toContain(
      'ingest orders-extra.csv (source sample) — incoming/sample/orders-extra.csv: 3 rows, 3 accepted, 0 rejected',
    );
    expect(secondRun).toMatchObject({
      status: 'published',
      customers: SAMPLE.customers + 1,
      previousRunId: firstRun.runId,
    });
    expect(secondRun.migration, 'a second run compares segments with the first').not.toBeNull();
    expect(existsSync(join(home, 'inbox', '.done', 'sample', 'orders-extra.csv'))).toBe(true);
    expect(existsSync(join(home, 'inbox', 'sample', 'orders-extra.csv'))).toBe(false);

    const updated: CustomerScore = await getParsed(
      `${url}/customers/${encodeURIComponent(customer.customerId)}`,
      customerScoreSchema,
      cvm,
    );
    expect(updated).toMatchObject({
      runId: secondRun.runId,
      historicOrders: customer.historicOrders + 1,
    });
    expect(updated.historicRevenue).toBeCloseTo(customer.historicRevenue + 31.5, 2);
    const newcomer = await getParsed(
      `${url}/customers/${encodeURIComponent(NEW_CUSTOMER)}`,
      customerScoreSchema,
      cvm,
    );
    expect(newcomer).toMatchObject({ runId: secondRun.runId, historicOrders: 2, frequency: 1 });
    expect(newcomer.historicRevenue).toBeCloseTo(60.99, 2);

    // Ctrl-C once the run is announced (the recalculation is over, nothing is cut short).
    await cvm.waitForOutput(new RegExp(`New run ${secondRun.runId} published`), 30_000, 'stderr');
    const exit = await cvm.interrupt(30_000);
    expect(exit, cvm.transcript()).toEqual({ code: 0, signal: null });
    expect(existsSync(join(home, 'stack.json')), 'stack.json is removed on a clean stop').toBe(false);
    latestRunId = secondRun.runId;
  }, 170_000);

  it('second start on the same home reuses the ingested data and the current run', async () => {
    expect(latestRunId, 'needs the state the first start left behind').toBeDefined();
    const port = await freePort();
    const started = await startCvmUp({ home, port, debounceMs: 200 });
    cvm = started.cvm;
    const { url } = started;

    const log = cvm.stderr();
    expect(log).toContain(`Reusing run ${latestRunId} from ${home}`);
    expect(log, 'nothing is ingested again').not.toMatch(/^(…|✔|✖) ingest /m);
    expect(log, 'no recalculation on a reuse').not.toMatch(/^(…|✔|✖) recalculation:/m);

    const current = await getParsed(`${url}/runs/current`, runRecordSchema, cvm);
    expect(current).toMatchObject({ runId: latestRunId, customers: SAMPLE.customers + 1 });
    const newcomer = await getParsed(
      `${url}/customers/${encodeURIComponent(NEW_CUSTOMER)}`,
      customerScoreSchema,
      cvm,
    );
    expect(newcomer.runId).toBe(latestRunId);

    const exit = await cvm.interrupt(30_000);
    expect(exit, cvm.transcript()).toEqual({ code: 0, signal: null });
    expect(existsSync(join(home, 'stack.json'))).toBe(false);
  }, 120_000);

  it('stops cleanly on a SIGINT sent the moment the readiness line appears', async () => {
    // Scripts stop `cvm up` as soon as they have what they need; the handler must already be there.
    const { cvm: quick } = await startCvmUp({ home, port: await freePort() });
    cvm = quick;
    const exit = await quick.interrupt(30_000);
    expect(exit, quick.transcript()).toEqual({ code: 0, signal: null });
    expect(quick.stderr()).toContain('Stopping…');
    expect(existsSync(join(home, 'stack.json'))).toBe(false);
  }, 120_000);

  it('Ctrl-C while a recalculation is still debounced stops at once and says the data waits', async () => {
    const { cvm: waiting, url } = await startCvmUp({ home, port: await freePort(), debounceMs: 600_000 });
    cvm = waiting;
    const before = runRecordSchema.parse((await getJson(`${url}/runs/current`)).body);
    dropIntoInbox(
      join(home, 'inbox'),
      'late-orders.csv',
      'order_id,customer_id,order_date,amount,currency,quantity\nE2E000010,0002,1998-06-28T10:00:00Z,12.00,USD,1\n',
    );
    await waiting.waitForOutput(/^✔ ingest late-orders\.csv .*1 accepted/m, 60_000, 'stderr');
    const exit = await waiting.interrupt(30_000);
    expect(exit, waiting.transcript()).toEqual({ code: 0, signal: null });
    expect(waiting.stderr()).toContain('ingested but not yet recalculated');
    expect(waiting.stderr(), 'no recalculation after Ctrl-C').not.toMatch(/^(…|✔|✖) recalculation:/m);
    expect(existsSync(join(home, 'inbox', '.done', 'late-orders.csv'))).toBe(true);
    expect(before.runId).toBe(latestRunId);
  }, 120_000);
});

describe('cvm up with its port taken', () => {
  let home: string;
  let blocker: Server;
  let cvm: CvmUpProcess | undefined;

  beforeAll(async () => {
    home = await tempCvmHome('cvm-e2e-port-');
    blocker = createServer();
    await new Promise<void>((resolveListen, reject) => {
      blocker.once('error', reject);
      blocker.listen(0, '127.0.0.1', () => resolveListen());
    });
  });
  afterAll(async () => {
    await cvm?.kill();
    await new Promise((r) => blocker.close(r));
    await rm(home, { recursive: true, force: true });
  });

  it('exits with code 2 and names the port, before touching any state', async () => {
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect(port).toBeGreaterThan(0);
    cvm = spawnCvmUp({ home, port });
    const exit = await cvm.exited;
    expect(exit, cvm.transcript()).toEqual({ code: 2, signal: null });
    expect(cvm.stderr()).toContain(`port ${port} on 127.0.0.1 is in use`);
    expect(cvm.stdout()).not.toMatch(/^serving /m);
    expect(existsSync(join(home, 's3')), 'no stack was started').toBe(false);
  }, 60_000);
});
