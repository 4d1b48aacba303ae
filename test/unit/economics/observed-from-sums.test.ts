// Observed economics from the warehouse's per-group sums against the per-order formula: exact for rows
// with their own cost or margin, within half a cent per rated row otherwise (the rate is applied to a
// group's sum and rounded once), and the configured rate chosen by channel, then source.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEconomicsConfig } from '#domain/economics/economics-config.ts';
import { observedEconomicsFromSums } from '#domain/economics/observed-from-sums.ts';
import {
  NO_ORDER_ECONOMICS,
  type OrderEconomics,
  orderNetContribution,
} from '#domain/economics/order-economics.ts';

const cents = fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: null });
const row = fc.record({
  channel: fc.constantFrom('web', 'store', null),
  amount: fc.integer({ min: 0, max: 100_000 }),
  economics: fc.oneof(
    fc.constant(NO_ORDER_ECONOMICS as OrderEconomics),
    fc.record({
      costCents: cents,
      marginAmountCents: fc.constant(null),
      marginRate: fc.constant(null),
      discountCents: cents,
      shippingCostCents: cents,
      returnedCents: fc.constant(null),
      returnedWhole: fc.option(fc.boolean(), { nil: null }),
    }),
  ),
});

/** The warehouse statement's sums, computed here row by row (what the SQL GROUP BY produces). */
function sumsOf(rows: { channel: string | null; amount: number; economics: OrderEconomics }[]) {
  const groups = new Map<string, ReturnType<typeof emptySums>>();
  function emptySums(channel: string | null) {
    return {
      customerId: 'C',
      source: 'shop',
      channel,
      ownOrders: 0,
      ownRevenueCents: 0,
      ownKnownMarginCents: 0,
      ownRatedRevenueCents: 0,
      discountCents: 0,
      shippingCostCents: 0,
      returnedCents: 0,
      plainRevenueCents: 0,
    };
  }
  for (const r of rows) {
    const key = String(r.channel);
    const g = groups.get(key) ?? emptySums(r.channel);
    const e = r.economics;
    const own = Object.values(e).some((v) => v !== null);
    if (own) {
      g.ownOrders++;
      g.ownRevenueCents += r.amount;
      if (e.costCents !== null) g.ownKnownMarginCents += r.amount - e.costCents;
      else g.ownRatedRevenueCents += r.amount;
      g.discountCents += e.discountCents ?? 0;
      g.shippingCostCents += e.shippingCostCents ?? 0;
      g.returnedCents += e.returnedWhole ? r.amount : (e.returnedCents ?? 0);
    } else g.plainRevenueCents += r.amount;
    groups.set(key, g);
  }
  return [...groups.values()];
}

describe('observed economics from warehouse sums', () => {
  const config = parseEconomicsConfig({ marginRate: { default: 0.45, byChannel: { web: 0.3 } } });
  const rate = (channel: string | null) => (channel === 'web' ? 0.3 : 0.45);

  it('equals the per-order formula summed, within half a cent per row margined at a rate', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), (rows) => {
        const [observed] = observedEconomicsFromSums(sumsOf(rows), config, 1).values();
        let own = 0;
        let historic = 0;
        let rated = 0;
        for (const r of rows) {
          const net = orderNetContribution(r.amount, r.economics, { configuredRate: rate(r.channel) });
          historic += net.netCents;
          if (net.ownFigures) own += net.netCents;
          if (net.basis === 'configured_rate') rated++;
        }
        if (rows.length === 0) {
          expect(observed).toBeUndefined();
          return;
        }
        expect(Math.abs(observed!.historicNetCents - historic)).toBeLessThanOrEqual(0.5 * rated + 1e-9);
        expect(Math.abs(observed!.ownNetCents - own)).toBeLessThanOrEqual(0.5 * rated + 1e-9);
        if (rated === 0) {
          expect(observed!.historicNetCents).toBe(historic);
          expect(observed!.ownNetCents).toBe(own);
        }
      }),
    );
  });

  it('leaves the discount out when the amount already includes it', () => {
    const sums = sumsOf([
      {
        channel: 'store',
        amount: 10_000,
        economics: { ...NO_ORDER_ECONOMICS, costCents: 4000, discountCents: 500 },
      },
    ]);
    const withDiscount = observedEconomicsFromSums(sums, config, 1).get('C')!;
    const included = observedEconomicsFromSums(
      sums,
      parseEconomicsConfig({ discountIncludedInAmount: true }),
      1,
    ).get('C')!;
    expect(withDiscount.historicNetCents).toBe(5500);
    expect(included.historicNetCents).toBe(6000);
  });
});
