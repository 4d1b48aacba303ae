/**
 * The scoring Map's failure policy and resumable runs on the local stack: a part that fails after its
 * retries (a fault injected at the S3 layer while ScorePart reads it) lets the other parts finish; the
 * run fails naming the part, or publishes without it within the configured tolerance; a failed run is
 * resumed without redoing the steps and parts it finished.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { listKeys } from '#adapters/s3/objects.ts';
import { type AppLogger, silentLogger } from '#app/ports/logger.ts';
import { ResumeRefusedError } from '#app/recalc/acquire-lock.ts';
import { PartsFailedError } from '#app/recalc/part-check.ts';
import { RECALC_PIPELINE } from '#app/recalc/pipeline.ts';
import { CLEAN_TRANSACTIONS_PREFIX, partResultsPrefix, reportKey } from '#domain/bucket-layout.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { createLocalAdminOperations } from '#infra/cli/commands/serve.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { type LocalRecalcOptions, type RecalcProgress, runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ApiClient } from '../api/http-client.ts';
import { ingestSample, scoresOfRun } from './sample.ts';

const SETTINGS: LocalRecalcOptions = {
  asOf: '1998-06-30',
  // Small parts, so the sample (≈ 2,350 customers) has several: 4 customer buckets of ≈ 600.
  config: { currency: 'USD', holdoutWeeks: 39, partCustomers: 600 },
};
/** The body's steps a resume at `step` skips: every step before it, in the pipeline's order. */
const stepsBefore = (step: string) => {
  const names = RECALC_PIPELINE.body.steps.map((s) => s.name);
  return names.slice(0, names.indexOf(step));
};
const FAILING_PART = /customer-summaries\/part=0\/part-0\.parquet$/;

/** ScorePart invocations the step log reports, and whether each kept an earlier result. */
function scorePartLog() {
  const parts: Array<{ part: string; skipped: boolean }> = [];
  const logger: AppLogger = {
    ...silentLogger,
    info(message, attributes) {
      if (message === 'recalc step finished' && attributes?.step === 'scorePart') {
        parts.push({ part: String(attributes.part), skipped: attributes.skipped === true });
      }
    },
  };
  return { parts, logger };
}

