/**
 * Ingest under injected S3 and DynamoDB faults and concurrent deliveries: each file is ingested and
 * counted exactly once, and a broken-off body is never taken for the whole.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObject } from '#adapters/ingest/ingest-object.ts';
import { IngestReportRepository } from '#adapters/ingest/report-repository.ts';
import { ingestIdFor } from '#app/ingest/ingest-id.ts';
import type { IngestReport } from '#domain/ingest-report.ts';
import { createIngestHandler } from '#functions/ingest/handler.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { readCleanParquet, readRejects, sqsEvent, upload } from '../integration/ingest/support.ts';
import { type FaultRule, injectBodyReset, injectFaults } from '../support/faults.ts';

/** A small export with known outcome: 6 rows read, 4 accepted (EUR 100.00), 1 rejected, 1 duplicate. */
function exportText(tag: string): string {
  return [
    'customer_id,order_id,order_date,amount,currency,note',
    `c1,${tag}-1,2025-01-02,10.00,EUR,a`,
    `c2,${tag}-2,2025-01-03,20.00,EUR,b`,
    `c2,${tag}-2,2025-01-03,20.00,EUR,b`,
    `c3,${tag}-3,someday,5.00,EUR,c`,
    `c4,${tag}-4,2025-01-05,30.00,EUR,d`,
    `c5,${tag}-5,2025-01-06,40.00,EUR,e`,
    '',
  ].join('\n');
}
/**
 * An item attribute as a fault rule sees it: plain before the document client marshals the input
 * (outside retries), `{ S: ... }` after it (inside retries).
 */
function itemAttribute(input: Record<string, unknown>, name: string): string | undefined {
  const value = (input.Item as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  return (value as { S?: string } | undefined)?.S;
}

const EXPECTED = { rowsRead: 6, accepted: 4, rejected: 1, duplicates: 1, amountTotals: { EUR: '100.00' } };

async function cleanKeysOf(stack: LocalStack, source: string): Promise<string[]> {
  const listed = await stack.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.config.bucket, Prefix: `clean/transactions/source=${source}/` }),
  );
  return (listed.Contents ?? []).map((object) => object.Key!);
}

/**
 * Delivers the object's S3 event through the SQS handler as SQS would: again while the handler
 * reports the record as a batch item failure (at most `maxDeliveries` times).
 */
async function deliverUntilAcked(
  stack: LocalStack,
  ref: { bucket: string; key: string; eTag: string },
  maxDeliveries = 6,
) {
  const handler = createIngestHandler({ config: stack.config, clients: stack.clients });
  let deliveries = 0;
  for (;;) {
    deliveries++;
    const response = await handler(sqsEvent([{ messageId: `m${deliveries}`, objects: [ref] }]));
    if (response.batchItemFailures.length === 0 || deliveries >= maxDeliveries) return deliveries;
  }
}

