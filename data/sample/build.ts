/**
 * Rebuilds `orders.csv` from the public CDNOW sample (`test/fixtures/cdnow/CDNOW_sample.txt`).
 * Deterministic: the same input always gives byte-identical output.
 *
 *   npx tsx data/sample/build.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', '..', 'test', 'fixtures', 'cdnow', 'CDNOW_sample.txt');
const target = join(here, 'orders.csv');

const lines = readFileSync(source, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
const out = ['order_id,customer_id,order_date,amount,currency,quantity'];
const perCustomerDay = new Map<string, number>();
lines.forEach((line, index) => {
  const [, sampleId, yyyymmdd, quantity, dollars] = line.trim().split(/\s+/);
  if (!sampleId || !yyyymmdd || !quantity || !dollars) throw new Error(`line ${index + 1}: expected 5 columns`);
  const date = `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
  // CDNOW records dates only. A time of day between 08:00 and 21:59 UTC, derived from a hash of
  // the row, makes the export look like a real order feed while keeping every order on its UTC date;
  // several orders of one customer on one day get increasing times.
  const dayKey = `${sampleId}|${date}`;
  const nth = perCustomerDay.get(dayKey) ?? 0;
  perCustomerDay.set(dayKey, nth + 1);
  const hash = createHash('sha256').update(`${dayKey}|${nth}`).digest();
  const minuteOfDay = 8 * 60 + (hash.readUInt16BE(0) % (12 * 60)) + nth * 7;
  const hh = String(Math.floor(minuteOfDay / 60)).padStart(2, '0');
  const mm = String(minuteOfDay % 60).padStart(2, '0');
  const ss = String(hash.readUInt8(2) % 60).padStart(2, '0');
  const orderId = `CD${String(index + 1).padStart(6, '0')}`;
  out.push(`${orderId},${sampleId},${date}T${hh}:${mm}:${ss}Z,${Number(dollars).toFixed(2)},USD,${quantity}`);
});
writeFileSync(target, `${out.join('\n')}\n`);
console.log(`wrote ${out.length - 1} orders to ${target}`);
