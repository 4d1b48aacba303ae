/**
 * `cvm forget <customerId>`: erases a customer from the local stack: deletes the customer's scores
 * in every run and adds the hashed id to the suppression list that later runs and ingests honour.
 */

import * as z from 'zod';
import { createSuppressionRepository } from '#adapters/dynamo/suppression-repository.ts';
import { customerIdProblem } from '#domain/customer-id.ts';
import { cvmHome } from '../../local/home.ts';
import { useLocalStack } from '../../local/stack.ts';
import { parseCommandLine } from '../command-line.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('forget');

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine({
    command: 'cvm forget',
    usage: USAGE,
    argv,
    options: { json: { type: 'boolean' } },
    schema: z.object({ json: z.boolean().default(false) }),
    positionals: { count: 1, what: 'one customer id' },
  });
  if (!parsed.ok) return parsed.exitCode;
  const [customerId = ''] = parsed.positionals;
  if (customerId.trim() === '') {
    console.error(`cvm forget: give exactly one customer id\n\n${USAGE}`);
    return 2;
  }
  const problem = customerIdProblem(customerId);
  if (problem) {
    console.error(`cvm forget: the customer id ${problem}`);
    return 2;
  }
  const stack = await useLocalStack(cvmHome());
  try {
    const store = createSuppressionRepository({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const result = await store.eraseCustomer(customerId, new Date());
    if (parsed.options.json) console.log(JSON.stringify(result));
    else {
      console.log(
        `Erased customer: ${result.deletedScores} score item(s) deleted; suppressed as ${result.customerIdHash}.`,
      );
    }
    return 0;
  } finally {
    await stack.stop();
  }
}
