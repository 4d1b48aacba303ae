/**
 * Subscriptions exports through the real ingest (a Dutch export, then a later German one that cancels
 * a membership), and the contractual summary statements over them: the same text on DuckDB and
 * through the Athena adapter, equal to an independent period-by-period count from the raw rows and
 * to the domain's `summarizeSubscriptions`, with the awkward cases: a cancellation in the as-of
 * period, a start in the as-of period (n = 0), a cancellation after the as-of date, a start and
 * cancellation in the as-of period, two subscriptions of one member, another currency.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '#adapters/warehouse/duckdb-warehouse.ts';
import { recalcStatements, sourceProfileStatement } from '#adapters/warehouse/queries.ts';
import type { CustomerSummaryRow } from '#app/ports/warehouse.ts';
import { CLEAN_SUBSCRIPTIONS_PREFIX } from '#domain/bucket-layout.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import { parseEpochDay } from '#domain/rfm-summary.ts';
import { summarizeSubscriptions } from '#domain/subscriptions/subscriptions.ts';
import { ingestFile } from '#infra/local/ingest-file.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { type AthenaOverDuckDb, athenaOverDuckDb } from '../warehouse/athena-over-duckdb.ts';

const AS_OF = '2024-12-31';
const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/subscriptions/${name}`, import.meta.url));

interface RawRow {
  customerId: string;
  key: string;
  start: string;
  cancel: string | null;
  fee: number;
  currency: string;
}

/** The fixture's rows as a person reads them (valid rows only), later files after earlier ones. */
function rawRows(): RawRow[] {
  const rows: RawRow[] = [];
  for (const name of ['leden-2024.csv', 'mitglieder-2025.csv']) {
    const [header, ...lines] = readFileSync(fixture(name), 'utf8').trim().split('\n');
    const columns = header!.split(';');
    const at = (re: RegExp) => columns.findIndex((c) => re.test(c));
    const [id, key, start, cancel, fee, currency] = [
      at(/^(lidnummer|Mitgliedsnummer)$/),
      at(/^(abonnementsnummer|Vertragsnummer)$/),
      at(/^(startdatum|Beginndatum)$/),
      at(/^(opzegdatum|Kündigungsdatum)$/),
      at(/^(contributie|Beitrag)$/),
      at(/^(valuta|Währung)$/),
    ];
    for (const line of lines) {
      const f = line.split(';');
      const row = {
        customerId: f[id]!,
        key: f[key]!,
        start: f[start]!,
        cancel: f[cancel] || null,
        fee: Number(f[fee]!.replace(',', '.')),
        currency: f[currency]!,
      };
      const valid =
        /^\d{4}-(0[1-9]|1[0-2])-\d{2}$/.test(row.start) &&
        (row.cancel === null || row.cancel >= row.start) &&
        row.fee >= 0;
      if (!valid) continue;
      // A later export's row for the same subscription replaces the earlier one.
      const earlier = rows.findIndex((r) => r.key === row.key);
      if (earlier >= 0) rows.splice(earlier, 1);
      rows.push(row);
    }
  }
  return rows;
}

const periodOf = (period: 'year' | 'month') => (day: string) =>
  period === 'year' ? Number(day.slice(0, 4)) : Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1;

/**
 * Independent of the SQL and of the domain function: walk the periods after the start one by one and
 * count those the member completed (was still a member at its end), stopping at the cancellation's.
 */
function independentSummary(period: 'year' | 'month') {
  const p = periodOf(period);
  const last = p(AS_OF);
  const spells = new Map<string, RawRow>();
  for (const row of rawRows()) {
    if (row.currency !== 'USD' || row.start > AS_OF) continue;
    const current = spells.get(row.customerId);
    if (!current || row.start < current.start) spells.set(row.customerId, row);
  }
  return [...spells.values()]
    .map((row) => {
      const cancelled = row.cancel !== null && row.cancel <= AS_OF;
      let renewals = 0;
      for (let k = p(row.start) + 1; k <= last; k++) {
        if (cancelled && k >= p(row.cancel!)) break;
        renewals++;
      }
      const n = last - p(row.start);
      return {
        customerId: row.customerId,
        frequency: renewals,
        recency: renewals,
        // A cancellation that falls in the start period, when that is the as-of period, decides the next
        // opportunity: the member is lost at it.
        T: cancelled && renewals + 1 > n ? renewals + 1 : n,
        monetaryValue: row.fee,
      };
    })
    .sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
}

