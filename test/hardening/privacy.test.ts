import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readLocalEvents } from '#adapters/events/jsonl-publisher.ts';
import { toAppLogger } from '#adapters/observability.ts';
import { hashCustomerId } from '#app/customer-id-hash.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { handler as ingestLambdaHandler } from '#functions/ingest/handler.ts';
import { startApiServer } from '#infra/local/api-server.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ApiClient } from '../integration/api/http-client.ts';
import { sqsEvent, upload } from '../integration/ingest/support.ts';
import { RUN_SETTINGS, smallSample } from './recalc-support.ts';

/** Customer ids, an e-mail column and amounts that must never reach a log line. */
const SECRET_CUSTOMERS = ['PRIV-7731-ANNA', 'PRIV-8842-BERT'];
const SECRET_EMAIL = 'anna.jansen@example.org';
const SECRET_AMOUNTS = ['4711.93', '8123.57'];

/** Everything written to stdout/stderr or through console while `run` runs. */
async function captureOutput(run: () => Promise<void>): Promise<string> {
  const captured: string[] = [];
  const keep = (chunk: unknown) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(keep),
    vi.spyOn(process.stderr, 'write').mockImplementation(keep),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi
        .spyOn(console, method)
        .mockImplementation((...args: unknown[]) => void keep(`${args.map(String).join(' ')}\n`)),
    ),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return captured.join('');
}

function expectNoCustomerData(output: string, secrets: readonly string[]) {
  for (const secret of secrets)
    expect(output, `log output contains ${JSON.stringify(secret)}`).not.toContain(secret);
}

describe('privacy: customer ids, e-mail addresses and amounts stay out of logs (info level)', () => {
  let stack: LocalStack;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    stack = await startLocalStack();
    // The Lambda entry points build their config from the environment, as in AWS.
    Object.assign(process.env, stack.env, { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_DEV: 'false' });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    process.env = savedEnv;
    await stack?.stop();
  });

  it('ingest through the Lambda handler (Powertools logger) logs counts and keys only', async () => {
    const header = 'customer_id,email,order_id,order_date,amount,currency';
    const rows = [
      `${SECRET_CUSTOMERS[0]},${SECRET_EMAIL},P-1,2025-02-01,${SECRET_AMOUNTS[0]},EUR`,
      `${SECRET_CUSTOMERS[1]},${SECRET_EMAIL},P-2,2025-02-02,${SECRET_AMOUNTS[1]},EUR`,
      // A rejected row carrying the same data: rejects go to the rejects file, never to a log line.
      `${SECRET_CUSTOMERS[1]},${SECRET_EMAIL},P-3,not a date,${SECRET_AMOUNTS[1]},EUR`,
    ];
    const ref = await upload(stack, 'incoming/privacy/orders.csv', `${header}\n${rows.join('\n')}\n`);
    let failures: unknown[] = [];
    const output = await captureOutput(async () => {
      const response = await ingestLambdaHandler(sqsEvent([{ messageId: 'privacy-1', objects: [ref] }]));
      failures = response.batchItemFailures;
    });
    expect(failures).toEqual([]);
    // The capture works: the handler's own report line is there, with its counts.
    expect(output).toContain('ingest report');
    expect(output).toMatch(/"accepted":2/);
    expectNoCustomerData(output, [...SECRET_CUSTOMERS, SECRET_EMAIL, ...SECRET_AMOUNTS, '4711', '8123']);
  });

  it('a recalculation and the API (Powertools logger at INFO) never log customer ids or amounts', async () => {
    const { text, customers } = smallSample();
    const sampleRef = await upload(stack, 'incoming/cdnow/privacy-sample.csv', text);
    const handler = createApiHandler({
      config: stack.config,
      clients: stack.clients,
      admin: {
        startRecalculation: async () => ({}),
        forgetCustomer: async () => ({ removedScores: 0, storedFiles: { status: 'erasing' } }),
      },
      logger: toAppLogger(new Logger({ serviceName: 'cvm-api', logLevel: 'INFO' })),
    });
    const server = await startApiServer({ handler, port: 0 });
    const api = new ApiClient(server.url);
    const amounts = [
      ...new Set(
        text
          .split('\n')
          .slice(1, 40)
          .map((line) => line.split(',')[3]!),
      ),
    ].filter((amount) => amount && amount.length >= 5);
    try {
      const output = await captureOutput(async () => {
        const ingest = await ingestLambdaHandler(
          sqsEvent([{ messageId: 'privacy-2', objects: [sampleRef] }]),
        );
        expect(ingest.batchItemFailures).toEqual([]);
        await runLocalRecalculation(stack, RUN_SETTINGS);
        await api.loadOpenApi();
        for (const id of customers.slice(0, 5)) {
          expect((await api.request('GET', `/customers/${id}`)).status).toBe(200);
          expect((await api.request('GET', `/customers/${id}/history`)).status).toBe(200);
        }
        expect(
          (
            await api.request('POST', '/customers/batch-get', {
              body: { customerIds: [...customers.slice(0, 5), 'PRIV-unknown-9'] },
            })
          ).status,
        ).toBe(200);
        expect((await api.request('GET', '/customers/PRIV-7731-ANNA')).status).toBe(404);
        expect((await api.request('GET', '/segments/Champions/customers?limit=5')).status).toBe(200);
      });
      // Customer ids of the sample are 4-digit numbers: look for them as JSON values or key parts.
      const idPatterns = customers.slice(0, 5).flatMap((id) => [`"${id}"`, `CUST#${id}`, `/customers/${id}`]);
      expectNoCustomerData(output, [...idPatterns, 'PRIV-7731-ANNA', 'PRIV-unknown-9', ...amounts]);
    } finally {
      await server.close();
    }
  });

  it('change events carry hashed customer ids exactly when hashIdsInEvents is set', async () => {
    // Runs of the previous test exist; each new run has a previous run, so changes become events.
    const plain = await runLocalRecalculation(stack, {
      ...RUN_SETTINGS,
      config: { ...RUN_SETTINGS.config, churnBands: { lowRiskMin: 0.95, mediumRiskMin: 0.9 } },
    });
    const hashed = await runLocalRecalculation(stack, {
      ...RUN_SETTINGS,
      config: { ...RUN_SETTINGS.config, hashIdsInEvents: true },
    });
    const eventsOf = (run: { record: { runId: string } }) =>
      readLocalEvents(stack.config.home!, run.record.runId);
    const plainEvents = eventsOf(plain);
    const hashedEvents = eventsOf(hashed);
    expect(plainEvents.length).toBeGreaterThan(0);
    expect(hashedEvents.length).toBeGreaterThan(0);
    const { customers } = smallSample();
    for (const event of plainEvents) {
      expect(event.customerIdHashed).toBe(false);
      expect(customers).toContain(event.customerId);
    }
    const hashes = new Map(customers.map((id) => [hashCustomerId(id), id]));
    const raw = JSON.stringify(hashedEvents);
    for (const event of hashedEvents) {
      expect(event.customerIdHashed).toBe(true);
      expect(event.customerId).toMatch(/^[0-9a-f]{64}$/);
      expect(hashes.has(event.customerId), 'the hash is the suppression-list hash of a real customer').toBe(
        true,
      );
      expect(raw).not.toContain(`"${hashes.get(event.customerId)}"`);
    }
  });
});
