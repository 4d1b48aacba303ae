// Audiences: ranking by value at stake independent of parts, and the CSV columns.
import { describe, expect, it } from 'vitest';
import { audienceKey } from '#domain/bucket-layout.ts';
import { evaluateCustomer } from '#domain/playbook/actions.ts';
import { AUDIENCE_CSV_COLUMNS, audienceCsv, audienceRow, rankAudiences } from '#domain/playbook/audiences.ts';
import { addRungClv, type RungClvAccumulator, rungClvStatistics } from '#domain/playbook/economics.ts';
import { PLAYBOOK_PRESETS } from '#domain/playbook/playbook-config.ts';
import { customer } from './fixtures.ts';

const playbook = PLAYBOOK_PRESETS['web-shop'];
const accumulator: RungClvAccumulator = {};
addRungClv(accumulator, 'returning', 'active', 100);
const context = { clvHorizonMonths: 12, rungClv: rungClvStatistics(accumulator, playbook.ladder) };

function rowsOf(customers: ReturnType<typeof customer>[]) {
  return customers.map((c) => {
    const { position, assignment } = evaluateCustomer(playbook, c, context);
    return audienceRow(c, position, assignment);
  });
}

describe('audiences', () => {
  const customers = [
    customer({ customerId: 'b', clv: 40 }), // gain 60
    customer({ customerId: 'a', clv: 40 }), // gain 60, ties with b
    customer({ customerId: 'c', clv: 10 }), // gain 90
    customer({ customerId: 'd', clv: 95 }), // gain 5: let go
  ];

  it('ranks each action’s members by value at stake, ties by id, whatever the order of the parts', () => {
    const ranked = rankAudiences(rowsOf(customers));
    const again = rankAudiences([...rowsOf(customers.slice(2)), ...rowsOf(customers.slice(0, 2))]);
    expect(again).toEqual(ranked);
    expect([...ranked.keys()]).toEqual(['let-go', 'second-order']);
    expect(ranked.get('second-order')!.map((row) => [row.rank, row.customerId, row.valueAtStake])).toEqual([
      [1, 'c', 90],
      [2, 'a', 60],
      [3, 'b', 60],
    ]);
    expect(ranked.get('let-go')!.map((row) => row.customerId)).toEqual(['d']);
  });

  it('writes the documented columns, quoting text with commas or quotes', () => {
    const ranked = rankAudiences(rowsOf(customers));
    const csv = audienceCsv(ranked.get('second-order')!);
    const lines = csv.split('\n');
    expect(lines[0]).toBe(AUDIENCE_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(5); // header, 3 members, final newline
    expect(lines[1]).toBe(
      '1,c,second-order,move-up,email,first-time,active,returning,1 more order within 89 days,90.00,0.08,1.50,5.70,10.00,0.9000,EUR,second-order,mean CLV on returning EUR 100.00 − own CLV EUR 10.00 = EUR 90.00 × success rate 0.08 = EUR 7.20 > cost EUR 1.50',
    );
    const quoted = audienceCsv([{ ...ranked.get('let-go')![0]!, customerId: 'x,"y"' }]).split('\n')[1]!;
    expect(quoted.startsWith('1,"x,""y""",let-go,let-go,,first-time,active,returning,')).toBe(true);
    expect(audienceKey('2025-06-30T0400', 'win-back')).toBe('runs/2025-06-30T0400/audiences/win-back.csv');
  });
});
