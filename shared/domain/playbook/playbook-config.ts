/**
 * Settings of the value playbook: the value ladder (ordered rungs, off-ladder states) and the action
 * for each (rung, state). Validated with zod; every error names the field. Defaults: web shop, non-profit.
 */
import * as z from 'zod';
import { PLAYBOOK_CONFIG_KEY } from '../bucket-layout.ts';

/** Where a customer stands relative to the ladder: on it, or drifting off it. */
export const LADDER_STATES = ['active', 'slipping', 'lapsed'] as const;
export const ladderStateSchema = z.enum(LADDER_STATES);
export type LadderState = z.infer<typeof ladderStateSchema>;

export const ACTION_GOALS = ['move-up', 'retain', 'win-back', 'serve-cheaper', 'let-go'] as const;
export const actionGoalSchema = z.enum(ACTION_GOALS);
export type ActionGoal = z.infer<typeof actionGoalSchema>;

/** Name of the audience of customers no action pays off for; reserved, so no action may use it. */
export const LET_GO_ACTION = 'let-go';

// Ids and names end up in file names (`audiences/<action>.csv`) and CSV cells: keep them plain.
const slug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be 1–63 lower-case letters, digits or dashes, starting with a letter or digit (e.g. second-order)',
  );

/**
 * Conditions a customer must meet to stand on a rung; all given conditions must hold. Only figures a
 * run has per customer: orders, repeat purchase days, days since the last purchase, tenure, revenue,
 * predicted CLV and its value tier.
 */
export const rungRuleSchema = z.strictObject({
  /** Distinct orders (gifts) up to the as-of date. */
  minOrders: z.number().int().min(1).optional(),
  /** Repeat purchase days (the model's x). */
  minRepeatPurchases: z.number().int().min(1).optional(),
  /** Last purchase at most this many days before the as-of date. */
  maxDaysSinceLastPurchase: z.number().int().min(0).optional(),
  /** First purchase at least this many days before the as-of date. */
  minTenureDays: z.number().int().min(0).optional(),
  /** Net revenue up to the as-of date, in the run currency. */
  minHistoricRevenue: z.number().positive().optional(),
  /** Predicted CLV over the run's horizon, in the run currency. */
  minClv: z.number().optional(),
  /** Value tier at least this high (top1 > top10 > top25). */
  minValueTier: z.enum(['top1', 'top10', 'top25']).optional(),
});
export type RungRule = z.infer<typeof rungRuleSchema>;

export const rungSchema = z.strictObject({
  id: slug,
  label: z.string().min(1).max(80),
  rule: rungRuleSchema.prefault({}),
});
export type Rung = z.infer<typeof rungSchema>;

/** One way of being off the ladder; all given fields must hold. */
export const stateConditionSchema = z
  .strictObject({
    minDaysSinceLastPurchase: z.number().int().min(0).optional(),
    /** P(alive) at most this. */
    maxPAlive: z.number().min(0).max(1).optional(),
    /** Probability of no purchase in the next 90 days at least this. */
    minProbabilityNoPurchase90d: z.number().min(0).max(1).optional(),
  })
  .refine((c) => Object.values(c).some((value) => value !== undefined), {
    message:
      'a condition needs at least one of minDaysSinceLastPurchase, maxPAlive, minProbabilityNoPurchase90d',
  });
export type StateCondition = z.infer<typeof stateConditionSchema>;

/** A state holds when any of its conditions holds. */
export const stateRuleSchema = z.strictObject({ whenAny: z.array(stateConditionSchema).min(1) });
export type StateRule = z.infer<typeof stateRuleSchema>;

export const ladderSchema = z
  .strictObject({
    name: z.string().min(1).max(80),
    /** Word for one order in texts: a non-profit counts gifts. */
    orderNoun: z
      .strictObject({
        singular: z.string().min(1).default('order'),
        plural: z.string().min(1).default('orders'),
      })
      .prefault({}),
    /** Bottom to top. The first rung is where every customer starts: it has no conditions. */
    rungs: z.array(rungSchema).min(2),
    /** Lapsed is checked first, then slipping; a customer meeting neither is active. */
    states: z.strictObject({ slipping: stateRuleSchema, lapsed: stateRuleSchema }),
  })
  .superRefine((ladder, context) => {
    const seen = new Set<string>();
    ladder.rungs.forEach((rung, i) => {
      if (seen.has(rung.id)) {
        context.addIssue({
          code: 'custom',
          path: ['rungs', i, 'id'],
          message: `duplicate rung id '${rung.id}'`,
        });
      }
      seen.add(rung.id);
    });
    const first = ladder.rungs[0];
    if (first && Object.values(first.rule).some((value) => value !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['rungs', 0, 'rule'],
        message: `the first rung ('${first.id}') is where every customer starts and cannot have conditions`,
      });
    }
  });
export type Ladder = z.infer<typeof ladderSchema>;

