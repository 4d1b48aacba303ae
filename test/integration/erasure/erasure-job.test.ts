/**
 * The AWS erasure job on the local stack: from the suppression list alone (hashes, no ids), every
 * suppressed customer's rows leave uploads (gzipped CSV, JSON Lines, non-ASCII ids, a customer
 * attributes export), clean Parquet of both clean data sets (columns and types kept) and rejected
 * rows; other customers' rows stay; a second pass changes nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { createErasureDeps } from '#adapters/erasure/erasure-deps.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { eraseCustomerRecords } from '#app/erasure/erase-customer.ts';
import { CLEAN_CUSTOMER_ATTRIBUTES_PREFIX, incomingAttributesKey } from '#domain/bucket-layout.ts';
import { createErasureJobHandler } from '#functions/erasure/handler.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { getObjectBytes, readCleanParquet, upload } from '../ingest/support.ts';

/** The customer ids of a clean Parquet object, read through DuckDB. */
async function readCleanIds(stack: LocalStack, key: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cvm-erasure-job-'));
  const path = join(dir, 'x.parquet');
  await writeFile(path, await getObjectBytes(stack, key));
  const db = await openDuckDb();
  try {
    const rows = (
      await db.connection.runAndReadAll(`SELECT customer_id FROM read_parquet(${sqlLiteral(path)})`)
    ).getRowObjectsJS();
    return rows.map((row) => String(row.customer_id));
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const GONE = ['GONE-17', 'Zoë-Ørsted-3'];

describe('erasure job (suppression list → stored files)', () => {
  let stack: LocalStack;
  const cleanKeys: string[] = [];
  let rejectedKey: string;

  beforeAll(async () => {
    stack = await startLocalStack();
    const csv = [
      'customer_id;order_id;order_date;amount;currency',
      'KEEP-1;o1;2025-01-02;10,00;EUR',
      `${GONE[0]};o2;2025-01-03;20,00;EUR`,
      '"KEEP-2";"o3";2025-01-04;"30,00";EUR',
      `${GONE[0]};o4;not a date;40,00;EUR`,
      'GONE-170;o5;2025-01-05;50,00;EUR',
      '',
    ].join('\r\n');
    const jsonl = [
      { customer_id: GONE[1], order_id: 'j1', order_date: '2025-02-01', amount: 5.5, currency: 'EUR' },
      { customer_id: 'KEEP-3', order_id: 'j2', order_date: '2025-02-02', amount: 6.5, currency: 'EUR' },
    ]
      .map((row) => `${JSON.stringify(row)}\n`)
      .join('');
    // A customer attributes export (its own clean prefix): covered through the layout, no change to erasure.
    const attributes = [
      'Klantnummer;Klant sinds;Wervingskanaal',
      `${GONE[0]};2024-03-01;google`,
      'KEEP-1;2024-05-10;referral',
      '',
    ].join('\n');
    for (const [key, body] of [
      ['incoming/shop/orders.csv.gz', gzipSync(csv)],
      ['incoming/app/orders.jsonl', jsonl],
      [incomingAttributesKey('shop', 'klanten.csv'), attributes],
    ] as const) {
      const report = await ingestObject(
        { config: stack.config, clients: stack.clients },
        await upload(stack, key, body),
      );
      expect(report.status, report.message).toBe('succeeded');
      cleanKeys.push(report.cleanKey!);
      if (report.rejectedKey) rejectedKey = report.rejectedKey;
    }
    const suppression = createSuppressionRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    });
    for (const id of GONE) {
      await eraseCustomerRecords({ suppression, hasScores: async () => false }, id, { force: true });
    }
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('removes every suppressed customer from uploads, clean Parquet and rejected rows, and nothing else', async () => {
    const deps = createErasureDeps(stack.config, stack.clients);
    try {
      const cleanBefore = await readCleanParquet(stack, cleanKeys[0]!);
      const first = await createErasureJobHandler(deps)();
      expect(first).toMatchObject({ suppressedCustomers: 2, versionsDeleted: 0 });
      // Uploads: 2 rows (CSV) + 1 (JSONL) + 1 (attributes); clean: 1 + 1 + 1; rejected rows: 1.
      expect(first.rowsRemoved).toBe(8);
      expect(first.objectsRewritten).toBe(7);

      const csv = gunzipSync(await getObjectBytes(stack, 'incoming/shop/orders.csv.gz')).toString('utf8');
      // Every other row byte for byte, quotes and CRLF included; GONE-170 is another customer.
      expect(csv).toBe(
        [
          'customer_id;order_id;order_date;amount;currency',
          'KEEP-1;o1;2025-01-02;10,00;EUR',
          '"KEEP-2";"o3";2025-01-04;"30,00";EUR',
          'GONE-170;o5;2025-01-05;50,00;EUR',
          '',
        ].join('\r\n'),
      );
      const jsonl = (await getObjectBytes(stack, 'incoming/app/orders.jsonl')).toString('utf8');
      expect(jsonl).not.toContain(GONE[1]);
      expect(jsonl).toContain('KEEP-3');
      const clean = await readCleanParquet(stack, cleanKeys[0]!);
      expect(clean.rows.map((row) => row.customer_id)).toEqual(['KEEP-1', 'KEEP-2', 'GONE-170']);
      expect(clean.types).toEqual(cleanBefore.types);
      expect((await readCleanParquet(stack, cleanKeys[1]!)).rows.map((row) => row.customer_id)).toEqual([
        'KEEP-3',
      ]);
      expect((await getObjectBytes(stack, rejectedKey)).toString('utf8')).not.toContain(GONE[0]);
      const attributesUpload = (
        await getObjectBytes(stack, incomingAttributesKey('shop', 'klanten.csv'))
      ).toString();
      expect(attributesUpload).toBe('Klantnummer;Klant sinds;Wervingskanaal\nKEEP-1;2024-05-10;referral\n');
      expect(cleanKeys[2]!.startsWith(CLEAN_CUSTOMER_ATTRIBUTES_PREFIX)).toBe(true);
      expect((await readCleanIds(stack, cleanKeys[2]!)).sort()).toEqual(['KEEP-1']);

      const second = await createErasureJobHandler(deps)();
      expect(second).toMatchObject({ rowsRemoved: 0, objectsRewritten: 0 });
    } finally {
      await deps.close();
    }
  });
});
