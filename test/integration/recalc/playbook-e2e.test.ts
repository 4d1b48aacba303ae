/**
 * The value playbook end to end on the CDNOW sample (2,357 customers, 1997-01-01 .. 1998-06-30), two
 * weekly runs on the local stack (as of 1998-06-23 and 1998-06-30, calibration to 1997-09-30):
 * - the backtest of the second run equals a computation from the raw holdout transactions (purchase
 *   days and orders recounted here from the export file, per audience and comparable non-members);
 * - the movement counts and the previous audiences' outcomes agree with the migration matrix and with
 *   the customers' stored scores of both runs;
 * - every audience is in the bucket (CSV), the API (GET /playbook, paged audience walk, customer
 *   fields) and the report.
 */
import { readFileSync } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalEvents } from '#adapters/events/jsonl-publisher.ts';
import { audienceKey, backtestAssignmentsKey, reportKey } from '#domain/bucket-layout.ts';
import { AUDIENCE_CSV_COLUMNS } from '#domain/playbook/audiences.ts';
import { GONE_POSITION, ladderPositionKey, NEW_POSITION } from '#domain/playbook/movement.ts';
import { LET_GO_ACTION, PLAYBOOK_PRESETS, type RungRule } from '#domain/playbook/playbook-config.ts';
import type { PlaybookSummary } from '#domain/playbook/summary.ts';
import { createApiHandler } from '#functions/api/app.ts';
import { type ApiServer, startApiServer } from '#infra/local/api-server.ts';
import { type LocalRecalcResult, runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ApiClient } from '../api/http-client.ts';
import { ingestSample, SAMPLE_FILE, scoresOfRun } from './sample.ts';

const CALIBRATION_END = '1997-09-30';
const FIRST_AS_OF = '1998-06-23';
const AS_OF = '1998-06-30';
const READ_KEY = 'playbook-read-key';
const LADDER = PLAYBOOK_PRESETS['web-shop'].ladder;

/** The export as rows: order id, customer, UTC day, amount. */
function exportRows() {
  const [, ...lines] = readFileSync(SAMPLE_FILE, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const [orderId, customerId, orderDate, amount] = line.split(',');
    return {
      orderId: orderId!,
      customerId: customerId!,
      day: orderDate!.slice(0, 10),
      amount: Number(amount),
    };
  });
}

/**
 * Per customer, from the raw rows: first purchase day (first day with net value ≥ 0), purchase days
 * (net > 0) after it inside (calibrationEnd, asOf], and distinct orders up to asOf.
 */
function holdoutFromTransactions(calibrationEnd: string, asOf: string) {
  const days = new Map<string, Map<string, number>>();
  const orders = new Map<string, Set<string>>();
  for (const row of exportRows()) {
    if (row.day > asOf) continue;
    const net = days.get(row.customerId) ?? new Map<string, number>();
    days.set(row.customerId, net);
    net.set(row.day, (net.get(row.day) ?? 0) + row.amount);
    const ids = orders.get(row.customerId) ?? new Set<string>();
    orders.set(row.customerId, ids);
    ids.add(row.orderId);
  }
  const result = new Map<string, { holdoutPurchases: number; orders: number }>();
  for (const [customerId, net] of days) {
    const firstDay = [...net.entries()]
      .filter(([, value]) => value >= 0)
      .map(([day]) => day)
      .sort()[0];
    if (firstDay === undefined || firstDay > calibrationEnd) continue;
    const holdoutPurchases = [...net.entries()].filter(
      ([day, value]) => day > calibrationEnd && day > firstDay && value > 0,
    ).length;
    result.set(customerId, { holdoutPurchases, orders: orders.get(customerId)!.size });
  }
  return result;
}

const TIER_RANK: Record<string, number> = { top1: 0, top10: 1, top25: 2, rest: 3 };