export const actionSchema = z.strictObject({
  name: slug.refine((name) => name !== LET_GO_ACTION, {
    message: `'${LET_GO_ACTION}' names the audience no action pays off for; choose another name`,
  }),
  goal: actionGoalSchema,
  /** Rungs the action is for; all rungs when absent. */
  rungs: z.array(slug).min(1).optional(),
  states: z.array(ladderStateSchema).min(1).default(['active']),
  channel: z.string().min(1).max(64).default('none'),
  /** Expected share of members who respond as hoped (reach the next rung, stay, come back). */
  successRate: z.number().min(0).max(1).default(0),
  /** Most the action may cost per member, in the run currency. */
  maxCostPerCustomer: z.number().min(0).default(0),
  description: z.string().max(500).optional(),
});
export type ActionConfig = z.infer<typeof actionSchema>;

/** Whether an action is configured for a rung and state. */
export const actionCovers = (action: ActionConfig, rung: string, state: LadderState) =>
  (action.rungs === undefined || action.rungs.includes(rung)) && action.states.includes(state);

export const playbookConfigSchema = z
  .strictObject({ ladder: ladderSchema, actions: z.array(actionSchema).min(1) })
  .superRefine(({ ladder, actions }, context) => {
    const rungIds = new Set(ladder.rungs.map((rung) => rung.id));
    const names = new Set<string>();
    actions.forEach((action, i) => {
      if (names.has(action.name)) {
        context.addIssue({
          code: 'custom',
          path: ['actions', i, 'name'],
          message: `duplicate action name '${action.name}'`,
        });
      }
      names.add(action.name);
      action.rungs?.forEach((rung, j) => {
        if (!rungIds.has(rung)) {
          context.addIssue({
            code: 'custom',
            path: ['actions', i, 'rungs', j],
            message: `unknown rung '${rung}'; the ladder's rungs are ${[...rungIds].join(', ')}`,
          });
        }
      });
    });
    // serve-cheaper actions only apply to flagged customers, so they do not count towards coverage.
    const uncovered: string[] = [];
    for (const rung of ladder.rungs) {
      for (const state of LADDER_STATES) {
        const covered = actions.some(
          (action) => action.goal !== 'serve-cheaper' && actionCovers(action, rung.id, state),
        );
        if (!covered) uncovered.push(`${rung.id}/${state}`);
      }
    }
    if (uncovered.length > 0) {
      context.addIssue({
        code: 'custom',
        path: ['actions'],
        message: `every (rung, state) needs an action other than serve-cheaper (use goal let-go to let customers go); uncovered: ${uncovered.join(', ')}`,
      });
    }
  });
export type PlaybookConfig = z.infer<typeof playbookConfigSchema>;
export type PlaybookConfigInput = z.input<typeof playbookConfigSchema>;

// ── defaults ───────────────────────────────────────────────────────────────────────────────────
// Success rates and costs are starting points, to be replaced by the shop's own figures (the
// backtest shows how members of each audience did against comparable non-members).

const WEB_SHOP_PLAYBOOK_INPUT: PlaybookConfigInput = {
  ladder: {
    name: 'web shop',
    rungs: [
      { id: 'first-time', label: 'First-time buyer' },
      { id: 'returning', label: 'Returning customer', rule: { minOrders: 2 } },
      { id: 'loyal', label: 'Loyal customer', rule: { minOrders: 4 } },
      { id: 'top', label: 'Top customer', rule: { minOrders: 2, minValueTier: 'top10' } },
    ],
    states: {
      slipping: { whenAny: [{ minDaysSinceLastPurchase: 120 }, { maxPAlive: 0.5 }] },
      lapsed: { whenAny: [{ minDaysSinceLastPurchase: 365 }, { maxPAlive: 0.2 }] },
    },
  },
  actions: [
    {
      name: 'second-order',
      goal: 'move-up',
      rungs: ['first-time'],
      channel: 'email',
      successRate: 0.08,
      maxCostPerCustomer: 1.5,
      description: 'Welcome series with an incentive for the second order',
    },
    {
      name: 'build-habit',
      goal: 'move-up',
      rungs: ['returning'],
      channel: 'email',
      successRate: 0.1,
      maxCostPerCustomer: 2,
      description: 'Replenishment and cross-sell reminders timed to the customer’s rhythm',
    },
    {
      name: 'upgrade-to-top',
      goal: 'move-up',
      rungs: ['loyal'],
      channel: 'personalised offer',
      successRate: 0.05,
      maxCostPerCustomer: 5,
    },
    {
      name: 'keep-top',
      goal: 'retain',
      rungs: ['top'],
      channel: 'loyalty programme',
      successRate: 0.3,
      maxCostPerCustomer: 10,
    },
    {
      name: 'reactivate',
      goal: 'retain',
      states: ['slipping'],
      channel: 'email with voucher',
      successRate: 0.12,
      maxCostPerCustomer: 3,
    },
    {
      name: 'lapsed-one-timers',
      goal: 'let-go',
      rungs: ['first-time'],
      states: ['lapsed'],
      description: 'One order long ago: not worth a paid contact',
    },
    {
      name: 'win-back',
      goal: 'win-back',
      states: ['lapsed'],
      channel: 'direct mail',
      successRate: 0.05,
      maxCostPerCustomer: 4,
    },
    {
      name: 'low-cost-service',
      goal: 'serve-cheaper',
      states: ['active', 'slipping', 'lapsed'],
      channel: 'self-service and email only',
      description: 'Customers who cost more than they bring: no paid contacts, cheaper delivery options',
    },
  ],
};

