/**
 * A membership administration's subscriptions export (start and cancellation per member) end to end:
 * the real ingest of `incoming/<source>/subscriptions/`, the local recalculation runner (contractual
 * family, sBG) and the read API. P(alive) is "still a member": 0 once the member has cancelled, also
 * when the cancellation falls in the as-of year; expected renewals and CLV follow an sBG computation
 * written here from the model's recursion, not the engine's code. A shop's transaction export in the
 * same bucket is of another family: the membership run lists it as left out, and a run of its own
 * family scores it and lists the members as left out.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportKey } from '#domain/bucket-layout.ts';
import { fitSbg } from '#domain/models/sbg.ts';
import { describeDataSelection } from '#domain/recalc/data-selection.ts';
import { defaultAsOf } from '#domain/recalc/settings.ts';
import { compressRfm } from '#domain/rfm-summary.ts';
import type { RunRecord } from '#domain/run.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { ingestFile } from '#infra/local/ingest-file.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ApiClient } from '../api/http-client.ts';
import { membershipSubscriptionsExport } from './family-exports.ts';
import { ingestSample } from './sample.ts';

const READ_KEY = 'read-key-for-subscription-tests';

/**
 * sBG survival ratio S(n + k) / S(n) from the model's recursion S(t) = S(t − 1) (δ + t − 1) /
 * (γ + δ + t − 1) (Fader & Hardie 2007, eq. 5 and 6).
 */
function survivalRatio(gamma: number, delta: number, n: number, k: number): number {
  let ratio = 1;
  for (let t = n + 1; t <= n + k; t++) ratio *= (delta + t - 1) / (gamma + delta + t - 1);
  return ratio;
}

