/**
 * `cvm forget <customerId>`: erases a customer from the local stack: deletes the customer's scores
 * in every run and adds the hashed id to the suppression list that later runs and ingests honour.
 */

import * as z from 'zod';
import { createScoreReadModel } from '#adapters/dynamo/read-model.ts';
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
    options: { json: { type: 'boolean' }, force: { type: 'boolean' } },
    schema: z.object({ json: z.boolean().default(false), force: z.boolean().default(false) }),
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
    // A typo must not add a suppression entry and report success: an id without any score (and not
    // erased before) changes nothing unless the user says so (e.g. data not yet recalculated).
    if (!parsed.options.force) {
      const history = await createScoreReadModel(stack.clients, stack.config.table).getCustomerHistory(
        customerId,
      );
      if (history.length === 0 && !(await store.isSuppressed(customerId))) {
        console.error(
          `cvm forget: no customer ${JSON.stringify(customerId)} in any run: nothing was erased. Check the id ` +
            '(ids are case-sensitive); to suppress it anyway (e.g. its data was ingested after the last run), add --force.',
        );
        return 1;
      }
    }
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
