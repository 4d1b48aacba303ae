import {
  ORDER_ECONOMICS_ALIASES,
  ORDER_ECONOMICS_COLUMNS,
  type OrderEconomicsColumn,
} from '../economics/order-economics.ts';
import { IngestFileError } from './ingest-file-error.ts';
import { CANONICAL_COLUMNS, type CanonicalColumn } from './source-config.ts';

/**
 * Header names recognised without configuration, per canonical field, best match first. Headers are
 * compared after `normalizeHeader`: case, accents, spaces, `_`, `-`, `.`, `#`, `/` and brackets are
 * ignored, so `Customer ID`, `customer_id` and `CUSTOMER-ID` all read as `customerid`.
 * Identity only through ids: e-mail addresses and names are deliberately not customer ids.
 */
export const HEADER_ALIASES: Readonly<Record<CanonicalColumn, readonly string[]>> = {
  customer_id: [
    'customerid',
    'customer',
    'customerno',
    'customernumber',
    'customernr',
    'customercode',
    'custid',
    'clientid',
    'client',
    'clientnumber',
    'klantid',
    'klantnummer',
    'klantnr',
    'klant',
    'klantcode',
    'debiteurnummer',
    'kundennummer',
    'kundenid',
    'kunde',
    'accountid',
    'buyerid',
    'userid',
    'memberid',
    'contactid',
  ],
  order_id: [
    'orderid',
    'order',
    'ordernumber',
    'orderno',
    'ordernr',
    'ordernummer',
    'orderreference',
    'bestelnummer',
    'bestellingid',
    'bestellnummer',
    'invoiceid',
    'invoicenumber',
    'invoiceno',
    'invoice',
    'factuurnummer',
    'transactionid',
    'receiptid',
    'receiptnumber',
  ],
  order_ts: [
    'orderts',
    'orderdate',
    'ordertimestamp',
    'orderdatetime',
    'orderedat',
    'date',
    'datetime',
    'timestamp',
    'createdat',
    'purchasedate',
    'purchasedat',
    'transactiondate',
    'invoicedate',
    'besteldatum',
    'orderdatum',
    'datum',
    'factuurdatum',
    'transactiedatum',
    'bestelldatum',
  ],
  amount: [
    'amount',
    'total',
    'totalamount',
    'ordertotal',
    'orderamount',
    'ordervalue',
    'revenue',
    'sales',
    'value',
    'linetotal',
    'spend',
    'bedrag',
    'totaalbedrag',
    'totaal',
    'omzet',
    'betrag',
    'umsatz',
    'gesamtbetrag',
  ],
  currency: ['currency', 'currencycode', 'curr', 'valuta', 'munteenheid', 'valutacode', 'wahrung'],
  channel: ['channel', 'saleschannel', 'orderchannel', 'kanaal', 'verkoopkanaal', 'kanal'],
  quantity: ['quantity', 'qty', 'units', 'aantal', 'menge', 'anzahl'],
};

const REQUIRED: readonly CanonicalColumn[] = ['customer_id', 'order_ts', 'amount'];

