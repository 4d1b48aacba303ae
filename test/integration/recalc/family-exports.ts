/**
 * Test exports of the period families, built from published reference summaries: a donor gift export
 * (BG/BB, yearly) and a membership fee export (sBG, yearly renewals), with the summaries they stand for.
 */
import { readFileSync } from 'node:fs';

/** One summarized customer: x transactions (renewals) in n opportunities, the last at t_x. */
export interface PeriodHistory {
  customerId: string;
  x: number;
  tx: number;
  n: number;
}

export interface FamilyExport {
  /** The CSV export (order_id, customer_id, order_date, amount, currency). */
  csv: string;
  rows: number;
  histories: PeriodHistory[];
}

const HEADER = 'order_id,customer_id,order_date,amount,currency';

/** A deterministic amount in [low, low + spread) for customer i (no random source in tests). */
const amountOf = (i: number, low: number, spread: number) =>
  (low + ((i * 7919) % (spread * 100)) / 100).toFixed(2);

/**
 * The 1995 donor cohort of Fader, Hardie & Shang (2010) as a gift log: every donor gives in 1995
 * (the cohort year) and once in each repeat year; a donor with x repeat years, the last in year
 * t_x, gives in years 1995 + 1 … 1995 + (x − 1) and 1995 + t_x (BG/BB sees only x, t_x and n, so
 * which earlier years carry the gifts does not matter). Observed to the end of 2001: n = 6.
 */
export function donorExport(): FamilyExport {
  const text = readFileSync(new URL('../../fixtures/donations/donations.csv', import.meta.url), 'utf8');
  const [, ...lines] = text.trim().split('\n');
  const rows: string[] = [HEADER];
  const histories: PeriodHistory[] = [];
  let donor = 0;
  let order = 0;
  for (const line of lines) {
    const [x, tx, n, weight] = line.split(',').map(Number) as [number, number, number, number];
    for (let k = 0; k < weight; k++) {
      donor++;
      const customerId = `D${String(donor).padStart(5, '0')}`;
      histories.push({ customerId, x, tx, n });
      const years = [0, ...Array.from({ length: x - 1 }, (_, j) => j + 1), ...(x > 0 ? [tx] : [])];
      for (const year of years) {
        order++;
        rows.push(
          `G${String(order).padStart(6, '0')},${customerId},${1995 + year}-06-15,${amountOf(donor + year, 10, 90)},USD`,
        );
      }
    }
  }
  return { csv: `${rows.join('\n')}\n`, rows: order, histories };
}

/**
 * The "regular" cohort of Fader & Hardie (2007) as a membership fee log: 1,000 members join on
 * 2001-03-15 and pay a yearly fee on each anniversary until they cancel (a member with r renewals
 * pays in 2001 … 2001 + r); survivors 1000, 631, 468, 382, 326, 289, 262, 241 in years 0–7.
 * Observed to the end of 2008: 7 renewal opportunities. Fees are 40, 60 or 80 by member.
 */
export function membershipExport(): FamilyExport {
  const text = readFileSync(new URL('../../fixtures/sbg/regular.csv', import.meta.url), 'utf8');
  const [, ...lines] = text.trim().split('\n');
  const rows: string[] = [HEADER];
  const histories: PeriodHistory[] = [];
  let order = 0;
  lines.forEach((line, i) => {
    const [, recency, T] = line.split(',') as [string, string, string];
    const renewals = Number(recency);
    const customerId = `M${String(i + 1).padStart(4, '0')}`;
    histories.push({ customerId, x: renewals, tx: renewals, n: Number(T) });
    const fee = [40, 60, 80][i % 3]!;
    for (let year = 0; year <= renewals; year++) {
      order++;
      rows.push(`F${String(order).padStart(6, '0')},${customerId},${2001 + year}-03-15,${fee}.00,USD`);
    }
  });
  return { csv: `${rows.join('\n')}\n`, rows: order, histories };
}

/**
 * The same "regular" cohort as a subscriptions export (one row per membership: start, cancellation,
 * yearly fee), in Dutch with semicolons as a membership administration writes it: 1,000 members start
 * on 2001-03-15; a member with r renewals cancels during year 2001 + r + 1 (the renewal lost), so the
 * ones with 6 renewals cancel in 2008, the as-of year. Every fifth member still active at the end of
 * 2008 has handed in a cancellation dated 2009 (after the as-of date: still a member). One more member
 * joins in 2008 (n = 0: scored, no information for the fit).
 */
export function membershipSubscriptionsExport(): FamilyExport & { joinedThisYear: string } {
  const text = readFileSync(new URL('../../fixtures/sbg/regular.csv', import.meta.url), 'utf8');
  const [, ...lines] = text.trim().split('\n');
  const rows = ['lidnummer;startdatum;opzegdatum;contributie;valuta'];
  const histories: PeriodHistory[] = [];
  lines.forEach((line, i) => {
    const [, recency, T] = line.split(',') as [string, string, string];
    const renewals = Number(recency);
    const n = Number(T);
    const customerId = `M${String(i + 1).padStart(4, '0')}`;
    histories.push({ customerId, x: renewals, tx: renewals, n });
    const fee = [40, 60, 80][i % 3]!;
    const cancelled =
      renewals < n ? `${2001 + renewals + 1}-0${1 + (i % 9)}-1${i % 10}` : i % 5 === 0 ? '2009-02-01' : '';
    rows.push(`${customerId};2001-03-15;${cancelled};${fee},00;USD`);
  });
  const joinedThisYear = 'M9999';
  rows.push(`${joinedThisYear};2008-06-01;;50,00;USD`);
  return { csv: `${rows.join('\n')}\n`, rows: rows.length - 1, histories, joinedThisYear };
}
