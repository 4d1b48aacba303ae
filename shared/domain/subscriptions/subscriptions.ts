/**
 * The subscriptions export (the contractual family's natural input, docs/ingest.md): one row per
 * membership or subscription with its start, its cancellation (empty = still active) and its fee per
 * period. Column aliases, the row cleaner with a reason code per rejected row, and the per-customer
 * sBG summary the warehouse SQL reproduces (`subscriptionStatements`).
 */
import * as z from 'zod';
import { type DecimalSeparator, isCurrencyCode, parseAmountCents } from '../ingest/amounts.ts';
import { mapKindColumns } from '../ingest/column-mapping.ts';
import { IngestFileError } from '../ingest/ingest-file-error.ts';
import type { TimestampProblem } from '../ingest/order-timestamps.ts';
import { parseEpochDay } from '../rfm-summary.ts';

/** Canonical fields of a subscriptions export; `customer_id` and `started_at` are required. */
export const SUBSCRIPTION_COLUMNS = [
  'customer_id',
  'subscription_id',
  'plan',
  'started_at',
  'cancelled_at',
  'fee',
  'currency',
] as const;
export type SubscriptionColumn = (typeof SUBSCRIPTION_COLUMNS)[number];

/** Header aliases in English, Dutch and German, in `normalizeHeader` form, best match first. */
export const SUBSCRIPTION_ALIASES: Readonly<Record<SubscriptionColumn, readonly string[]>> = {
  customer_id: [
    'customerid',
    'memberid',
    'membernumber',
    'member',
    'customer',
    'customernumber',
    'accountid',
    'klantid',
    'klantnummer',
    'lidnummer',
    'lidnr',
    'lid',
    'relatienummer',
    'kundennummer',
    'kundenid',
    'mitgliedsnummer',
    'mitgliednr',
    'mitglied',
  ],
  subscription_id: [
    'subscriptionid',
    'membershipid',
    'contractid',
    'contractnumber',
    'abonnementid',
    'abonnementsnummer',
    'lidmaatschapid',
    'contractnummer',
    'abonummer',
    'abonnementnummer',
    'mitgliedschaftsid',
    'vertragsnummer',
    'vertragsid',
  ],
  plan: [
    'plan',
    'product',
    'tier',
    'membershiptype',
    'abonnement',
    'soortlidmaatschap',
    'tarif',
    'mitgliedschaftsart',
  ],
  started_at: [
    'startedat',
    'startdate',
    'start',
    'membersince',
    'joinedat',
    'joindate',
    'startdatum',
    'ingangsdatum',
    'lidsinds',
    'begindatum',
    'beginndatum',
    'eintrittsdatum',
    'mitgliedseit',
    'vertragsbeginn',
  ],
  cancelled_at: [
    'cancelledat',
    'canceledat',
    'cancellationdate',
    'cancelled',
    'canceled',
    'enddate',
    'endedat',
    'opzegdatum',
    'einddatum',
    'opgezegdop',
    'kundigungsdatum',
    'austrittsdatum',
    'enddatum',
    'vertragsende',
  ],
  fee: [
    'fee',
    'amount',
    'price',
    'membershipfee',
    'periodfee',
    'beitrag',
    'mitgliedsbeitrag',
    'contributie',
    'bedrag',
    'lidmaatschapsgeld',
    'prijs',
    'betrag',
    'preis',
  ],
  currency: ['currency', 'currencycode', 'valuta', 'munteenheid', 'wahrung', 'wahrungscode'],
};

export type SubscriptionColumnMapping = Record<SubscriptionColumn, number>;

/**
 * Maps a subscriptions header row: configured names first (exact, then normalized), then the aliases.
 * Throws `columns_missing` naming the file when customer_id or started_at has no column.
 */