const NON_PROFIT_PLAYBOOK_INPUT: PlaybookConfigInput = {
  ladder: {
    name: 'non-profit',
    orderNoun: { singular: 'gift', plural: 'gifts' },
    rungs: [
      { id: 'first-gift', label: 'First-time donor' },
      { id: 'second-gift', label: 'Second-gift donor', rule: { minOrders: 2 } },
      { id: 'regular', label: 'Regular donor', rule: { minOrders: 4, maxDaysSinceLastPurchase: 365 } },
      { id: 'major', label: 'Major donor', rule: { minHistoricRevenue: 1000 } },
    ],
    states: {
      slipping: { whenAny: [{ minDaysSinceLastPurchase: 180 }, { maxPAlive: 0.5 }] },
      lapsed: { whenAny: [{ minDaysSinceLastPurchase: 540 }, { maxPAlive: 0.15 }] },
    },
  },
  actions: [
    {
      name: 'second-gift-ask',
      goal: 'move-up',
      rungs: ['first-gift'],
      channel: 'thank-you email and call',
      successRate: 0.15,
      maxCostPerCustomer: 2,
    },
    {
      name: 'regular-giving-ask',
      goal: 'move-up',
      rungs: ['second-gift'],
      channel: 'phone',
      successRate: 0.08,
      maxCostPerCustomer: 6,
      description: 'Invite to give monthly',
    },
    {
      name: 'major-gift-cultivation',
      goal: 'move-up',
      rungs: ['regular'],
      channel: 'personal visit',
      successRate: 0.03,
      maxCostPerCustomer: 40,
    },
    {
      name: 'major-donor-stewardship',
      goal: 'retain',
      rungs: ['major'],
      channel: 'personal contact',
      successRate: 0.6,
      maxCostPerCustomer: 50,
    },
    {
      name: 'renewal-appeal',
      goal: 'retain',
      states: ['slipping'],
      channel: 'mail',
      successRate: 0.1,
      maxCostPerCustomer: 1.5,
    },
    {
      name: 'lapsed-first-gift',
      goal: 'let-go',
      rungs: ['first-gift'],
      states: ['lapsed'],
      description: 'One gift long ago: keep in the newsletter, no paid appeals',
    },
    {
      name: 'lapsed-reactivation',
      goal: 'win-back',
      states: ['lapsed'],
      channel: 'mail',
      successRate: 0.04,
      maxCostPerCustomer: 2,
    },
    {
      name: 'digital-only',
      goal: 'serve-cheaper',
      states: ['active', 'slipping', 'lapsed'],
      channel: 'email only',
      description: 'Donors whose appeals cost more than they give: digital appeals only',
    },
  ],
};

export const PLAYBOOK_PRESETS = {
  'web-shop': playbookConfigSchema.parse(WEB_SHOP_PLAYBOOK_INPUT),
  'non-profit': playbookConfigSchema.parse(NON_PROFIT_PLAYBOOK_INPUT),
} as const satisfies Record<string, PlaybookConfig>;
export type PlaybookPreset = keyof typeof PLAYBOOK_PRESETS;

/**
 * The settings document (e.g. `config/playbook.json`, or a `playbook` field of the recalculation
 * settings): a preset, optionally with its own ladder and/or actions replacing the preset's.
 */
export const playbookSettingsSchema = z
  .strictObject({
    preset: z.enum(['web-shop', 'non-profit']).default('web-shop'),
    ladder: z.unknown().optional(),
    actions: z.unknown().optional(),
  })
  .transform(({ preset, ladder, actions }) => ({
    ladder: ladder ?? PLAYBOOK_PRESETS[preset].ladder,
    actions: actions ?? PLAYBOOK_PRESETS[preset].actions,
  }))
  .pipe(playbookConfigSchema);
export type PlaybookSettingsInput = z.input<typeof playbookSettingsSchema>;

/**
 * Validates a playbook settings document; the error names the source and every offending field,
 * e.g. `config/playbook.json: actions.2.successRate: Too big: expected number to be <=1`.
 */
export function parsePlaybookConfig(input: unknown, source = PLAYBOOK_CONFIG_KEY): PlaybookConfig {
  const parsed = playbookSettingsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    throw new Error(`${source}: invalid playbook settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}