/** The web-shop rung rules use orders and the value tier only (checked below), evaluated here by hand. */
function meetsByHand(rule: RungRule, orders: number, valueTier: string): boolean {
  if (rule.minOrders !== undefined && orders < rule.minOrders) return false;
  if (rule.minValueTier !== undefined && TIER_RANK[valueTier]! > TIER_RANK[rule.minValueTier]!) return false;
  return true;
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const columns = header!.split(',');
  return lines.map((line) => {
    // Audience and backtest files quote only free-text fields, which come after the ones read here.
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((cell) => cell.replace(/,$/, ''));
    return Object.fromEntries(
      columns.map((column, i) => [column, (cells[i] ?? '').replace(/^"|"$/g, '').replaceAll('""', '"')]),
    );
  });
}

describe('value playbook on CDNOW: backtest, two weekly runs, bucket, API and report', {
  timeout: 240_000,
}, () => {
  let stack: LocalStack;
  let server: ApiServer;
  let api: ApiClient;
  let first: LocalRecalcResult;
  let second: LocalRecalcResult;
  let firstItems: Map<string, Record<string, unknown>>;
  let secondItems: Map<string, Record<string, unknown>>;

  const getObject = async (key: string) => {
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: key }),
    );
    return object.Body!.transformToString();
  };
  const itemsOf = async (run: LocalRecalcResult) =>
    new Map(
      (
        await scoresOfRun(
          stack,
          run.record.runId,
          run.record.segments.map((s) => s.segment),
        )
      ).map((item) => [item.customerId as string, item]),
    );

  beforeAll(async () => {
    stack = await startLocalStack();
    await ingestSample(stack);
    first = await runLocalRecalculation(stack, {
      asOf: FIRST_AS_OF,
      config: { currency: 'USD', holdoutWeeks: 38 },
    });
    second = await runLocalRecalculation(stack, {
      asOf: AS_OF,
      config: { currency: 'USD', holdoutWeeks: 39 },
    });
    firstItems = await itemsOf(first);
    secondItems = await itemsOf(second);
    const handler = createApiHandler({ config: stack.config, clients: stack.clients, serves: 'read' });
    server = await startApiServer({ handler, port: 0, apiKey: READ_KEY });
    api = new ApiClient(server.url, READ_KEY);
    await api.loadOpenApi();
  }, 240_000);
  afterAll(async () => {
    await server?.close();
    await stack?.stop();
  });

  it('computes the backtest on the holdout split, equal to a recount from the raw holdout transactions', async () => {
    const backtest = second.record.playbook!.backtest!;
    expect(backtest).toMatchObject({ calibrationEnd: CALIBRATION_END, holdoutEnd: AS_OF, sampled: false });
    // The recount reads orders and value tiers only: make sure the ladder asks for nothing else.
    for (const rung of LADDER.rungs) {
      const { minOrders: _orders, minValueTier: _tier, ...rest } = rung.rule;
      expect(Object.values(rest).every((value) => value === undefined)).toBe(true);
    }

    const truth = holdoutFromTransactions(CALIBRATION_END, AS_OF);
    const assignments = parseCsv(await getObject(backtestAssignmentsKey(second.record.runId)));
    // Everyone who had bought by the calibration end is evaluated, once.
    expect(assignments.map((a) => a.customer_id).sort()).toEqual([...truth.keys()].sort());
    expect(backtest.customers).toBe(truth.size);

    type Tally = {
      customers: number;
      purchasers: number;
      purchases: number;
      withNextRung: number;
      reached: number;
    };
    const zero = (): Tally => ({ customers: 0, purchasers: 0, purchases: 0, withNextRung: 0, reached: 0 });
    const cells = new Map<string, Map<string, { members: Tally; others: Tally }>>();
    for (const a of assignments) {
      if (a.candidate_action === '') continue;
      const { holdoutPurchases, orders } = truth.get(a.customer_id!)!;
      const valueTier = secondItems.get(a.customer_id!)!.valueTier as string;
      const byCell = cells.get(a.candidate_action!) ?? new Map();
      cells.set(a.candidate_action!, byCell);
      const key = `${a.rung}/${a.state}`;
      const cell = byCell.get(key) ?? { members: zero(), others: zero() };
      byCell.set(key, cell);
      const tally = a.action === a.candidate_action ? cell.members : cell.others;
      tally.customers += 1;
      tally.purchases += holdoutPurchases;
      if (holdoutPurchases > 0) tally.purchasers += 1;
      if (a.next_rung !== '') {
        tally.withNextRung += 1;
        const rule = LADDER.rungs.find((rung) => rung.id === a.next_rung)!.rule;
        if (meetsByHand(rule, orders, valueTier)) tally.reached += 1;
      }
    }

    const lifts: number[] = [];
    expect(backtest.results.map((r) => r.action)).toEqual([...cells.keys()].sort());
    for (const result of backtest.results) {
      const members = zero();
      const comparable = zero();
      for (const cell of cells.get(result.action)!.values()) {
        for (const field of Object.keys(members) as (keyof Tally)[]) {
          members[field] += cell.members[field];
          if (cell.members.customers > 0) comparable[field] += cell.others[field];
        }
      }
      const check = (stored: (typeof result)['members'], expected: Tally) => {
        expect(stored).toMatchObject({
          customers: expected.customers,
          purchasers: expected.purchasers,
          purchases: expected.purchases,
          withNextRung: expected.withNextRung,
          reachedNextRung: expected.reached,
        });
      };
      check(result.members, members);
      check(result.comparableNonMembers, comparable);
      const rate = (t: Tally) => (t.customers > 0 ? t.purchasers / t.customers : null);
      const memberRate = rate(members);
      const otherRate = rate(comparable);
      const expectedLift = memberRate === null || !otherRate ? null : memberRate / otherRate;
      if (expectedLift === null) expect(result.purchaseLift).toBeNull();
      else {
        expect(result.purchaseLift).toBeCloseTo(expectedLift, 12);
        lifts.push(expectedLift);
      }
    }
    // Not vacuous: some audiences have members and comparable non-members with purchases.
    expect(lifts.length).toBeGreaterThan(0);
    // The action table shows each action's backtest.
    for (const action of second.record.playbook!.actions) {
      if (action.action === LET_GO_ACTION) continue;
      expect(action.backtest).toEqual(backtest.results.find((r) => r.action === action.action) ?? null);
    }
  });

  it('movement: the matrix rows are the previous positions, its columns this run’s, the summary its sum by level', () => {
    const previous = first.record.playbook!;
    const current = second.record.playbook!;
    const movement = current.movement!;
    expect(movement.previousRunId).toBe(first.record.runId);
    const rowSums = new Map<string, number>();
    const columnSums = new Map<string, number>();
    for (const [from, row] of Object.entries(movement.matrix)) {
      for (const [to, cell] of Object.entries(row)) {
        rowSums.set(from, (rowSums.get(from) ?? 0) + cell.customers);
        columnSums.set(to, (columnSums.get(to) ?? 0) + cell.customers);
      }
    }
    for (const position of previous.positions) {
      expect(rowSums.get(position.position) ?? 0, position.position).toBe(position.customers);
    }
    for (const position of current.positions) {
      expect(columnSums.get(position.position) ?? 0, position.position).toBe(position.customers);
    }
    // Level order: lapsed < slipping < rungs bottom to top.
    const level = (key: string) =>
      key === 'lapsed' ? 0 : key === 'slipping' ? 1 : 2 + LADDER.rungs.findIndex((r) => r.id === key);
    const sums = { up: 0, stayed: 0, down: 0, new: 0, gone: 0 };
    for (const [from, row] of Object.entries(movement.matrix)) {
      for (const [to, cell] of Object.entries(row)) {
        if (from === NEW_POSITION) sums.new += cell.customers;
        else if (to === GONE_POSITION) sums.gone += cell.customers;
        else if (level(to) > level(from)) sums.up += cell.customers;
        else if (level(to) < level(from)) sums.down += cell.customers;
        else sums.stayed += cell.customers;
      }
    }
    expect({
      up: movement.summary.up.customers,
      stayed: movement.summary.stayed.customers,
      down: movement.summary.down.customers,
      new: movement.summary.new.customers,
      gone: movement.summary.gone.customers,
    }).toEqual(sums);
    // A week passes on the same history: some customers drift off the ladder.
    expect(sums.down).toBeGreaterThan(0);
    expect(movement.summary.netUp.customers).toBe(sums.up - sums.down);
  });

  it('previous audiences’ outcomes add up to the movement and match the customers’ two stored scores', () => {
    const outcomes = second.record.playbook!.previousActions!;
    const movement = second.record.playbook!.movement!.summary;
    const total = { movedUp: 0, stayed: 0, fell: 0, gone: 0 };
    for (const action of outcomes.actions) {
      expect(action.movedUp + action.stayed + action.fell + action.gone).toBe(action.members);
      total.movedUp += action.movedUp;
      total.stayed += action.stayed;
      total.fell += action.fell;
      total.gone += action.gone;
    }
    // Every previous customer was in exactly one audience (let-go included).
    expect(total).toEqual({
      movedUp: movement.up.customers,
      stayed: movement.stayed.customers,
      fell: movement.down.customers,
      gone: movement.gone.customers,
    });
    for (const action of first.record.playbook!.actions) {
      expect(outcomes.actions.find((a) => a.action === action.action)?.members ?? 0).toBe(action.customers);
    }

    // Per customer, from the stored scores of both runs.
    const level = (key: string) =>
      key === 'lapsed' ? 0 : key === 'slipping' ? 1 : 2 + LADDER.rungs.findIndex((r) => r.id === key);
    const expected = new Map<string, { movedUp: number; stayed: number; fell: number; gone: number }>();
    for (const [id, before] of firstItems) {
      const entry = expected.get(before.action as string) ?? { movedUp: 0, stayed: 0, fell: 0, gone: 0 };
      expected.set(before.action as string, entry);
      const now = secondItems.get(id);
      if (!now) {
        entry.gone += 1;
        continue;
      }
      const from = level(ladderPositionKey(before.rung as string, before.ladderState as never));
      const to = level(ladderPositionKey(now.rung as string, now.ladderState as never));
      if (to > from) entry.movedUp += 1;
      else if (to < from) entry.fell += 1;
      else entry.stayed += 1;
    }
    for (const action of outcomes.actions) {
      expect({ ...expected.get(action.action) }, action.action).toEqual({
        movedUp: action.movedUp,
        stayed: action.stayed,
        fell: action.fell,
        gone: action.gone,
      });
    }
  });

  it('sends change events with the rung and audience before and now', () => {
    expect(second.events).toBeGreaterThan(0);
    const events = (
      readLocalEvents(stack.config.home!, second.record.runId) as unknown as Record<string, unknown>[]
    ).filter((event) => event.runId === second.record.runId);
    const playbookEvents = events.filter((event) => event.rung !== undefined);
    expect(playbookEvents.length).toBeGreaterThan(0);
    for (const event of playbookEvents.slice(0, 300)) {
      const id = event.customerId as string;
      expect(event).toMatchObject({
        previousRung: firstItems.get(id)!.rung,
        rung: secondItems.get(id)!.rung,
        previousAction: firstItems.get(id)!.action,
        action: secondItems.get(id)!.action,
      });
    }
    // A customer whose rung or audience changed gets an event.
    const changed = [...secondItems].filter(
      ([id, now]) => firstItems.get(id)!.rung !== now.rung || firstItems.get(id)!.action !== now.action,
    );
    const withEvent = new Set(playbookEvents.map((event) => event.customerId));
    for (const [id] of changed) expect(withEvent.has(id), id).toBe(true);
  });

  it('writes every audience to the bucket, ranked by value at stake, as the scores say', async () => {
    const playbook: PlaybookSummary = second.record.playbook!;
    const all = new Set<string>();
    for (const action of playbook.actions) {
      const text = await getObject(audienceKey(second.record.runId, action.action));
      expect(text.split('\n')[0]).toBe(AUDIENCE_CSV_COLUMNS.join(','));
      const rows = parseCsv(text);
      expect(rows.length, action.action).toBe(action.customers);
      const values = rows.map((row) => Number(row.value_at_stake));
      expect(values).toEqual([...values].sort((a, b) => b - a));
      expect(rows.map((row) => Number(row.rank))).toEqual(rows.map((_, i) => i + 1));
      const members = [...secondItems].filter(([, item]) => item.action === action.action).map(([id]) => id);
      expect(rows.map((row) => row.customer_id).sort()).toEqual(members.sort());
      for (const row of rows) all.add(row.customer_id!);
    }
    // Nobody is dropped: every customer is in exactly one file.
    expect(all.size).toBe(second.record.customers);
    expect(playbook.actions.reduce((sum, a) => sum + a.customers, 0)).toBe(second.record.customers);
  });

  it('serves the playbook, the audiences page by page and the customer fields over the API', async () => {
    const response = await api.request('GET', '/playbook');
    expect(response.status).toBe(200);
    const body = response.json as PlaybookSummary & { runId: string };
    expect(body.runId).toBe(second.record.runId);
    expect(body.actions).toEqual(second.record.playbook!.actions);

    const paid = body.actions.filter((a) => a.action !== LET_GO_ACTION && a.customers > 0);
    expect(paid.length).toBeGreaterThan(0);
    const biggest = paid.reduce((a, b) => (b.customers > a.customers ? b : a));
    const seen: { id: string; value: number }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await api.request('GET', `/playbook/${biggest.action}/customers?limit=25${query}`);
      expect(page.status).toBe(200);
      const json = page.json as {
        customers: { customerId: string; valueAtStake: number; action: string }[];
        nextCursor: string | null;
      };
      for (const c of json.customers) {
        expect(c.action).toBe(biggest.action);
        seen.push({ id: c.customerId, value: c.valueAtStake });
      }
      cursor = json.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(biggest.customers / 25));
    expect(new Set(seen.map((s) => s.id)).size).toBe(biggest.customers);
    const values = seen.map((s) => s.value);
    expect(values).toEqual([...values].sort((a, b) => b - a));

    const unknown = await api.request('GET', '/playbook/no-such-action/customers');
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.json)).toContain('known actions');

    const customer = await api.request('GET', `/customers/${seen[0]!.id}`);
    expect(customer.status).toBe(200);
    const item = secondItems.get(seen[0]!.id)!;
    expect(customer.json).toMatchObject({
      rung: item.rung,
      nextRung: item.nextRung,
      toNextRung: item.toNextRung,
      action: biggest.action,
    });
  });

  it('shows the ladder, the actions and the movement in the run report', async () => {
    const html = await getObject(reportKey(second.record.runId));
    expect(html).toContain('data-section="playbook"');
    for (const position of second.record.playbook!.positions) {
      expect(html).toContain(`data-position="${position.position}"`);
    }
    for (const action of second.record.playbook!.actions) {
      expect(html).toContain(`<tr data-action="${action.action}">`);
    }
    const { up, down } = second.record.playbook!.movement!.summary;
    expect(html).toContain(`${up.customers.toLocaleString('en-US')} moved up`);
    expect(html).toContain(`${down.customers.toLocaleString('en-US')} moved down`);
    // The report comes before the charts: ladder first.
    expect(html.indexOf('data-section="playbook"')).toBeLessThan(html.indexOf('data-chart='));
  });
});
