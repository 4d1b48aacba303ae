/** S3 layout of one run's working files, all under `runs/<runId>/`. */
export const runPrefix = (runId: string) => `runs/${runId}/`;
/** The run's HTML report (`cvm up` serves it at /report). */
export const reportKey = (runId: string) => `${runPrefix(runId)}report.html`;
export const suppressedKey = (runId: string) => `${runPrefix(runId)}suppressed.json`;
export const partResultsPrefix = (runId: string) => `${runPrefix(runId)}parts/`;
export const changesPrefix = (runId: string) => `${runPrefix(runId)}changes/`;

/** File name of a summary part, used to name its result and change files. */
export const partName = (partKey: string) =>
  partKey
    .slice(partKey.lastIndexOf('/') + 1)
    .replace(/\.parquet$/, '')
    .replace(/[^A-Za-z0-9._-]/g, '_');

export const partResultKey = (runId: string, partKey: string) =>
  `${partResultsPrefix(runId)}${partName(partKey)}.json`;
export const partChangesKey = (runId: string, partKey: string) =>
  `${changesPrefix(runId)}${partName(partKey)}.jsonl`;
