/**
 * Purging deleted DynamoDB items from the local table's files. dynalite keeps the table in LevelDB,
 * which marks a deleted item and leaves its bytes in its log and table files until a compaction
 * rewrites them: after an erasure the customer's score items would still be readable on disk.
 * Erasure asks for a compaction with a marker file; whichever process owns the table files runs it
 * when the table is closed (a stopping stack) or before it is opened (a starting stack).
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

const MARKER = 'dynamodb-compaction-pending';

/** Asks the owner of `home`'s table files to compact them when they are next closed or opened. */
export function requestTableCompaction(home: string): void {
  writeFileSync(join(home, MARKER), new Date().toISOString());
}

/**
 * Compacts the whole table (deleted items and their overwritten values are dropped) when erasure asked
 * for it, then opens it once more so LevelDB writes a fresh manifest (the old one names the first and
 * last keys of the files it dropped). The table files must not be open in this process.
 */
export async function compactTableIfRequested(home: string, tableDirectory: string): Promise<boolean> {
  const marker = join(home, MARKER);
  if (!existsSync(marker) || !existsSync(tableDirectory)) return false;
  const db = new ClassicLevel<Buffer, Buffer>(tableDirectory, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  try {
    await db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff));
  } finally {
    await db.close();
  }
  const reopened = new ClassicLevel(tableDirectory);
  await reopened.open();
  await reopened.close();
  rmSync(marker, { force: true });
  return true;
}