describe('ingest under injected SDK faults', () => {
  let stack: LocalStack;
  let scenario = 0;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs one upload under faults and checks that nothing was lost or counted twice. */
  async function ingestUnderFaults(
    client: 's3' | 'dynamo',
    rules: FaultRule[] | 'body-reset',
    placement: 'outside-retries' | 'inside-retries' = 'outside-retries',
  ) {
    const source = `faults-${++scenario}`;
    const text = exportText(source);
    const ref = await upload(stack, `incoming/${source}/orders.csv`, text);
    const injection =
      rules === 'body-reset'
        ? injectBodyReset(stack.clients.s3, {
            times: 1,
            match: (input: Record<string, unknown>) => input.Key === ref.key,
          })
        : injectFaults(stack.clients[client], rules, { placement });
    let deliveries: number;
    try {
      deliveries = await deliverUntilAcked(stack, ref);
    } finally {
      injection.remove();
    }
    expect(
      injection.injected.reduce((a, b) => a + b, 0),
      'the fault was injected',
    ).toBeGreaterThan(0);

    const repository = new IngestReportRepository(stack.clients.dynamo, stack.config.table);
    const report = (await repository.get(ingestIdFor(ref))) as IngestReport;
    expect(report.status, report.message).toBe('succeeded');
    expect({
      rowsRead: report.rowsRead,
      accepted: report.accepted,
      rejected: report.rejected,
      duplicates: report.duplicates,
      amountTotals: report.amountTotals,
    }).toEqual(EXPECTED);
    // Nothing doubled: one clean object holding exactly the accepted rows, one reject line.
    expect(await cleanKeysOf(stack, source)).toEqual([report.cleanKey]);
    const clean = await readCleanParquet(stack, report.cleanKey!);
    expect(clean.rows.map((row) => row.customer_id)).toEqual(['c1', 'c2', 'c4', 'c5']);
    expect(await readRejects(stack, report.rejectedKey!)).toHaveLength(1);

    // The same content uploaded again later is still recognised: it is not counted twice.
    const again = await upload(stack, `incoming/${source}/orders-copy.csv`, text);
    const second = await ingestObject({ config: stack.config, clients: stack.clients }, again);
    expect(second.duplicateOfIngestId, 'a re-upload after the faults is a duplicate').toBe(report.ingestId);
    expect(second.accepted).toBe(0);
    expect(await cleanKeysOf(stack, source)).toHaveLength(1);
    return { report, deliveries };
  }

  it('S3 GetObject throttled twice: retried deliveries ingest the file once', async () => {
    const { deliveries } = await ingestUnderFaults('s3', [
      { command: 'GetObjectCommand', kind: 'throttling', times: 2 },
    ]);
    expect(deliveries).toBe(3);
  });

  it('S3 GetObject denied once (a missing grant): the delivery fails, the redelivery ingests the file once', async () => {
    const { deliveries } = await ingestUnderFaults('s3', [
      { command: 'GetObjectCommand', kind: 'access-denied', times: 1 },
    ]);
    // Before: the first delivery recorded `failed` and was acknowledged, so the file was never ingested.
    expect(deliveries).toBe(2);
  });

  it('the object body breaks off half-way (ECONNRESET): the half file is not taken for the whole', async () => {
    const { deliveries } = await ingestUnderFaults('s3', 'body-reset');
    expect(deliveries).toBe(2);
  });

  it('S3 PutObject of the clean Parquet fails with a 500: retried, one clean object', async () => {
    await ingestUnderFaults('s3', [
      {
        command: 'PutObjectCommand',
        kind: 'server-error',
        times: 1,
        match: (input: Record<string, unknown>) => String(input.Key).startsWith('clean/'),
      },
    ]);
  });

  it('the clean upload times out after S3 stored it (SDK retries the write): one clean object', async () => {
    await ingestUnderFaults(
      's3',
      [
        {
          command: 'PutObjectCommand',
          kind: 'timeout',
          times: 2,
          afterSend: true,
          match: (input: Record<string, unknown>) => String(input.Key).startsWith('clean/'),
        },
      ],
      'inside-retries',
    );
  });

  it('DynamoDB throttles the content marker three times: retried, counted once', async () => {
    await ingestUnderFaults('dynamo', [
      {
        command: 'PutItemCommand',
        kind: 'throttling',
        times: 3,
        match: (input: Record<string, unknown>) => String(itemAttribute(input, 'pk')).startsWith('CONTENT#'),
      },
    ]);
  });

  it('the final report write times out after DynamoDB stored it: the content marker survives', async () => {
    await ingestUnderFaults('dynamo', [
      {
        command: 'PutItemCommand',
        kind: 'timeout',
        times: 1,
        afterSend: true,
        match: (input: Record<string, unknown>) => itemAttribute(input, 'status') === 'succeeded',
      },
    ]);
  });

  it('the claim write times out after DynamoDB stored it (SDK retries it): the file is still ingested', async () => {
    await ingestUnderFaults(
      'dynamo',
      [
        {
          command: 'PutItemCommand',
          kind: 'timeout',
          times: 1,
          afterSend: true,
          match: (input: Record<string, unknown>) => itemAttribute(input, 'status') === 'in_progress',
        },
      ],
      'inside-retries',
    );
  });
});

describe('ingest concurrency', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('the same object event three times in parallel through the SQS handler: one ingest, one clean object', async () => {
    const ref = await upload(stack, 'incoming/triple/orders.csv', exportText('triple'));
    const handler = createIngestHandler({ config: stack.config, clients: stack.clients });
    const responses = await Promise.all(
      [1, 2, 3].map((n) => handler(sqsEvent([{ messageId: `dup-${n}`, objects: [ref] }]))),
    );
    expect(responses.flatMap((r) => r.batchItemFailures)).toEqual([]);
    const report = await new IngestReportRepository(stack.clients.dynamo, stack.config.table).get(
      ingestIdFor(ref),
    );
    expect(report?.status).toBe('succeeded');
    expect(report?.accepted).toBe(4);
    expect(await cleanKeysOf(stack, 'triple')).toEqual([report?.cleanKey]);
    expect((await readCleanParquet(stack, report!.cleanKey!)).rows).toHaveLength(4);
  });

  it('two uploads of the same content under different keys at once: counted once', async () => {
    const text = exportText('twins');
    const [a, b] = await Promise.all([
      upload(stack, 'incoming/twins/monday.csv', text),
      upload(stack, 'incoming/twins/export (copy).csv', text),
    ]);
    const deps = { config: stack.config, clients: stack.clients };
    const reports = await Promise.all([ingestObject(deps, a), ingestObject(deps, b)]);
    const original = reports.find((r) => !r.duplicateOfIngestId);
    const copy = reports.find((r) => r.duplicateOfIngestId);
    expect(original?.accepted).toBe(4);
    expect(copy?.duplicateOfIngestId).toBe(original?.ingestId);
    expect(copy?.accepted).toBe(0);
    expect(copy?.duplicates).toBe(copy?.rowsRead);
    expect(reports.reduce((n, r) => n + r.accepted, 0)).toBe(4);
    expect(await cleanKeysOf(stack, 'twins')).toHaveLength(1);
  });
});
