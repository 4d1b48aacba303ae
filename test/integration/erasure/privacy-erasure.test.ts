/**
 * Privacy acceptance: after `cvm forget`, nothing of the local stack holds the customer — no object
 * of the bucket (every version the store keeps), no DynamoDB item, no file under CVM_HOME (gzip
 * decompressed, Parquet read through DuckDB as text) — and a re-ingest of the same export followed by
 * a recalculation keeps it that way, while every other customer stays.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { listKeys } from '#adapters/s3/objects.ts';
import { audienceKey, cleanSourcePrefix, incomingKey } from '#domain/bucket-layout.ts';
import { run as forget } from '#infra/cli/commands/forget.ts';
import { run as recalc } from '#infra/cli/commands/recalc.ts';
import { ingestFile } from '#infra/local/ingest-file.ts';
import { advertiseLocalStack, type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { captureCommand } from '#test-support/capture-command.ts';
import { SAMPLE_FILE } from '../recalc/sample.ts';

const CUSTOMER = 'ZQ-PRIV-4417';
/** The customer's orders: amounts and timestamps no other row of the sample has. */
const ORDERS = [
  { id: 'ZQ-ORD-1', at: '1997-02-11T09:41:27Z', amount: '8317.46' },
  { id: 'ZQ-ORD-2', at: '1997-05-23T16:05:52Z', amount: '6290.83' },
  { id: 'ZQ-ORD-3', at: '1997-10-04T12:58:09Z', amount: '7743.19' },
];

/** The customer's order in a second source (JSON Lines). */
const APP_ORDER = { id: 'APP-2', at: '1997-11-19T07:14:33Z', amount: '5518.27' };

/** Every form the customer's data can take in a file or an item. */
const NEEDLES = [
  CUSTOMER,
  ...[...ORDERS, APP_ORDER].flatMap((o) => [
    o.id,
    o.amount,
    o.amount.replace('.', ''), // cents
    o.at.slice(0, 19), // ISO local part
    o.at.slice(0, 19).replace('T', ' '), // DuckDB's text form
    String(Date.parse(o.at) * 1000), // epoch microseconds (Parquet TIMESTAMP)
  ]),
  // Summary values: total revenue, mean repeat-order value.
  '27869.75',
  '6517.43',
];

const capture = captureCommand;

