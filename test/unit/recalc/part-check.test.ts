/**
 * The part check of the scoring Map's failure policy: which failed parts a run tolerates, what the
 * refusal names, and how many customers have no new score.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '#app/ports/logger.ts';
import { checkScoredParts, NO_ERROR_RECORDED, PartsFailedError } from '#app/recalc/part-check.ts';
import type { FittedRun, PartResult, RecalcDeps } from '#app/recalc/types.ts';
import { partFailureKey, partResultKey, partResultsPrefix } from '#domain/bucket-layout.ts';

const RUN = 'r1';
const partKey = (i: number) => `runs/${RUN}/customer-summaries/part-${String(i).padStart(5, '0')}.parquet`;

/** Deps with the run files in memory (the check reads nothing else). */
function depsWith(files: Map<string, unknown>): RecalcDeps {
  return {
    logger: silentLogger,
    files: {
      getJson: async (key: string) => files.get(key),
      listKeys: async (prefix: string) => [...files.keys()].filter((key) => key.startsWith(prefix)).sort(),
    },
  } as unknown as RecalcDeps;
}

function scenario(parts: number, failed: ReadonlySet<number>, tolerated: number, perPart = 10) {
  const files = new Map<string, unknown>();
  for (let i = 0; i < parts; i++) {
    if (failed.has(i)) {
      if (i % 2 === 0) {
        files.set(partFailureKey(RUN, partKey(i)), {
          partKey: partKey(i),
          error: 'DynamoThrottledError: slow',
        });
      }
    } else {
      files.set(partResultKey(RUN, partKey(i)), {
        partKey: partKey(i),
        customers: perPart - 1,
        suppressed: 1,
      } as PartResult);
    }
  }
  const run = {
    runId: RUN,
    summaryPartKeys: Array.from({ length: parts }, (_, i) => partKey(i)),
    config: { toleratedFailedPartsPercent: tolerated },
    profile: { customersSummarized: parts * perPart },
  } as unknown as FittedRun;
  return { deps: depsWith(files), run };
}

describe('part check', () => {
  it('publishes exactly when no part failed, or some part scored and the failed share is within the tolerance', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).chain((parts) =>
          fc.record({
            parts: fc.constant(parts),
            failed: fc.uniqueArray(fc.integer({ min: 0, max: parts - 1 }), { maxLength: parts }),
            tolerated: fc.integer({ min: 0, max: 100 }),
          }),
        ),
        async ({ parts, failed, tolerated }) => {
          const { deps, run } = scenario(parts, new Set(failed), tolerated);
          const allowed =
            failed.length === 0 || (failed.length < parts && failed.length / parts <= tolerated / 100);
          const outcome = await checkScoredParts(deps, run).catch((error: unknown) => error);
          if (allowed) {
            expect(outcome).not.toBeInstanceOf(Error);
            const check = outcome as Awaited<ReturnType<typeof checkScoredParts>>;
            expect(check.failed.map((f) => f.partKey).sort()).toEqual(failed.map(partKey).sort());
            expect(check.results).toHaveLength(parts - failed.length);
            // 10 summarized customers per part, all of a failed part's unscored.
            expect(check.customersWithoutNewScore).toBe(failed.length * 10);
          } else {
            expect(outcome).toBeInstanceOf(PartsFailedError);
          }
        },
      ),
    );
  });

  it('names each failed part with the error it recorded, or says none was recorded', async () => {
    const { deps, run } = scenario(4, new Set([0, 1]), 0);
    const error = (await checkScoredParts(deps, run).catch((e: unknown) => e)) as PartsFailedError;
    expect(error).toBeInstanceOf(PartsFailedError);
    expect(error.code).toBe('parts_failed');
    expect(error.failed).toEqual([
      { partKey: partKey(0), error: 'DynamoThrottledError: slow' },
      { partKey: partKey(1), error: NO_ERROR_RECORDED },
    ]);
    expect(error.message).toMatch(
      /Run r1: 2 of 4 summary parts failed to score, more than the tolerated 0 %.*part-00000\.parquet \(DynamoThrottledError: slow\); .*part-00001\.parquet \(no result and no error recorded.*cvm recalc --resume r1/,
    );
  });

  it('ignores results of parts the run does not list (an earlier attempt’s)', async () => {
    const { run } = scenario(2, new Set(), 0);
    const files = new Map<string, unknown>([
      [partResultKey(RUN, partKey(0)), { partKey: partKey(0), customers: 10, suppressed: 0 }],
      [partResultKey(RUN, partKey(1)), { partKey: partKey(1), customers: 10, suppressed: 0 }],
      [`${partResultsPrefix(RUN)}part-99999.json`, { partKey: partKey(99_999), customers: 5, suppressed: 0 }],
    ]);
    const check = await checkScoredParts(depsWith(files), run);
    expect(check.results.map((r) => r.partKey)).toEqual([partKey(0), partKey(1)]);
  });
});