export function normalizeHeader(header: string): string {
  return header
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[\s_\-.#/()[\]]+/g, '');
}

export interface ColumnMapping {
  /** Index of each canonical field in the header row, -1 when absent. */
  index: Record<CanonicalColumn, number>;
  /**
   * Index of each optional order-economics field (docs/economics.md), -1 when absent. Mapped after the
   * transaction fields, from the headers they left: an export's revenue column is never read as a cost.
   */
  economics: Record<OrderEconomicsColumn, number>;
  /** Canonical field → header as written in the file (only mapped fields, economics included). */
  columns: Record<string, string>;
}

/** Whether a field → header map (`ColumnMapping.columns`, a parse summary's columns) names an economics field. */
export const namesEconomicsColumn = (columns: Readonly<Record<string, string>>): boolean =>
  ORDER_ECONOMICS_COLUMNS.some((column) => Object.hasOwn(columns, column));

/** Whether the mapping found any order-economics column. */
export const hasEconomicsColumns = (mapping: ColumnMapping): boolean =>
  ORDER_ECONOMICS_COLUMNS.some((column) => mapping.economics[column] >= 0);

/**
 * Maps a header row to canonical fields: configured names first (exact, then normalized), then the
 * aliases. Throws `columns_missing` naming the fields, the headers found and what would be accepted.
 */
export function mapColumns(
  headers: readonly string[],
  configured: Partial<Record<CanonicalColumn | OrderEconomicsColumn, string | undefined>> | undefined,
  fileName: string,
): ColumnMapping {
  const normalized = headers.map(normalizeHeader);
  const index = Object.fromEntries(CANONICAL_COLUMNS.map((c) => [c, -1])) as Record<CanonicalColumn, number>;
  const columns: Record<string, string> = {};
  const problems: string[] = [];
  const taken = new Set<number>();

  for (const canonical of CANONICAL_COLUMNS) {
    const wanted = configured?.[canonical];
    if (wanted === undefined) continue;
    let at = headers.indexOf(wanted);
    if (at < 0) at = normalized.indexOf(normalizeHeader(wanted));
    if (at < 0) {
      problems.push(`configured column ${canonical} = '${wanted}' is not a header of the file`);
      continue;
    }
    index[canonical] = at;
    taken.add(at);
  }
  for (const canonical of CANONICAL_COLUMNS) {
    if (index[canonical] >= 0 || configured?.[canonical] !== undefined) continue;
    for (const alias of HEADER_ALIASES[canonical]) {
      const at = normalized.findIndex((name, i) => name === alias && !taken.has(i));
      if (at >= 0) {
        index[canonical] = at;
        taken.add(at);
        break;
      }
    }
  }
  const economics = Object.fromEntries(ORDER_ECONOMICS_COLUMNS.map((c) => [c, -1])) as Record<
    OrderEconomicsColumn,
    number
  >;
  for (const field of ORDER_ECONOMICS_COLUMNS) {
    const wanted = configured?.[field];
    if (wanted === undefined) continue;
    let at = headers.indexOf(wanted);
    if (at < 0) at = normalized.indexOf(normalizeHeader(wanted));
    if (at < 0) {
      problems.push(`configured column ${field} = '${wanted}' is not a header of the file`);
      continue;
    }
    if (taken.has(at)) {
      problems.push(`configured column ${field} = '${wanted}' is already mapped to another field`);
      continue;
    }
    economics[field] = at;
    taken.add(at);
  }
  for (const field of ORDER_ECONOMICS_COLUMNS) {
    if (economics[field] >= 0 || configured?.[field] !== undefined) continue;
    for (const alias of ORDER_ECONOMICS_ALIASES[field]) {
      const at = normalized.findIndex((name, i) => name === alias && !taken.has(i));
      if (at >= 0) {
        economics[field] = at;
        taken.add(at);
        break;
      }
    }
  }
  for (const canonical of REQUIRED) {
    if (index[canonical] < 0 && configured?.[canonical] === undefined) {
      problems.push(
        `no column for ${canonical} (accepted headers: ${HEADER_ALIASES[canonical].slice(0, 8).join(', ')}, …; ` +
          `or set columns.${canonical} in the source config)`,
      );
    }
  }
  if (problems.length > 0) {
    const found = headers.map((h) => `'${h}'`).join(', ');
    const hint = headerlessHint(headers);
    throw new IngestFileError(
      'columns_missing',
      `${fileName}: ${problems.join('; ')}. Headers found: ${found}${hint ? `. ${hint}` : ''}`,
    );
  }
  for (const canonical of CANONICAL_COLUMNS) {
    const at = index[canonical];
    if (at >= 0) columns[canonical] = headers[at]!;
  }
  for (const field of ORDER_ECONOMICS_COLUMNS) {
    const at = economics[field];
    if (at >= 0) columns[field] = headers[at]!;
  }
  return { index, economics, columns };
}

/**
 * Why a first line without usable headers may not be a header at all: a file that starts with data
 * (every field a number or a date) or whose fields are separated by runs of spaces (the CDNOW
 * layout, fixed-width exports). Undefined when the line looks like a header.
 */
export function headerlessHint(headers: readonly string[]): string | undefined {
  const fields = headers.map((h) => h.trim()).filter((h) => h !== '');
  if (fields.length === 0) return undefined;
  const spaceSeparated = fields.length === 1 && /\S\s{1,}\S/.test(fields[0]!) && /\d/.test(fields[0]!);
  if (spaceSeparated && fields[0]!.split(/\s+/).every((token) => /^[-+]?[\d.,:/-]+$/.test(token))) {
    return (
      'The first line looks like data separated by spaces, without a header row: exports are read as ' +
      'comma, semicolon, tab or pipe separated text with a header naming the columns ' +
      '(e.g. customer_id,order_date,amount); a CDNOW-layout file can be summarized with ' +
      "'cvm summarize --format cdnow'"
    );
  }
  if (fields.every((field) => /^[-+]?[\d.,:/ T-]+$/.test(field))) {
    return (
      'The first line looks like data, not a header row: add a first line naming the columns ' +
      '(e.g. customer_id,order_date,amount)'
    );
  }
  return undefined;
}

/**
 * The column index of each field of a row kind (customer attributes, subscriptions): configured
 * header names first (exact, then normalized), then the kind's aliases for the fields still open;
 * -1 for a field the file lacks. `problems` names configured headers the file does not have.
 */
export function mapKindColumns<Column extends string>(
  headers: readonly string[],
  columns: readonly Column[],
  aliases: Readonly<Record<Column, readonly string[]>>,
  configured: Partial<Record<Column, string | undefined>> | undefined,
): { index: Record<Column, number>; problems: string[] } {
  const normalized = headers.map(normalizeHeader);
  const index = Object.fromEntries(columns.map((c) => [c, -1])) as Record<Column, number>;
  const taken = new Set<number>();
  const problems: string[] = [];
  for (const column of columns) {
    const wanted = configured?.[column];
    if (wanted === undefined) continue;
    let at = headers.indexOf(wanted);
    if (at < 0) at = normalized.indexOf(normalizeHeader(wanted));
    if (at < 0) problems.push(`configured column ${column} = '${wanted}' is not a header of the file`);
    else {
      index[column] = at;
      taken.add(at);
    }
  }
  for (const column of columns) {
    if (index[column] >= 0 || configured?.[column] !== undefined) continue;
    for (const alias of aliases[column]) {
      const at = normalized.findIndex((name, i) => name === alias && !taken.has(i));
      if (at >= 0) {
        index[column] = at;
        taken.add(at);
        break;
      }
    }
  }
  return { index, problems };
}
