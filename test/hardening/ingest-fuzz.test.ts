/**
 * Whole generated export files through the real ingest on the local stand-ins. One stack for all
 * cases; each case gets its own source folder, so content de-duplication never links two cases.
 * The soak version (≥ 10,000 cases) is `npm run bench -- fuzz`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { exportFileArbitrary } from '../support/export-generator.ts';
import { runIngestCase } from './ingest-case.ts';

describe('ingest fuzzing: generated exports through the real ingest', () => {
  let stack: LocalStack;
  let caseNumber = 0;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('never throws, accounts for every row, and matches the model (counts, reasons, totals, rejects file)', async () => {
    await fc.assert(
      fc.asyncProperty(exportFileArbitrary({ maxRows: 25 }), async (generated) => {
        const { violations } = await runIngestCase(stack, generated, `fuzz-${++caseNumber}`);
        expect(violations).toEqual([]);
      }),
      { numRuns: 200 },
    );
  }, 300_000);
});
