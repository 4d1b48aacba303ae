/**
 * `cvm recalc` on the sample plus one's own export: without --as-of it runs as of the export's last
 * day (not yesterday) and prints that the sample was left out; a stale --as-of prints a warning.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as recalc } from '#infra/cli/commands/recalc.ts';
import { advertiseLocalStack, type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { captureCommand } from '#test-support/capture-command.ts';
import { retailerExport } from '#test-support/export-generator.ts';
import { ingestText } from './own-data.ts';
import { ingestSample } from './sample.ts';

const RETAILER = retailerExport();

const capture = (argv: string[]) => captureCommand(recalc, argv);

describe('cvm recalc data selection', { timeout: 180_000 }, () => {
  let home: string;
  let stack: LocalStack;
  let unadvertise: () => void;
  const previousHome = process.env.CVM_HOME;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cvm-cli-selection-'));
    stack = await startLocalStack({ home });
    unadvertise = advertiseLocalStack(stack);
    process.env.CVM_HOME = home;
    await ingestSample(stack, 'incoming/sample/orders.csv');
    await ingestText(stack, 'retailer', 'export.csv', RETAILER.csv, RETAILER.mapping);
  }, 120_000);
  afterAll(async () => {
    if (previousHome === undefined) delete process.env.CVM_HOME;
    else process.env.CVM_HOME = previousHome;
    unadvertise?.();
    await stack?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('runs as of the data’s last day by default and prints what it left out', async () => {
    const { code, output } = await capture([]);
    expect(code, output).toBe(0);
    expect(output).toMatch(new RegExp(`as of ${RETAILER.lastDate}: ${RETAILER.customers} customers`));
    expect(output).toContain('run currency EUR (the currency with the most rows)');
    expect(output).toMatch(/^Sample left out: the bundled sample \(source sample, 6,919 rows/m);
    expect(output).not.toContain('⚠');
  });

  it('warns when the as-of date is far past the last transaction', async () => {
    const { code, output } = await capture(['--as-of', '2026-12-05']);
    expect(code, output).toBe(0);
    expect(output).toMatch(
      new RegExp(
        `^⚠ The as-of date 2026-12-05 is \\d+ days after the last transaction \\(${RETAILER.lastDate}\\)`,
        'm',
      ),
    );
  });
});
