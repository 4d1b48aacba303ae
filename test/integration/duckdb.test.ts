/**
 * Embedded DuckDB opens in UTC with bounded memory, and SQL literals are quoted safely.
 */
import { describe, expect, it } from 'vitest';
import { openDuckDb, sqlLiteral } from '#adapters/duckdb.ts';

describe('openDuckDb', () => {
  it('opens an in-memory database in UTC with bounded memory', async () => {
    const db = await openDuckDb({ memoryLimit: '64MB', threads: 1 });
    try {
      const reader = await db.connection.runAndReadAll(
        "SELECT current_setting('TimeZone') AS tz, current_setting('memory_limit') AS mem, " +
          "(TIMESTAMPTZ '1997-01-01 23:30:00+00')::DATE::VARCHAR AS d",
      );
      expect(reader.getRowObjectsJS()).toEqual([
        { tz: 'UTC', mem: expect.stringMatching(/^6\d\.\d MiB$/), d: '1997-01-01' },
      ]);
    } finally {
      db.close();
    }
  });

  it('quotes SQL literals', () => {
    expect(sqlLiteral("it's")).toBe("'it''s'");
  });
});
