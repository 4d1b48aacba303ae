// Shared builders for the playbook tests: a customer with sensible defaults, overridable per test.
import type { LadderCustomer } from '#domain/playbook/ladder.ts';

export const customer = (overrides: Partial<LadderCustomer> = {}): LadderCustomer => ({
  customerId: 'c1',
  historicOrders: 1,
  frequency: 0,
  recency: 0,
  T: 30,
  timeUnit: 'days',
  asOf: '2025-06-30',
  clv: 50,
  expectedPurchases90d: 0.5,
  pAlive: 0.9,
  valueTier: 'rest',
  historicRevenue: 40,
  currency: 'EUR',
  ...overrides,
});