describe('privacy: a forgotten customer leaves no trace in the local stack', { timeout: 300_000 }, () => {
  let home: string;
  let work: string;
  let stack: LocalStack;
  let unadvertise: () => void;
  const previousHome = process.env.CVM_HOME;
  let exportFile: string;
  let jsonlFile: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cvm-privacy-home-'));
    work = await mkdtemp(join(tmpdir(), 'cvm-privacy-work-'));
    stack = await startLocalStack({ home });
    unadvertise = advertiseLocalStack(stack);
    process.env.CVM_HOME = home;
    // A real export (the CDNOW sample), gzipped as shops send it, with the customer's rows mixed in
    // and one row of theirs the ingest rejects (kept in the rejected-rows file).
    const sample = readFileSync(SAMPLE_FILE, 'utf8').trimEnd().split('\n');
    const [header, ...rows] = sample;
    const ours = ORDERS.map((o) => `${o.id},${CUSTOMER},${o.at},${o.amount},USD,1`);
    rows.splice(100, 0, ours[0]!);
    rows.splice(3000, 0, ours[1]!, `ZQ-ORD-9,${CUSTOMER},not a date,${ORDERS[0]!.amount},USD,1`);
    rows.push(ours[2]!);
    exportFile = join(work, 'orders.csv.gz');
    writeFileSync(exportFile, gzipSync(`${[header, ...rows].join('\n')}\n`));
    // A second source in JSON Lines.
    jsonlFile = join(work, 'app-orders.jsonl');
    writeFileSync(
      jsonlFile,
      [
        { order_id: 'APP-1', customer_id: 'APP-KEEP-1', order_date: '1997-03-01T10:00:00Z', amount: 12.5 },
        {
          order_id: APP_ORDER.id,
          customer_id: CUSTOMER,
          order_date: APP_ORDER.at,
          amount: Number(APP_ORDER.amount),
        },
        { order_id: 'APP-3', customer_id: 'APP-KEEP-1', order_date: '1997-06-01T10:00:00Z', amount: 20 },
      ]
        .map((row) => `${JSON.stringify({ ...row, currency: 'USD' })}\n`)
        .join(''),
    );
  }, 120_000);

  afterAll(async () => {
    if (previousHome === undefined) delete process.env.CVM_HOME;
    else process.env.CVM_HOME = previousHome;
    unadvertise?.();
    await stack?.stop();
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  /**
   * Stops and starts the stack on the same home, as a user stops and starts `cvm up`: LevelDB drops
   * deleted items from its files when the table is closed after an erasure (the command borrowed the
   * running stack, so the table's owner compacts).
   */
  async function restartStack() {
    unadvertise();
    await stack.stop();
    stack = await startLocalStack({ home });
    unadvertise = advertiseLocalStack(stack);
  }

  /** Text of one stored file: gunzipped, and Parquet also as DuckDB's rows (compressed pages hide values). */
  async function textsOf(path: string): Promise<string[]> {
    let bytes = readFileSync(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    const texts = [bytes.toString('latin1')];
    if (bytes.subarray(0, 4).toString('latin1') === 'PAR1') {
      const db = await openDuckDb();
      try {
        const read = await db.connection.runAndReadAll(
          `SELECT * FROM read_parquet(${sqlLiteral(path)}, hive_partitioning = false)`,
        );
        texts.push(JSON.stringify(read.getRowObjectsJson()));
        // Raw values too: a timestamp as epoch microseconds, an amount as cents.
        texts.push(
          JSON.stringify(read.getRowObjectsJS(), (_k, v) =>
            v instanceof Date ? `${v.getTime() * 1000}` : typeof v === 'bigint' ? v.toString() : v,
          ),
        );
      } finally {
        db.close();
      }
    }
    return texts;
  }

  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
  }

  /** Every place a needle was found: `<where>: <needle>`. */
  async function traces(): Promise<string[]> {
    const found: string[] = [];
    const search = (where: string, text: string) => {
      for (const needle of NEEDLES) {
        const at = text.indexOf(needle);
        if (at >= 0)
          found.push(`${where}: ${needle} in …${JSON.stringify(text.slice(Math.max(0, at - 60), at + 30))}…`);
      }
    };
    // The bucket through the S3 API (s3rver keeps one version per key: the listing is every version).
    for (const key of await listKeys(stack.clients.s3, stack.config.bucket, '')) {
      const got = await stack.clients.s3.send(
        new GetObjectCommand({ Bucket: stack.config.bucket, Key: key }),
      );
      const path = join(work, 'object');
      writeFileSync(path, await got.Body!.transformToByteArray());
      for (const text of await textsOf(path)) search(`s3://${key}`, text);
    }
    // Every DynamoDB item.
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await stack.clients.dynamo.send(
        new ScanCommand({ TableName: stack.config.table, ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) search(`dynamodb ${item.pk}/${item.sk}`, JSON.stringify(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Every file under CVM_HOME: the bucket's files, DynamoDB's files, the warehouse mirror, events.
    for (const path of filesUnder(home)) {
      for (const text of await textsOf(path)) search(path.slice(home.length), text);
    }
    return [...new Set(found)];
  }

  /** The ingest of an object already in the bucket, as the S3 trigger of its last write delivers it. */
  async function redeliver(key: string) {
    const head = await stack.clients.s3.send(
      new HeadObjectCommand({ Bucket: stack.config.bucket, Key: key }),
    );
    return ingestObject(
      { config: stack.config, clients: stack.clients },
      { bucket: stack.config.bucket, key, ...(head.ETag ? { eTag: head.ETag.replace(/"/g, '') } : {}) },
    );
  }

  async function cleanRowCount(): Promise<number> {
    const db = await openDuckDb();
    try {
      let count = 0;
      for (const key of await listKeys(stack.clients.s3, stack.config.bucket, cleanSourcePrefix('shop'))) {
        const got = await stack.clients.s3.send(
          new GetObjectCommand({ Bucket: stack.config.bucket, Key: key }),
        );
        const path = join(work, 'clean.parquet');
        writeFileSync(path, await got.Body!.transformToByteArray());
        const row = (
          await db.connection.runAndReadAll(
            `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlLiteral(path)})`,
          )
        ).getRowObjectsJS()[0] as { n: number };
        count += row.n;
      }
      return count;
    } finally {
      db.close();
    }
  }

  it('finds the customer everywhere before, nowhere after `cvm forget`, and keeps it out after a re-ingest', async () => {
    const first = await ingestFile(stack, 'shop', exportFile);
    expect(first).toMatchObject({ status: 'succeeded', accepted: 6922, rejected: 1 });
    expect((await ingestFile(stack, 'app', jsonlFile)).status).toBe('succeeded');
    // A membership of theirs in a subscriptions export (clean/subscriptions/).
    const membershipFile = join(work, 'members.csv');
    writeFileSync(
      membershipFile,
      `member_id,started_at,cancelled_at,fee\nSUB-KEEP-1,1997-01-01,,10.00\n${CUSTOMER},1997-02-11,,10.00\n`,
    );
    expect(await ingestFile(stack, 'club', membershipFile, 'subscriptions')).toMatchObject({
      status: 'succeeded',
      accepted: 2,
    });

    const run1 = await capture(recalc, ['--as-of', '1998-06-30', '--currency', 'USD', '--json']);
    expect(run1.code, run1.output).toBe(0);
    const run2 = await capture(recalc, ['--as-of', '1998-03-31', '--currency', 'USD', '--json']);
    expect(run2.code, run2.output).toBe(0);
    const runIds = [JSON.parse(run1.output).runId, JSON.parse(run2.output).runId] as string[];
    const customersBefore = JSON.parse(run1.output).customers as number;
    // An audience export of a run (a campaign list), as the playbook writes them.
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.config.bucket,
        Key: audienceKey(runIds[0]!, 'win-back'),
        Body: `customer_id,segment,clv\n0001,At risk,12.5\n${CUSTOMER},Champions,6517.43\n0002,At risk,3.1\n`,
      }),
    );

    const before = await traces();
    // The search must be able to fail: each kind of place holds the customer before erasure.
    for (const where of [
      's3://incoming/shop/',
      's3://incoming/app/',
      's3://clean/transactions/source=shop/',
      's3://clean/transactions/source=app/',
      's3://rejected/shop/',
      `s3://runs/${runIds[0]}/customer-summaries/`,
      `s3://runs/${runIds[1]}/customer-summaries/`,
      `s3://runs/${runIds[0]}/audiences/`,
      'dynamodb CUST#',
      '/warehouse/',
    ]) {
      expect(
        before.some((t) => t.startsWith(where)),
        `trace in ${where} before erasure`,
      ).toBe(true);
    }
    const cleanBefore = await cleanRowCount();

    const erased = await capture(forget, [CUSTOMER]);
    expect(erased.code, erased.output).toBe(0);
    expect(erased.output).toMatch(/2 score item\(s\) deleted/);
    await restartStack();
    expect(await traces()).toEqual([]);
    // Only the customer's rows went from clean data.
    expect(await cleanRowCount()).toBe(cleanBefore - ORDERS.length);

    // The rewritten upload is new bytes: the S3 trigger's delivery must count it as a duplicate.
    const redelivered = await redeliver(incomingKey('shop', 'orders.csv.gz'));
    expect(redelivered).toMatchObject({
      status: 'succeeded',
      accepted: 0,
      duplicateOfIngestId: first.ingestId,
    });
    expect(await cleanRowCount()).toBe(cleanBefore - ORDERS.length);

    // The same export again (with the customer), and a new run: still no trace.
    const again = await ingestFile(stack, 'shop', exportFile);
    // Same name, same bytes: the same upload, whose ingest is done; nothing is ingested again.
    expect(again).toMatchObject({ status: 'succeeded', ingestId: first.ingestId });
    // The re-sent upload lost the customer's rows again after its ingest; that write's delivery is a
    // duplicate too.
    expect(await redeliver(incomingKey('shop', 'orders.csv.gz'))).toMatchObject({ accepted: 0 });
    // A new export with the customer and a new customer: the customer's rows are dropped and counted,
    // and removed from the upload.
    const late = join(work, 'late.csv');
    writeFileSync(
      late,
      `order_id,customer_id,order_date,amount,currency\nLATE-1,${CUSTOMER},${ORDERS[0]!.at},${ORDERS[0]!.amount},USD\n` +
        'LATE-2,NEW-CUSTOMER-1,1998-05-02T10:00:00Z,12.00,USD\n',
    );
    const lateReport = await ingestFile(stack, 'shop', late);
    expect(lateReport).toMatchObject({ status: 'succeeded', accepted: 1, suppressed: 1 });
    const lateRedelivered = await redeliver(incomingKey('shop', 'late.csv'));
    expect(lateRedelivered).toMatchObject({ accepted: 0, duplicateOfIngestId: lateReport.ingestId });
    const run3 = await capture(recalc, ['--as-of', '1998-06-30', '--currency', 'USD', '--json']);
    expect(run3.code, run3.output).toBe(0);
    // Everyone but the customer, plus the new customer.
    expect(JSON.parse(run3.output).customers).toBe(customersBefore - 1 + 1);
    expect(await cleanRowCount()).toBe(cleanBefore - ORDERS.length + 1);
    await restartStack();
    expect(await traces()).toEqual([]);
  });
});