describe('subscriptions through the ingest into the contractual summaries', () => {
  let stack: LocalStack;
  let cacheDirectory: string;
  let duck: DuckDbWarehouse;
  let athenaStandIn: AthenaOverDuckDb;
  const reports: IngestReport[] = [];

  beforeAll(async () => {
    stack = await startLocalStack();
    cacheDirectory = await mkdtemp(join(tmpdir(), 'cvm-subscriptions-sql-'));
    reports.push(await ingestFile(stack, 'club', fixture('leden-2024.csv'), 'subscriptions'));
    reports.push(await ingestFile(stack, 'club', fixture('mitglieder-2025.csv'), 'subscriptions'));
    duck = await createDuckDbWarehouse({ s3: stack.clients.s3, bucket: stack.config.bucket, cacheDirectory });
    athenaStandIn = athenaOverDuckDb(stack, duck);
  }, 60_000);
  afterAll(async () => {
    athenaStandIn?.restore();
    await duck?.close();
    await stack?.stop();
    await rm(cacheDirectory, { recursive: true, force: true });
  });

  const summaries = (period: 'year' | 'month') =>
    recalcStatements({
      asOf: AS_OF,
      currency: 'USD',
      sources: ['club'],
      family: 'contractual',
      period,
      subscriptions: true,
    }).customerSummaries;

  it('ingests each export with every rejected row named by line and reason, into clean/subscriptions/', () => {
    const [dutch, german] = reports;
    expect(dutch).toMatchObject({ status: 'succeeded', rowsRead: 16, accepted: 13, rejected: 3 });
    expect(dutch!.cleanKey?.startsWith(`${CLEAN_SUBSCRIPTIONS_PREFIX}source=club/`)).toBe(true);
    expect(dutch!.rejectReasons).toEqual({
      started_at_invalid: 1,
      cancelled_before_started: 1,
      fee_negative: 1,
    });
    expect(dutch!.detected?.columns).toMatchObject({
      customer_id: 'lidnummer',
      subscription_id: 'abonnementsnummer',
      plan: 'soort lidmaatschap',
      started_at: 'startdatum',
      cancelled_at: 'opzegdatum',
      fee: 'contributie',
      currency: 'valuta',
    });
    expect(german).toMatchObject({ status: 'succeeded', accepted: 2, rejected: 0 });
    expect(german!.detected?.columns).toMatchObject({ cancelled_at: 'Kündigungsdatum', fee: 'Beitrag' });
  });

  it('treats the same file dropped again as a duplicate', async () => {
    const again = await ingestFile(stack, 'club', fixture('leden-2024.csv'), 'subscriptions').catch(
      (error: unknown) => error,
    );
    // Same bytes under the same key: the same ingest (already done) or a content duplicate.
    expect(again).toMatchObject({ status: 'succeeded' });
    const report = again as IngestReport;
    expect(report.ingestId === reports[0]!.ingestId || report.duplicates === 16).toBe(true);
  });

  it('rejected rows are stored with their line numbers', async () => {
    const rejectedKey = reports[0]!.rejectedKey!;
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const body = await (
      await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.config.bucket, Key: rejectedKey }))
    ).Body!.transformToString();
    const rejects = body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { line: number; reason: string; message: string });
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [13, 'started_at_invalid'],
      [14, 'cancelled_before_started'],
      [15, 'fee_negative'],
    ]);
    expect(rejects[0]!.message).toContain('started_at');
  });

  it('summarize memberships as an independent period count and summarizeSubscriptions do, yearly and monthly', async () => {
    for (const period of ['year', 'month'] as const) {
      const rows = await duck.query(summaries(period));
      const got = rows.map((r: CustomerSummaryRow) => ({
        customerId: r.customerId,
        frequency: r.frequency,
        recency: r.recency,
        T: r.T,
        monetaryValue: r.monetaryValue,
      }));
      expect(got, period).toEqual(independentSummary(period));
      const domain = summarizeSubscriptions(
        rawRows()
          .filter((r) => r.currency === 'USD')
          .map((r) => ({
            customerId: r.customerId,
            key: r.key,
            startDay: parseEpochDay(r.start),
            cancelDay: r.cancel === null ? null : parseEpochDay(r.cancel),
            fee: r.fee,
          })),
        {
          asOf: AS_OF,
          periodOf: (day) => periodOf(period)(new Date(day * 86_400_000).toISOString().slice(0, 10)),
        },
      );
      expect(
        domain.map((d) => ({
          customerId: d.customerId,
          frequency: d.renewals,
          recency: d.renewals,
          T: d.T,
          monetaryValue: d.fee,
        })),
        period,
      ).toEqual(got);
    }
  });

  it('names the edge cases as the documentation states them (yearly)', async () => {
    const rows = await duck.query(summaries('year'));
    const of = (id: string) => rows.find((r) => r.customerId === id);
    expect(of('a1')).toMatchObject({ frequency: 5, T: 5, monetaryValue: 60 }); // active since 2019
    expect(of('a2')).toMatchObject({ frequency: 2, T: 5 }); // cancelled in 2022: 2020, 2021 renewed
    expect(of('a3')).toMatchObject({ frequency: 3, T: 4 }); // cancelled in the as-of period
    expect(of('a4')).toMatchObject({ frequency: 0, T: 0 }); // started in the as-of period: n = 0
    expect(of('a5')).toMatchObject({ frequency: 3, T: 3 }); // cancels after as-of: still a member
    expect(of('a6')).toMatchObject({ frequency: 0, T: 1 }); // started and cancelled in 2024
    expect(of('a7')).toMatchObject({ frequency: 1, T: 6, monetaryValue: 50 }); // earliest spell counts
    expect(of('a8')).toMatchObject({ frequency: 2, T: 4 }); // the later export's cancellation wins
    expect(of('a9')).toBeUndefined(); // EUR: another currency
    expect(of('a10')).toBeUndefined(); // starts after the as-of date
    expect(of('a8')).toMatchObject({ firstPurchaseDate: '2020-06-01', lastPurchaseDate: '2023-07-01' });
    // Six paid periods (the first and five renewals) at 60: the ladder counts paid periods as orders.
    expect(of('a1')).toMatchObject({ historicRevenue: 360, historicOrders: 6 });
  });

  it('give the same rows on DuckDB and through Athena, from the same text', async () => {
    const statements = recalcStatements({
      asOf: AS_OF,
      currency: 'USD',
      sources: ['club'],
      family: 'contractual',
      period: 'year',
      subscriptions: true,
    });
    for (const [key, statement] of Object.entries(statements)) {
      athenaStandIn.submitted.length = 0;
      const fromDuckDb = await duck.query(statement as never);
      const fromAthena = await athenaStandIn.warehouse.query(statement as never);
      expect(athenaStandIn.submitted, key).toEqual([statement.sql]);
      expect(fromAthena, key).toEqual(fromDuckDb);
    }
  });

  it('profiles the sources by their subscriptions, one row per subscription', async () => {
    const profile = await duck.query(
      sourceProfileStatement({ asOf: AS_OF, sources: ['club'], subscriptions: true }),
    );
    expect(profile.map((r) => [r.source, r.currency, r.rows, r.rowsAfterAsOf])).toEqual([
      ['club', 'EUR', 1, 0],
      ['club', 'USD', 13, 1],
    ]);
  });
});
