/**
 * What a run records about its playbook (the run record's `playbook` field, served by `GET /playbook`
 * and drawn by the report): the ladder funnel, the actions with their audiences' economics and
 * backtest, the movement since the previous run and what became of the previous run's audiences.
 */
import * as z from 'zod';
import { ACTION_GOALS, LADDER_STATES } from './playbook-config.ts';

const count = z.number().int().nonnegative();
const rate = z.number().nullable();

const tallySchema = z.object({
  customers: count,
  purchasers: count,
  purchases: z.number().nonnegative(),
  withNextRung: count,
  reachedNextRung: count,
  purchaseRate: rate,
  purchasesPerCustomer: rate,
  nextRungRate: rate,
});

export const backtestResultSchema = z.object({
  action: z.string(),
  members: tallySchema,
  comparableNonMembers: tallySchema,
  notSelected: count,
  purchaseLift: rate.describe("Members' holdout purchase rate / comparable non-members'"),
  nextRungLift: rate.describe("Members' rate of reaching the next rung / comparable non-members'"),
});

export const playbookBacktestSchema = z.object({
  description: z.string(),
  calibrationEnd: z.string(),
  holdoutEnd: z.string(),
  /** Customers evaluated on the calibration view (all, or an evenly spaced sample of a large base). */
  customers: count,
  sampled: z.boolean(),
  results: z.array(backtestResultSchema),
});
export type PlaybookBacktest = z.infer<typeof playbookBacktestSchema>;

/** One position of the funnel: a rung (active customers on it) or an off-ladder state. */
export const ladderPositionSummarySchema = z.object({
  position: z.string().describe('Rung id for active customers; slipping or lapsed off the ladder'),
  label: z.string(),
  customers: count,
  clv: z.number(),
  /** Share of the run's summed CLV (0 when the run's CLV sums to 0). */
  valueShare: z.number(),
  /** What the position means and what to do, in one line. */
  explanation: z.string(),
  /**
   * Mean satisfaction of the position's customers with a score, on the common 0–100 scale (NPS × 10,
   * CSAT (score − 1) × 25), and how many had one; absent in runs without satisfaction data.
   */
  satisfaction: z.object({ meanPercent: z.number().nullable(), scored: count }).optional(),
});

export const playbookActionSummarySchema = z.object({
  action: z.string(),
  goal: z.enum(ACTION_GOALS),
  channel: z.string().nullable(),
  description: z.string().nullable(),
  customers: count,
  /** Summed value at stake of the audience, run currency. */
  valueAtStake: z.number().nonnegative(),
  successRate: z.number(),
  maxCostPerCustomer: z.number(),
  /** customers × maxCostPerCustomer. */
  totalCost: z.number().nonnegative(),
  expectedNetGain: z.number(),
  /** The action's backtest (null for let-go, and when the run has no holdout split). */
  backtest: backtestResultSchema.nullable(),
  /** What the audience is and what to do with it, in one line. */
  explanation: z.string(),
});
export type PlaybookActionSummary = z.infer<typeof playbookActionSummarySchema>;

const movementCellSchema = z.object({ customers: count, clv: z.number(), previousClv: z.number() });
const movementTotalsSchema = movementCellSchema;

export const playbookMovementSchema = z.object({
  previousRunId: z.string(),
  /** previous position → current position → customers and CLV; `(new)` row, `(gone)` column. */
  matrix: z.record(z.string(), z.record(z.string(), movementCellSchema)),
  summary: z.object({
    up: movementTotalsSchema,
    stayed: movementTotalsSchema,
    down: movementTotalsSchema,
    new: movementTotalsSchema,
    gone: movementTotalsSchema,
    netUp: z.object({ customers: z.number().int(), clv: z.number() }),
  }),
});

export const previousActionsSchema = z.object({
  previousRunId: z.string(),
  description: z.string(),
  actions: z.array(
    z.object({
      action: z.string(),
      members: count,
      movedUp: count,
      stayed: count,
      fell: count,
      gone: count,
      movedUpShare: z.number(),
    }),
  ),
});

export const playbookSummarySchema = z.object({
  ladder: z.object({
    name: z.string(),
    rungs: z.array(z.object({ id: z.string(), label: z.string(), rule: z.string() })),
    orderNoun: z.object({ singular: z.string(), plural: z.string() }),
  }),
  /** Lowest first: lapsed, slipping, then the rungs bottom to top. */
  positions: z.array(ladderPositionSummarySchema),
  /** Customers per rung and state (every customer has a rung, whatever their state). */
  rungStates: z.record(z.string(), z.record(z.enum(LADDER_STATES), count)),
  /** Sorted by summed value at stake, highest first; let-go last. */
  actions: z.array(playbookActionSummarySchema),
  valueAtStakeBasis: z.string(),
  backtest: playbookBacktestSchema.nullable(),
  movement: playbookMovementSchema.nullable(),
  previousActions: previousActionsSchema.nullable(),
});
export type PlaybookSummary = z.infer<typeof playbookSummarySchema>;