export function mapSubscriptionColumns(
  headers: readonly string[],
  configured: Partial<Record<SubscriptionColumn, string | undefined>> | undefined,
  fileName: string,
): SubscriptionColumnMapping {
  const { index, problems } = mapKindColumns(headers, SUBSCRIPTION_COLUMNS, SUBSCRIPTION_ALIASES, configured);
  for (const required of ['customer_id', 'started_at'] as const) {
    if (index[required] < 0 && configured?.[required] === undefined) {
      problems.push(
        `no column for ${required} (accepted headers: ${SUBSCRIPTION_ALIASES[required].slice(0, 8).join(', ')}, …)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new IngestFileError(
      'columns_missing',
      `${fileName}: ${problems.join('; ')}. Headers found: ${headers.map((h) => `'${h}'`).join(', ')}`,
    );
  }
  return index;
}

/** One clean subscriptions row. */
export const subscriptionRowSchema = z.object({
  customerId: z.string().min(1),
  line: z.number().int().positive(),
  subscriptionId: z.string().min(1).nullable(),
  plan: z.string().min(1).nullable(),
  /** Epoch microseconds UTC. */
  startedAtMicros: z.number().int(),
  /** Epoch microseconds UTC; null = still active. Never before `startedAtMicros`. */
  cancelledAtMicros: z.number().int().nullable(),
  /** Fee per period in cents (≥ 0); null when the export has none. */
  feeCents: z.number().int().nonnegative().nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export type SubscriptionRow = z.infer<typeof subscriptionRowSchema>;

export type SubscriptionRejectReason =
  | 'customer_id_missing'
  | 'started_at_missing'
  | 'started_at_invalid'
  | 'cancelled_at_invalid'
  | 'cancelled_before_started'
  | 'fee_invalid'
  | 'fee_negative'
  | 'currency_invalid'
  | 'currency_mismatch';

export type CleanedSubscriptionRow =
  | { ok: true; row: SubscriptionRow }
  | { ok: false; reason: SubscriptionRejectReason; message: string };

export interface SubscriptionRowCleanerOptions {
  mapping: SubscriptionColumnMapping;
  decimal: DecimalSeparator;
  timestamps: { parse(value: string): number | TimestampProblem };
  /** Currency of rows without one (the source's, else the deployment's default). */
  currency: string;
  currencySymbols: ReadonlyMap<string, string>;
}

const quote = (text: string) => `'${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`;

/** Cleans one subscriptions row given as fields in header order; the first failing check is the reason. */
export function cleanSubscriptionRow(
  fields: readonly string[],
  line: number,
  options: SubscriptionRowCleanerOptions,
): CleanedSubscriptionRow {
  const { mapping } = options;
  const value = (column: SubscriptionColumn) =>
    mapping[column] >= 0 ? (fields[mapping[column]] ?? '').trim() : '';
  const fail = (reason: SubscriptionRejectReason, message: string): CleanedSubscriptionRow => ({
    ok: false,
    reason,
    message,
  });

  const customerId = value('customer_id');
  if (customerId === '') return fail('customer_id_missing', 'customer_id is empty');

  const date = (column: 'started_at' | 'cancelled_at'): number | { problem: string } | null => {
    const text = value(column);
    if (text === '') return null;
    const parsed = options.timestamps.parse(text);
    if (typeof parsed === 'number') return parsed;
    const why =
      parsed === 'out_of_range' ? 'is outside the supported years 1900–2199' : 'is not a valid date';
    return { problem: `${column}: ${quote(text)} ${why}` };
  };
  const started = date('started_at');
  if (started === null)
    return fail('started_at_missing', 'started_at is empty: every subscription has a start');
  if (typeof started === 'object') return fail('started_at_invalid', started.problem);
  const cancelled = date('cancelled_at');
  if (typeof cancelled === 'object' && cancelled !== null)
    return fail('cancelled_at_invalid', cancelled.problem);
  if (cancelled !== null && cancelled < started) {
    return fail(
      'cancelled_before_started',
      `cancelled_at ${quote(value('cancelled_at'))} is before started_at ${quote(value('started_at'))}`,
    );
  }

  let feeCents: number | null = null;
  let feeCurrency: string | null = null;
  const feeText = value('fee');
  if (feeText !== '') {
    const detail = { currency: null as string | null, problem: '' };
    feeCents = parseAmountCents(feeText, options.decimal, detail, options.currencySymbols);
    if (Number.isNaN(feeCents)) {
      return fail('fee_invalid', `fee: ${quote(feeText)} is not a valid amount: ${detail.problem}`);
    }
    if (feeCents < 0)
      return fail('fee_negative', `fee: ${quote(feeText)} is negative; a fee is an amount ≥ 0`);
    feeCurrency = detail.currency;
  }

  let currency = options.currency;
  const currencyText = value('currency');
  if (currencyText !== '') {
    const code = options.currencySymbols.get(currencyText) ?? currencyText.toUpperCase();
    if (!isCurrencyCode(code)) {
      return fail(
        'currency_invalid',
        `currency: ${quote(currencyText)} is not an ISO 4217 currency code (such as EUR, USD)`,
      );
    }
    currency = code;
  }
  if (feeCurrency !== null) {
    if (currencyText !== '' && feeCurrency !== currency) {
      return fail(
        'currency_mismatch',
        `fee ${quote(feeText)} is in ${feeCurrency} but currency says ${currency}`,
      );
    }
    currency = feeCurrency;
  }

  const subscriptionId = value('subscription_id');
  const plan = value('plan');
  return {
    ok: true,
    row: {
      customerId,
      line,
      subscriptionId: subscriptionId === '' ? null : subscriptionId,
      plan: plan === '' ? null : plan,
      startedAtMicros: started,
      cancelledAtMicros: cancelled,
      feeCents,
      currency,
    },
  };
}

// ── the contractual (sBG) summary of subscriptions ─────────────────────────────────────────────

/** One subscription as the summary reads it (after "a later export's row wins"): days are epoch days UTC. */
export interface SubscriptionSpell {
  customerId: string;
  /** The subscription's key within its source (its id, else customer and start). */
  key: string;
  startDay: number;
  cancelDay: number | null;
  /** Fee per period in the run currency; 0 when the export has none. */
  fee: number;
}

export interface SubscriptionSummaryRow {
  customerId: string;
  /** Renewals (x = t_x): renewal periods completed before the cancellation, or every one while active. */
  renewals: number;
  /** Renewal opportunities from the start period to the as-of period (n). */
  opportunities: number;
  /** The sBG `T`: n, or renewals + 1 for a cancellation not yet past its lost opportunity (see below). */
  T: number;
  cancelled: boolean;
  fee: number;
  startDay: number;
}

/**
 * Per customer, the sBG summary of their subscriptions as of `asOf` (docs/recalc.md, "Subscriptions"):
 * - the customer's spell is their earliest-started subscription (ties: the one ending last, an active
 *   one last of all; then the key); later subscriptions (a rejoin, a second plan) are not counted, as a
 *   rejoin after a gap does not undo the cancellation in the fee-payment summary either;
 * - s = period of the start, L = period of `asOf`, n = L − s; subscriptions starting after `asOf` are
 *   left out;
 * - active at `asOf` (no cancellation, or one after `asOf`): renewals = n;
 * - cancelled on or before `asOf`, in period c: renewals = max(0, c − s − 1) (the renewal periods
 *   completed before the cancellation; the cancellation's period is the opportunity lost). `T` = n,
 *   except for a cancellation in the start period when that is the as-of period (n = 0): then T = 1,
 *   the next opportunity, which the cancellation already decides, so the member reads as cancelled.
 */
export function summarizeSubscriptions(
  spells: readonly SubscriptionSpell[],
  options: { asOf: string; periodOf: (epochDay: number) => number },
): SubscriptionSummaryRow[] {
  const asOfDay = parseEpochDay(options.asOf, 'as-of date');
  const last = options.periodOf(asOfDay);
  const chosen = new Map<string, SubscriptionSpell>();
  const endOf = (spell: SubscriptionSpell) =>
    spell.cancelDay === null || spell.cancelDay > asOfDay ? Number.POSITIVE_INFINITY : spell.cancelDay;
  for (const spell of spells) {
    if (spell.startDay > asOfDay) continue;
    const current = chosen.get(spell.customerId);
    if (
      !current ||
      spell.startDay < current.startDay ||
      (spell.startDay === current.startDay &&
        (endOf(spell) > endOf(current) || (endOf(spell) === endOf(current) && spell.key < current.key)))
    ) {
      chosen.set(spell.customerId, spell);
    }
  }
  const rows: SubscriptionSummaryRow[] = [];
  for (const spell of chosen.values()) {
    const s = options.periodOf(spell.startDay);
    const n = last - s;
    const cancelled = spell.cancelDay !== null && spell.cancelDay <= asOfDay;
    const renewals = cancelled ? Math.max(0, options.periodOf(spell.cancelDay!) - s - 1) : n;
    rows.push({
      customerId: spell.customerId,
      renewals,
      opportunities: n,
      T: cancelled ? Math.max(n, renewals + 1) : n,
      cancelled,
      fee: spell.fee,
      startDay: spell.startDay,
    });
  }
  return rows.sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}
