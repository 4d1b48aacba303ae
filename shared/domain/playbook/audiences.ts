/**
 * Audiences: per action, its members ranked by value at stake, and the CSV a campaign tool imports
 * from `runs/<runId>/audiences/<action>.csv`. Pure row and string building; writing is the adapter's.
 */
import type { ActionAssignment } from './actions.ts';
import type { LadderCustomer, LadderPosition } from './ladder.ts';

/** One member of an audience: the assignment plus what a campaign needs to address and explain it. */
export interface AudienceRow extends ActionAssignment {
  clv: number;
  pAlive: number;
  currency: string;
  /** The sentence of what is missing to the next rung; empty on the top rung. */
  toNextRung: string;
}

export interface RankedAudienceRow extends AudienceRow {
  /** 1 = highest value at stake within the action. */
  rank: number;
}

export function audienceRow(
  customer: LadderCustomer,
  position: LadderPosition,
  assignment: ActionAssignment,
): AudienceRow {
  return {
    ...assignment,
    clv: customer.clv,
    pAlive: customer.pAlive,
    currency: customer.currency,
    toNextRung: position.toNextRung?.text ?? '',
  };
}

/** Highest value at stake first; ties by customer id, so the order does not depend on the parts. */
export function compareAudienceRows(a: AudienceRow, b: AudienceRow): number {
  if (a.valueAtStake !== b.valueAtStake) return b.valueAtStake - a.valueAtStake;
  return a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;
}

/**
 * Rows grouped by action (`let-go` included, so nobody is missing from the files), each group ranked.
 * Works on the rows of all parts concatenated in any order.
 */
export function rankAudiences(rows: Iterable<AudienceRow>): Map<string, RankedAudienceRow[]> {
  const byAction = new Map<string, AudienceRow[]>();
  for (const row of rows) {
    const members = byAction.get(row.action) ?? [];
    byAction.set(row.action, members);
    members.push(row);
  }
  const ranked = new Map<string, RankedAudienceRow[]>();
  for (const action of [...byAction.keys()].sort()) {
    const members = [...byAction.get(action)!].sort(compareAudienceRows);
    ranked.set(
      action,
      members.map((row, i) => ({ ...row, rank: i + 1 })),
    );
  }
  return ranked;
}

/** Columns of an audience file, in order. Money in the run currency (2 decimals), rates as fractions. */
export const AUDIENCE_CSV_COLUMNS = [
  'rank',
  'customer_id',
  'action',
  'goal',
  'channel',
  'rung',
  'state',
  'next_rung',
  'to_next_rung',
  'value_at_stake',
  'success_rate',
  'max_cost_per_customer',
  'expected_net_gain',
  'clv',
  'p_alive',
  'currency',
  'candidate_action',
  'reason',
] as const;

/** RFC 4180: quote fields with a comma, quote or line break; double the quotes inside. */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const cents = (value: number) => value.toFixed(2);

/** The audience file: header plus one line per member, lines ended by `\n`. */
export function audienceCsv(rows: readonly RankedAudienceRow[]): string {
  const lines = [AUDIENCE_CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const values: (string | number | null)[] = [
      row.rank,
      row.customerId,
      row.action,
      row.goal,
      row.channel,
      row.rung,
      row.state,
      row.nextRung,
      row.toNextRung,
      cents(row.valueAtStake),
      row.successRate,
      cents(row.maxCostPerCustomer),
      cents(row.expectedNetGain),
      cents(row.clv),
      row.pAlive.toFixed(4),
      row.currency,
      row.candidateAction,
      row.reason,
    ];
    lines.push(values.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}
