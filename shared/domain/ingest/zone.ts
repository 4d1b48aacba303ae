/**
 * Converts local wall-clock times of an IANA time zone to UTC using only `Intl.DateTimeFormat` for the
 * zone's offset at an instant. Offsets are cached per local day, so a file costs a few `Intl` calls per
 * distinct day, not per row.
 */

const DAY_MS = 86_400_000;

/** Local milliseconds (wall clock read as if UTC) → UTC milliseconds. */
export type LocalToUtc = (localMillis: number) => number;

export function createLocalToUtc(timeZone: string): LocalToUtc {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return (local) => local;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    era: 'short',
  });
  /** Offset of the zone (local − UTC, ms) at a UTC instant. */
  const offsetAt = (utcMillis: number): number => {
    const instant = Math.floor(utcMillis / 1000) * 1000;
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const part of format.formatToParts(instant)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
      }
    }
    const wall = Date.UTC(bc ? 1 - year : year, month - 1, day, hour, minute, second);
    // Date.UTC maps years 0–99 to 1900–1999; the supported range starts at 1900, so that never applies.
    return wall - instant;
  };

  // Per local day: the offset when it is the same from a day before to a day after (no transition
  // nearby), otherwise null and each value on that day is resolved exactly.
  const steadyOffsetByDay = new Map<number, number | null>();

  const resolveExactly = (local: number): number => {
    const before = offsetAt(local - DAY_MS);
    const after = offsetAt(local + DAY_MS);
    const candidates: number[] = [];
    for (const offset of before === after ? [before] : [before, after]) {
      const utc = local - offset;
      if (offsetAt(utc) === offset) candidates.push(utc);
    }
    // Repeated hour (clocks go back): the earlier instant. Skipped hour (clocks go forward): read the
    // time with the offset from before the change, i.e. move it forward — as Temporal's "compatible".
    if (candidates.length > 0) return Math.min(...candidates);
    return local - before;
  };

  return (local) => {
    const dayKey = Math.floor(local / DAY_MS);
    let steady = steadyOffsetByDay.get(dayKey);
    if (steady === undefined) {
      const dayStart = dayKey * DAY_MS;
      const before = offsetAt(dayStart - DAY_MS);
      const after = offsetAt(dayStart + 2 * DAY_MS);
      steady = before === after ? before : null;
      if (steadyOffsetByDay.size > 100_000) steadyOffsetByDay.clear();
      steadyOffsetByDay.set(dayKey, steady);
    }
    return steady === null ? resolveExactly(local) : local - steady;
  };
}