describe('failed score parts and resumed runs', { timeout: 300_000 }, () => {
  let stack: LocalStack;
  /** When set, S3 refuses to read the matching summary part of this run (permanently: no retry helps). */
  let faultyRun: string | null = null;
  let faultsInjected = 0;
  let baselineRunId: string;

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
    stack.clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (
          context.commandName === 'GetObjectCommand' &&
          faultyRun !== null &&
          key.startsWith(`runs/${faultyRun}/`) &&
          FAILING_PART.test(key)
        ) {
          faultsInjected++;
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectPartReadFault' },
    );
    const baseline = await runLocalRecalculation(stack, SETTINGS);
    baselineRunId = baseline.record.runId;
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Arms the fault once FitModels is done (it reads the parts too): only ScorePart meets it. */
  const withFaultAfterFit = (runId: string): Pick<LocalRecalcOptions, 'onProgress'> => ({
    onProgress: (p: RecalcProgress) => {
      if (p.step === 'fitModels' && p.status === 'finished') faultyRun = runId;
    },
  });

  it('a part that keeps failing fails the run naming it, after the other parts finished; --resume scores only that part and publishes the uninterrupted scores', async () => {
    const runId = 'resume-me';
    const failedLog = scorePartLog();
    const failure = await runLocalRecalculation(stack, {
      ...SETTINGS,
      runId,
      logger: failedLog.logger,
      ...withFaultAfterFit(runId),
    }).catch((error: unknown) => error);
    faultyRun = null;
    expect(faultsInjected).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(PartsFailedError);
    expect((failure as Error).message).toMatch(
      /1 of \d+ summary parts failed to score.*part=0\/part-0\.parquet \(AccessDenied: Access Denied\)/,
    );

    // Every other part was scored and kept its result.
    const runs = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const partCount = failedLog.parts.length + 1;
    expect(partCount).toBeGreaterThanOrEqual(2);
    const results = await listKeys(stack.clients.s3, stack.config.bucket, partResultsPrefix(runId));
    expect(results).toHaveLength(partCount - 1);
    const failed = await runs.getRunRecord(runId);
    expect(failed?.status).toBe('failed');
    expect(failed?.message).toMatch(/part=0\/part-0\.parquet \(AccessDenied/);
    expect(await runs.getCurrentRunId()).toBe(baselineRunId);

    // The resume skips Prepare, the summary unload and the fit, and scores the failed part only.
    const resumedLog = scorePartLog();
    const steps: RecalcProgress[] = [];
    const resumed = await runLocalRecalculation(stack, {
      resume: runId,
      logger: resumedLog.logger,
      onProgress: (p) => steps.push(p),
    });
    expect(steps.filter((p) => p.status === 'skipped').map((p) => p.step)).toEqual(stepsBefore('scoreParts'));
    expect(resumedLog.parts.filter((p) => !p.skipped).map((p) => p.part)).toEqual(['part_0_part-0']);
    expect(resumedLog.parts.filter((p) => p.skipped)).toHaveLength(partCount - 1);
    expect(resumed.record).toMatchObject({ runId, status: 'published', attempts: 2 });
    expect(resumed.record.resumedAt).toBeDefined();
    expect(resumed.record.failedParts).toBeUndefined();
    expect(await runs.getCurrentRunId()).toBe(runId);

    // The same scores as the uninterrupted run over the same data and settings.
    const baseline = await runs.getRunRecord(baselineRunId);
    expect(resumed.record.customers).toBe(baseline!.customers);
    const scoresOf = async (id: string, segments: string[]) =>
      new Map(
        (await scoresOfRun(stack, id, segments)).map((item) => [
          item.customerId,
          { clv: item.clv, pAlive: item.pAlive, segment: item.segment, valueTier: item.valueTier },
        ]),
      );
    const segments = baseline!.segments.map((s) => s.segment);
    const expected = await scoresOf(baselineRunId, segments);
    const actual = await scoresOf(runId, segments);
    expect(actual.size).toBe(baseline!.customers);
    expect(actual).toEqual(expected);
  });

  it('within toleratedFailedPartsPercent the run publishes without the part, names it, and the API serves its customers from the previous run as stale', async () => {
    const runId = 'tolerant';
    const previousRunId = await createRunRepository({
      dynamo: stack.clients.dynamo,
      table: stack.config.table,
    }).getCurrentRunId();
    const result = await runLocalRecalculation(stack, {
      ...SETTINGS,
      config: { ...SETTINGS.config, toleratedFailedPartsPercent: 50 },
      runId,
      ...withFaultAfterFit(runId),
    });
    faultyRun = null;
    const record = result.record;
    expect(record.status).toBe('published');
    expect(record.failedParts).toHaveLength(1);
    expect(record.failedParts![0]!.partKey).toMatch(FAILING_PART);
    expect(record.failedParts![0]!.error).toBe('AccessDenied: Access Denied');
    expect(record.message).toMatch(/1 of \d+ summary parts failed to score/);

    // The customers without a new score are those the previous run scored and this one did not.
    const segments = [...new Set([...record.segments.map((s) => s.segment)])];
    const now = new Set((await scoresOfRun(stack, runId, segments)).map((item) => item.customerId as string));
    const before = (await scoresOfRun(stack, previousRunId!, segments)).map(
      (item) => item.customerId as string,
    );
    const missing = before.filter((id) => !now.has(id));
    expect(missing.length).toBeGreaterThan(0);
    expect(record.customersWithoutNewScore).toBe(missing.length);
    expect(record.customers + missing.length).toBe(before.length);

    // The report says it too, naming the part.
    const report = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(runId) }),
    );
    const html = await report.Body!.transformToString();
    expect(html).toContain(`${missing.length} customers have no new score in this run`);
    expect(html).toContain(
      `No new score for the customers of summary part ${record.failedParts![0]!.partKey} (AccessDenied: Access Denied).`,
    );

    const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
    const server: ApiServer = await startApiServer({ handler, port: 0 });
    try {
      const api = new ApiClient(server.url);
      await api.loadOpenApi();
      const run = await api.request('GET', `/runs/${runId}`);
      expect(run.json).toMatchObject({
        failedParts: record.failedParts,
        customersWithoutNewScore: missing.length,
      });
      const stale = await api.request('GET', `/customers/${encodeURIComponent(missing[0]!)}`);
      expect(stale.status).toBe(200);
      expect(stale.json).toMatchObject({ customerId: missing[0], runId: previousRunId, stale: true });
      const fresh = await api.request('GET', `/customers/${encodeURIComponent([...now][0]!)}`);
      expect(fresh.json).toMatchObject({ runId });
      expect((fresh.json as { stale?: boolean }).stale).toBeUndefined();
      expect((await api.request('GET', '/customers/no-such-customer')).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('a run that failed in FitModels resumes at FitModels: the summaries are not queried again', async () => {
    const runId = 'fit-failed';
    // Reading the parts fails while FitModels runs (it samples them for the value tiers).
    const failure = await runLocalRecalculation(stack, {
      ...SETTINGS,
      runId,
      onProgress: (p) => {
        if (p.step === 'unloadSummaries' && p.status === 'finished') faultyRun = runId;
      },
    }).catch((error: unknown) => error);
    faultyRun = null;
    expect((failure as Error).name).toBe('AccessDenied');

    const steps: RecalcProgress[] = [];
    const scored = scorePartLog();
    const resumed = await runLocalRecalculation(stack, {
      resume: runId,
      logger: scored.logger,
      onProgress: (p) => steps.push(p),
    });
    expect(steps.filter((p) => p.status === 'skipped').map((p) => p.step)).toEqual(stepsBefore('fitModels'));
    expect(steps.some((p) => p.step === 'fitModels' && p.status === 'finished')).toBe(true);
    // No part had a result: every part is scored.
    expect(scored.parts.every((p) => !p.skipped)).toBe(true);
    expect(resumed.record).toMatchObject({ status: 'published', attempts: 2 });
  });

  it('refuses to resume an unknown run, a published run, or a run whose clean data changed since; POST /runs resumes a failed run', async () => {
    await expect(runLocalRecalculation(stack, { resume: 'never-ran' })).rejects.toThrow(
      /Cannot resume run never-ran: no such run/,
    );
    await expect(runLocalRecalculation(stack, { resume: 'tolerant' })).rejects.toThrow(
      /Cannot resume run tolerant: it was published/,
    );

    const runId = 'data-changed';
    await expect(
      runLocalRecalculation(stack, { ...SETTINGS, runId, ...withFaultAfterFit(runId) }),
    ).rejects.toThrow(PartsFailedError);
    faultyRun = null;
    // New clean data arrives before the resume (an object key as an ingest writes it).
    const added = `${CLEAN_TRANSACTIONS_PREFIX}source=late/ingest_date=1998-07-01/0123abcd.parquet`;
    await stack.clients.s3.send(
      new PutObjectCommand({ Bucket: stack.config.bucket, Key: added, Body: 'not read' }),
    );
    try {
      const refused = await runLocalRecalculation(stack, { resume: runId }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ResumeRefusedError);
      expect((refused as Error).message).toMatch(
        /Cannot resume run data-changed: the clean data changed since it started \(1 objects added, 0 gone/,
      );
    } finally {
      await stack.clients.s3.send(new DeleteObjectCommand({ Bucket: stack.config.bucket, Key: added }));
    }
    // The refusal changed nothing: the run is still failed and can be resumed now, through the admin
    // API (`POST /runs` with `resume`) as in AWS.
    const runs = createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    expect((await runs.getRunRecord(runId))?.status).toBe('failed');
    const ADMIN_KEY = 'admin-key';
    let finished: (outcome: { runId: string; error?: Error }) => void = () => {};
    const done = new Promise<{ runId: string; error?: Error }>((resolve) => {
      finished = resolve;
    });
    const handler = createApiHandler({
      config: stack.config,
      clients: stack.clients,
      admin: createLocalAdminOperations(stack, { onRecalcFinished: (outcome) => finished(outcome) }),
    });
    const server = await startApiServer({ handler, port: 0, adminKey: ADMIN_KEY });
    try {
      const api = new ApiClient(server.url, ADMIN_KEY);
      await api.loadOpenApi();
      const unknown = await api.request('POST', '/runs', { body: { resume: 'never-ran' } });
      expect(unknown.status).toBe(404);
      expect(unknown.text).toMatch(/body.resume: no run \\?"never-ran\\?" to resume/);
      const published = await api.request('POST', '/runs', { body: { resume: 'tolerant' } });
      expect(published.status).toBe(409);
      const mixed = await api.request('POST', '/runs', { body: { resume: runId, asOf: '1998-06-30' } });
      expect(mixed.status).toBe(400);
      expect(mixed.text).toMatch(/resume takes no asOf, model or family/);

      const started = await api.request('POST', '/runs', { body: { resume: runId } });
      expect(started.status).toBe(202);
      expect(started.json).toMatchObject({ runId });
      expect(await done).toEqual({ runId });
    } finally {
      await server.close();
    }
    expect(await runs.getRunRecord(runId)).toMatchObject({ status: 'published', attempts: 2 });
  });
});
