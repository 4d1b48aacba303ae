import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
import { createRunRepository } from '#adapters/dynamo/run-repository.ts';
import { GONE_COLUMN } from '#domain/migration.ts';
import { type RunRecord, runRecordSchema } from '#domain/run.ts';
import { run as forget } from '#infra/cli/commands/forget.ts';
import { run as recalc } from '#infra/cli/commands/recalc.ts';
import { advertiseLocalStack, type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { captureCommand } from '#test-support/capture-command.ts';
import { ingestSample } from './sample.ts';

/** Runs a CLI command, returning its exit code and what it printed. */
const capture = captureCommand;

describe('cvm recalc and cvm forget', { timeout: 180_000 }, () => {
  let home: string;
  let stack: LocalStack;
  let unadvertise: () => void;
  const previousHome = process.env.CVM_HOME;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cvm-cli-recalc-'));
    stack = await startLocalStack({ home });
    unadvertise = advertiseLocalStack(stack);
    process.env.CVM_HOME = home;
    await ingestSample(stack);
  }, 120_000);
  afterAll(async () => {
    if (previousHome === undefined) delete process.env.CVM_HOME;
    else process.env.CVM_HOME = previousHome;
    unadvertise?.();
    await stack?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('rejects bad options with usage and exit code 2', async () => {
    expect((await capture(recalc, ['--as-of', '1998-02-30'])).output).toMatch(
      /--as-of: expected a calendar date/,
    );
    expect((await capture(recalc, ['--model', 'gbm'])).code).toBe(2);
    expect((await capture(recalc, ['--currency', 'dollars'])).code).toBe(2);
    expect((await capture(forget, [])).code).toBe(2);
  });

  it('prints the run record with --json, then honours an erasure in the next run', async () => {
    const first = await capture(recalc, ['--as-of', '1998-06-30', '--currency', 'USD', '--json']);
    expect(first.code).toBe(0);
    const record: RunRecord = runRecordSchema.parse(JSON.parse(first.output));
    expect(record).toMatchObject({
      status: 'published',
      asOf: '1998-06-30',
      timeUnit: 'weeks',
      currency: 'USD',
    });
    expect(record.model?.name).toBe('bgnbd');
    expect(record.holdout?.meanAbsoluteError).toBeGreaterThan(0);

    const store = {
      ...createRunRepository({ dynamo: stack.clients.dynamo, table: stack.config.table }),
      getScore: createScoreReadModel(stack.clients, stack.config.table).getScore,
    };
    const erasedSegment = (await store.getScore('0001', record.runId))!.segment;
    const typo = await capture(forget, ['0001x']);
    expect(typo.code).toBe(1);
    expect(typo.output).toMatch(/no customer "0001x" in any run: nothing was erased.*--force/s);
    const erased = await capture(forget, ['0001']);
    expect(erased.code).toBe(0);
    expect(erased.output).toMatch(/1 score item\(s\) deleted/);
    expect(await store.getScore('0001', record.runId)).toBeNull();

    const second = await capture(recalc, ['--as-of', '1998-06-30', '--currency', 'USD']);
    expect(second.code).toBe(0);
    expect(second.output).toMatch(/segment\s+customers\s+total CLV \(USD\)\s+mean CLV\s+share of value/);
    expect(second.output).toMatch(/Champions\s+\d+/);
    expect(second.output).toMatch(
      /Holdout check \(bgnbd, calibration to 1997-12-30, holdout to 1998-06-30\)/,
    );
    expect(second.output).toMatch(/per-customer MAE \d\.\d{3}, correlation 0\.\d{3}/);

    const current = (await store.getRunRecord((await store.getCurrentRunId())!))!;
    expect(current.customers).toBe(record.customers - 1);
    expect(await store.getScore('0001', current.runId)).toBeNull();
    expect(current.migration?.[erasedSegment]?.[GONE_COLUMN]).toBe(1);
  });
});
