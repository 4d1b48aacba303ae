import type { Statement, Warehouse } from '../../shared/app/ports/warehouse.ts';

/**
 * What `cvm up` needs to pick sensible run defaults for whatever a person dropped in: the currency
 * most rows are in and the last transaction date. A sample from 1998 scored "as of today" would call
 * every customer dead, so the local default as-of date is the data's own last day.
 * (Local convenience only: the recalculation's own statements live in the warehouse query module.)
 */
export interface DataExtent {
  currency: string;
  rows: number;
  lastDate: string;
}

const extentStatement: Statement<DataExtent> = {
  name: 'local-data-extent',
  sql: `SELECT currency, count(*) AS row_count, CAST(CAST(max(order_ts) AS DATE) AS VARCHAR) AS last_date
FROM transactions
GROUP BY currency`,
  decode(raw) {
    return { currency: String(raw.currency), rows: Number(raw.row_count), lastDate: String(raw.last_date) };
  },
  compare: (a, b) => b.rows - a.rows || a.currency.localeCompare(b.currency),
};

/** The dominant currency and its last transaction date; null when nothing has been ingested. */
export async function dataExtent(warehouse: Warehouse): Promise<DataExtent | null> {
  const rows = await warehouse.query(extentStatement);
  return rows[0] ?? null;
}
