/**
 * Settings of the customer economics (net contribution, cost to serve, satisfaction): the `economics`
 * section proposed for `config/recalc.json`. Every default leaves today's CLV unchanged.
 */
import * as z from 'zod';
import { valueTierSchema } from '../score.ts';

/** A share of revenue that is profit: 0.35 = 35 %. Above 1 is impossible (costs are never negative). */
const rateSchema = z
  .number({ error: 'must be a number between 0 and 1 (35 % is 0.35)' })
  .min(0, { error: 'must be between 0 and 1 (35 % is 0.35)' })
  .max(1, { error: 'must be between 0 and 1 (35 % is 0.35)' });

const moneySchema = z
  .number({ error: 'must be an amount ≥ 0 in the run currency' })
  .min(0, { error: 'must be an amount ≥ 0 in the run currency' });

export const satisfactionScaleSchema = z.enum(['nps', 'csat']);
export type SatisfactionScale = z.infer<typeof satisfactionScaleSchema>;

export const economicsConfigSchema = z.strictObject({
  marginRate: z
    .strictObject({
      /**
       * Rate of orders without their own cost or margin figures. Absent: the run's `clv.margin`, so a
       * run without economics data computes exactly today's CLV.
       */
      default: rateSchema.optional(),
      /** Per source (the `incoming/<source>/` folder), e.g. { "shop": 0.4 }. */
      bySource: z.record(z.string().min(1), rateSchema).default({}),
      /** Per sales channel (the transaction's `channel`); more specific than the source, so it wins. */
      byChannel: z.record(z.string().min(1), rateSchema).default({}),
    })
    .prefault({}),
  /**
   * Whether the export's `amount` is already net of the `discount` column. When true the discount is
   * informational and not subtracted again; the default (false) follows amount − discount.
   */
  discountIncludedInAmount: z.boolean().default(false),
  /** Costs per order that no export carries (picking, packing, payment fees), run currency. */
  handlingCostPerOrder: moneySchema.default(0),
  /** Months the attributes' service figures (and `serviceCostPerPeriod`) cover. */
  servicePeriodMonths: z.number().int().min(1).max(120).default(12),
  /** Service cost per customer per period for customers without service figures of their own. */
  serviceCostPerPeriod: moneySchema.default(0),
  /** Cost of one service contact, to turn the attributes' `service_contacts` count into money. */
  costPerServiceContact: moneySchema.default(0),
  /**
   * Orders' worth of weight the group's net/revenue ratio gets against a customer's own ratio: a
   * customer with this many orders carrying cost figures is trusted half-way.
   */
  ratioShrinkageOrders: z.number().min(0).max(1000).default(4),
  /** Acquisition cost per new customer by acquisition channel, for customers without their own. */
  acquisitionCostByChannel: z.record(z.string().min(1), moneySchema).default({}),
  /** Scale of a generic `satisfaction` column; `nps` and `csat` columns say their scale themselves. */
  satisfactionScale: satisfactionScaleSchema.optional(),
  /** Who counts as high value when selecting high-value detractors. */
  highValue: z
    .strictObject({
      /** This tier or a higher one (top1 is highest). */
      minValueTier: valueTierSchema.default('top10'),
      /** Or a net CLV at or above this amount. */
      minNetClv: z.number().optional(),
    })
    .prefault({}),
});
export type EconomicsConfig = z.output<typeof economicsConfigSchema>;
export type EconomicsConfigInput = z.input<typeof economicsConfigSchema>;

export const DEFAULT_ECONOMICS_CONFIG: EconomicsConfig = economicsConfigSchema.parse({});

/**
 * Validates an `economics` settings object; the error names every offending field, e.g.
 * `economics.marginRate.byChannel.web: must be between 0 and 1 (35 % is 0.35)`.
 */
export function parseEconomicsConfig(input: unknown, origin = 'economics'): EconomicsConfig {
  const parsed = economicsConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = [origin, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    }
    return `${path}: ${issue.message}`;
  });
  throw new RangeError(`invalid economics settings: ${problems.join('; ')}`);
}

/**
 * Margin rate of an order without its own cost or margin figures: channel, else source, else the
 * configured default, else the run's `clv.margin` (`fallback`).
 */
export function configuredMarginRate(
  config: EconomicsConfig,
  source: string | null,
  channel: string | null,
  fallback: number,
): number {
  // Own keys only: a channel named "toString" must not find Object.prototype's.
  const { byChannel, bySource } = config.marginRate;
  if (channel !== null && Object.hasOwn(byChannel, channel)) return byChannel[channel]!;
  if (source !== null && Object.hasOwn(bySource, source)) return bySource[source]!;
  return config.marginRate.default ?? fallback;
}
