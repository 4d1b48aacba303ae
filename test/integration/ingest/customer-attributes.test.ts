/**
 * The customer attributes export on the local stand-ins: an upload under `incoming/<source>/customers/`
 * becomes typed clean Parquet under `clean/customer_attributes/`, every bad row is a reject with its
 * reason and line, a re-drop of the same file adds nothing, and erased customers never reach clean
 * data.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import {
  CLEAN_CUSTOMER_ATTRIBUTES_PREFIX,
  CLEAN_DATA_PREFIXES,
  incomingAttributesKey,
} from '#domain/bucket-layout.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { getObjectBytes, putSourceConfig, readRejects, upload } from './support.ts';

const NOW = new Date('2025-10-01T12:00:00.000Z');

const ATTRIBUTES = [
  'Klantnummer;Klant sinds;Wervingskanaal;Acquisitiekosten;Klantcontacten;NPS;Nieuwsbrief;Gewijzigd op',
  'K1;2024-03-01;google;28,50;3;9;ja;2025-09-01', // 2
  'K2;2024-05-10;referral;;0;4;nee;', // 3
  'K3;2024-06-01;;-5,00;;;;', // 4: acquisition_cost_invalid
  'K4;2024-06-02;;;;11;;', // 5: satisfaction_invalid
  ';2024-06-03;google;;;;;', // 6: customer_id_missing
  'K5;not a date;;;;;;', // 7: acquired_at_invalid
  'K6;;;;;;misschien;', // 8: marketing_consent_invalid
  'K7;;direct;;;;;', // 9
].join('\n');

async function readAttributes(stack: LocalStack, key: string) {
  const dir = await mkdtemp(join(tmpdir(), 'cvm-attributes-'));
  const path = join(dir, 'a.parquet');
  await writeFile(path, await getObjectBytes(stack, key));
  const db = await openDuckDb({ threads: 1, memoryLimit: '64MB' });
  try {
    const types = (
      await db.connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlLiteral(path)})`)
    ).getRowsJson();
    const rows = await db.connection.runAndReadAll(
      `SELECT customer_id, strftime(acquired_at AT TIME ZONE 'UTC', '%Y-%m-%d') AS acquired_at,
              strftime(updated_at AT TIME ZONE 'UTC', '%Y-%m-%d') AS updated_at, acquisition_channel,
              acquisition_cost::VARCHAR AS acquisition_cost, service_contacts, service_cost::VARCHAR AS service_cost,
              satisfaction_scale, satisfaction_score, marketing_consent, line_number
       FROM read_parquet(${sqlLiteral(path)}) ORDER BY line_number`,
    );
    return {
      types: Object.fromEntries(types.map(([name, type]) => [String(name), String(type)])),
      rows: rows.getRowObjectsJson(),
    };
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('customer attributes export through the ingest', () => {
  let stack: LocalStack;
  const deps = () => ({ config: stack.config, clients: stack.clients, now: () => NOW });
  beforeAll(async () => {
    stack = await startLocalStack();
    // Five bad rows of eight would quarantine the file under the default 20 % limit.
    await putSourceConfig(stack, 'crm', { maxRejectRatio: 0.9 });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('writes typed clean attributes and rejects every bad row with its reason and line', async () => {
    const report = await ingestObject(
      deps(),
      await upload(stack, incomingAttributesKey('crm', 'klanten.csv'), ATTRIBUTES),
    );
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 8,
      accepted: 3,
      rejected: 5,
      rejectReasons: {
        acquisition_cost_invalid: 1,
        satisfaction_invalid: 1,
        customer_id_missing: 1,
        acquired_at_invalid: 1,
        marketing_consent_invalid: 1,
      },
    });
    expect(report.cleanKey).toBe(
      `${CLEAN_CUSTOMER_ATTRIBUTES_PREFIX}source=crm/ingest_date=2025-10-01/${report.sha256}.parquet`,
    );
    expect(report.detected?.columns).toMatchObject({
      customer_id: 'Klantnummer',
      acquired_at: 'Klant sinds',
      acquisition_channel: 'Wervingskanaal',
      acquisition_cost: 'Acquisitiekosten',
      service_contacts: 'Klantcontacten',
      nps: 'NPS',
      marketing_consent: 'Nieuwsbrief',
      updated_at: 'Gewijzigd op',
    });
    const rejects = await readRejects(stack, report.rejectedKey!);
    expect(rejects.map(({ line, reason }) => [line, reason])).toEqual([
      [4, 'acquisition_cost_invalid'],
      [5, 'satisfaction_invalid'],
      [6, 'customer_id_missing'],
      [7, 'acquired_at_invalid'],
      [8, 'marketing_consent_invalid'],
    ]);
    expect(rejects[1]!.message).toBe("nps: '11' is not a whole number from 0 to 10 (NPS scale)");
    expect(rejects[0]!.raw).toMatchObject({ Klantnummer: 'K3', Acquisitiekosten: '-5,00' });

    const clean = await readAttributes(stack, report.cleanKey!);
    expect(clean.types).toMatchObject({
      customer_id: 'VARCHAR',
      acquired_at: 'TIMESTAMP WITH TIME ZONE',
      acquisition_cost: 'DECIMAL(18,2)',
      service_contacts: 'BIGINT',
      satisfaction_score: 'BIGINT',
      marketing_consent: 'BOOLEAN',
      ingested_at: 'TIMESTAMP WITH TIME ZONE',
    });
    expect(clean.rows).toEqual([
      {
        customer_id: 'K1',
        acquired_at: '2024-03-01',
        updated_at: '2025-09-01',
        acquisition_channel: 'google',
        acquisition_cost: '28.50',
        service_contacts: '3',
        service_cost: null,
        satisfaction_scale: 'nps',
        satisfaction_score: '9',
        marketing_consent: true,
        line_number: '2',
      },
      {
        customer_id: 'K2',
        acquired_at: '2024-05-10',
        updated_at: null,
        acquisition_channel: 'referral',
        acquisition_cost: null,
        service_contacts: '0',
        service_cost: null,
        satisfaction_scale: 'nps',
        satisfaction_score: '4',
        marketing_consent: false,
        line_number: '3',
      },
      {
        customer_id: 'K7',
        acquired_at: null,
        updated_at: null,
        acquisition_channel: 'direct',
        acquisition_cost: null,
        service_contacts: null,
        service_cost: null,
        satisfaction_scale: null,
        satisfaction_score: null,
        marketing_consent: null,
        line_number: '9',
      },
    ]);

    // A re-drop of the same bytes (another name) adds nothing.
    const again = await ingestObject(
      deps(),
      await upload(stack, incomingAttributesKey('crm', 'klanten-kopie.csv'), ATTRIBUTES),
    );
    expect(again).toMatchObject({
      status: 'succeeded',
      accepted: 0,
      duplicates: 8,
      duplicateOfIngestId: report.ingestId,
    });
  });

  it('drops erased customers before clean data', async () => {
    const suppression = createSuppressionRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    });
    await suppression.eraseCustomer('E1', NOW);
    const csv = 'customer_id,nps\nE1,3\nE2,10\n';
    const report = await ingestObject(
      deps(),
      await upload(stack, incomingAttributesKey('crm', 'erased.csv'), csv),
    );
    expect(report).toMatchObject({ status: 'succeeded', accepted: 1, suppressed: 1 });
    const clean = await readAttributes(stack, report.cleanKey!);
    expect(clean.rows.map((row) => row.customer_id)).toEqual(['E2']);
  });

  it('refuses a file without a customer id or any attribute, naming what it accepts', async () => {
    const report = await ingestObject(
      deps(),
      await upload(
        stack,
        incomingAttributesKey('crm', 'wrong.csv'),
        'customer_id,order_date,amount\nC1,2025-01-01,3\n',
      ),
    );
    expect(report.status).toBe('failed');
    expect(report.message).toMatch(/^wrong\.csv: no attribute column \(expected at least one of acquired_at/);
  });

  it('keeps the attributes prefix among the clean data prefixes erasure iterates', () => {
    expect(CLEAN_DATA_PREFIXES).toContain(CLEAN_CUSTOMER_ATTRIBUTES_PREFIX);
  });
});