describe('membership subscriptions export (sBG) end to end', { timeout: 300_000 }, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let record: RunRecord;
  let workDir: string;
  const members = membershipSubscriptionsExport();

  beforeAll(async () => {
    stack = await startLocalStack();
    workDir = await mkdtemp(join(tmpdir(), 'cvm-subscriptions-e2e-'));
    const file = join(workDir, 'leden.csv');
    writeFileSync(file, members.csv);
    const report = await ingestFile(stack, 'members', file, 'subscriptions');
    expect(report.status, report.message).toBe('succeeded');
    expect(report).toMatchObject({ accepted: members.rows, rejected: 0 });
    // A web shop's orders (the CDNOW sample) under another source: noncontractual-continuous.
    await ingestSample(stack, 'incoming/shop/orders.csv');
    // Fee payments of another club, without a subscriptions export: contractual (the run's family).
    const fees = join(workDir, 'fees.csv');
    writeFileSync(
      fees,
      'order_id,customer_id,order_date,amount,currency\nF1,C1,2007-03-01,50.00,USD\nF2,C1,2008-03-01,50.00,USD\n',
    );
    expect((await ingestFile(stack, 'fees', fees)).status).toBe('succeeded');
    const result = await runLocalRecalculation(stack, {
      asOf: '2008-12-31',
      config: {
        currency: 'USD',
        family: 'contractual',
        period: 'year',
        sources: { shop: { family: 'noncontractual-continuous' } },
      },
    });
    record = result.record;
    const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
    server = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const score = async (customerId: string) =>
    (await api.request('GET', `/customers/${customerId}`)).json as Record<string, number>;

  it('publishes an sBG run whose parameters equal a direct fit of the cohort (Fader & Hardie 2007)', () => {
    expect(record.status).toBe('published');
    expect(record.model).toMatchObject({ name: 'sbg', family: 'contractual', period: 'year' });
    const observed = members.histories;
    const direct = fitSbg(
      compressRfm(
        observed.map((h) => h.x),
        observed.map((h) => h.tx),
        observed.map((h) => h.n),
      ),
    );
    expect(record.model!.params.gamma).toBeCloseTo(direct.params.gamma, 5);
    expect(record.model!.params.delta).toBeCloseTo(direct.params.delta, 5);
    expect(record.model!.params.gamma).toBeCloseTo(0.704, 2);
    expect(record.model!.params.delta).toBeCloseTo(1.182, 2);
    // The 1,000 members and the one who joined in 2008.
    expect(record.customers).toBe(1001);
  });

  it('serves "still a member" as P(alive): 1 while a member (also with a cancellation dated after the as-of date), 0 after cancelling', async () => {
    const gamma = record.model!.params.gamma!;
    const delta = record.model!.params.delta!;
    // Members M0001.. are in the order of the cohort file; every fifth active one cancels in 2009.
    const activeIndex = members.histories.findIndex((h, i) => h.x === 7 && i % 5 !== 0);
    const noticeGiven = members.histories.findIndex((h, i) => h.x === 7 && i % 5 === 0);
    for (const index of [activeIndex, noticeGiven]) {
      const member = await score(members.histories[index]!.customerId);
      expect(member).toMatchObject({ pAlive: 1, frequency: 7, recency: 7, T: 7 });
      const fee = [40, 60, 80][index % 3]!;
      expect(member.expectedOrderValue).toBe(fee);
      // One year's horizon at 10 % a year: fee × S(8) / S(7) / 1.1.
      // The API serves four decimals.
      expect(member.expectedPurchases90d).toBeCloseTo(survivalRatio(gamma, delta, 7, 1), 3);
      expect(member.clv).toBeCloseTo((fee * survivalRatio(gamma, delta, 7, 1)) / 1.1, 2);
    }
    // Cancelled in 2008, the as-of year: six renewals, the seventh lost.
    const cancelledThisYear = members.histories.find((h) => h.x === 6)!;
    expect(await score(cancelledThisYear.customerId)).toMatchObject({
      pAlive: 0,
      clv: 0,
      expectedPurchases90d: 0,
      frequency: 6,
      T: 7,
    });
    const cancelledEarly = members.histories.find((h) => h.x === 1)!;
    expect(await score(cancelledEarly.customerId)).toMatchObject({ pAlive: 0, clv: 0, frequency: 1, T: 7 });
    // Joined in 2008: no renewal opportunity yet, a member, valued at S(1) / S(0).
    const newcomer = await score(members.joinedThisYear);
    expect(newcomer).toMatchObject({ pAlive: 1, frequency: 0, T: 0 });
    expect(newcomer.clv).toBeCloseTo((50 * survivalRatio(gamma, delta, 0, 1)) / 1.1, 2);
  });

  it('leaves the shop (another family) out and says how to run it', async () => {
    expect(record.dataRange?.sources).toEqual(['members']);
    // The contractual source with fee payments only is not read by a run over subscriptions: it says so.
    expect(record.dataWarnings?.join('\n')).toContain(
      'Source fees is contractual but has no subscriptions export',
    );
    const shop = record.exclusions!.rows.filter((r) => r.source === 'shop');
    expect(shop.length).toBeGreaterThan(0);
    for (const row of shop)
      expect(row).toMatchObject({ reason: 'family', family: 'noncontractual-continuous' });
    const lines = describeDataSelection(record).join('\n');
    expect(lines).toContain('of source shop, of the noncontractual-continuous family');
    expect(lines).toContain('cvm recalc --family noncontractual-continuous');
    expect(lines).toContain('POST /runs with {"family": "noncontractual-continuous"}');
  });

  it('shows the family and the subscriptions input in the run report', async () => {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(record.runId) }),
    );
    const html = await object.Body!.transformToString();
    expect(html).toContain('family contractual (per year, from subscriptions exports)');
    for (const name of ['gamma', 'delta']) expect(html).toContain(`<td>${name}</td>`);
    expect(html).toContain(
      'noncontractual-continuous family: run it with cvm recalc --family noncontractual-continuous',
    );
  });

  it('runs the other family on request, leaving the members out (contractual by their subscriptions export)', async () => {
    const other = await runLocalRecalculation(stack, {
      asOf: '1998-06-30',
      family: 'noncontractual-continuous',
      config: { currency: 'USD' },
    });
    expect(other.record.status).toBe('published');
    expect(other.record.model).toMatchObject({ name: 'bgnbd' });
    expect(other.record.dataRange?.sources).toContain('shop');
    const left = other.record.exclusions!.rows.filter((r) => r.reason === 'family');
    expect(left.map((r) => [r.source, r.family])).toEqual([['members', 'contractual']]);
  });

  it('scores the family a run asks for (cvm recalc --family, POST /runs family) over the configured one', async () => {
    const asked = await runLocalRecalculation(stack, {
      asOf: '2008-12-31',
      family: 'contractual',
      // The settings' family stays the default (continuous): only the request asks for memberships.
      config: { currency: 'USD', sources: { shop: { family: 'noncontractual-continuous' } } },
    });
    expect(asked.record.model).toMatchObject({ name: 'sbg', family: 'contractual' });
    expect(asked.record.customers).toBe(record.customers);
  });

  it('dates a membership run as of yesterday by default (the export is a snapshot), without a staleness warning', async () => {
    const started = new Date();
    const current = await runLocalRecalculation(stack, {
      family: 'contractual',
      config: { currency: 'USD', sources: { shop: { family: 'noncontractual-continuous' } } },
    });
    expect(current.record.asOf).toBe(defaultAsOf(started));
    expect(current.record.dataWarnings?.join(' ') ?? '').not.toMatch(/days after the last transaction/);
  });
});
