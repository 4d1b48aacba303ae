/**
 * `cvm forget <customerId>`: erases a customer from the local stack with the erasure service
 * (suppression list, score items of every run, every stored file that holds the customer).
 */

import * as z from 'zod';
import { createErasureDeps } from '#adapters/erasure/erasure-deps.ts';
import { eraseCustomer, UnknownCustomerError } from '#app/erasure/erase-customer.ts';
import { customerIdProblem } from '#domain/customer-id.ts';
import { cvmHome } from '../../local/home.ts';
import { useLocalStack } from '../../local/stack.ts';
import { requestTableCompaction } from '../../local/table-compaction.ts';
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
  const home = cvmHome();
  const deps = createErasureDeps(stack.config, stack.clients, {
    purgeDeletedItems: () => requestTableCompaction(home),
  });
  try {
    const result = await eraseCustomer(deps, customerId, { force: parsed.options.force });
    if (parsed.options.json) console.log(JSON.stringify(result));
    else {
      console.log(
        `Erased customer: ${result.deletedScores} score item(s) deleted; ${result.rowsRemoved} row(s) removed ` +
          `from ${result.objectsRewritten} stored object(s), ${result.versionsDeleted} earlier version(s) deleted, ` +
          `${result.localFiles} local file(s) updated; suppressed as ${result.customerIdHash}.`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof UnknownCustomerError) {
      // A typo must not add a suppression entry and report success.
      const message = error.message.replace('force it.', 'add --force.');
      console.error(`cvm forget: ${message.charAt(0).toLowerCase()}${message.slice(1)}`);
      return 1;
    }
    throw error;
  } finally {
    await deps.close();
    await stack.stop();
  }
}
