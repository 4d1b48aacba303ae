/**
 * `cvm forget <customerId>`: erases a customer from the local stack: deletes the customer's scores
 * in every run and adds the hashed id to the suppression list that later runs and ingests honour.
 */

import { parseArgs } from 'node:util';
import { createRunStore } from '../../../shared/adapters/dynamo/run-store.ts';
import { cvmHome } from '../../local/home.ts';
import { useLocalStack } from '../../local/stack.ts';
import { usageOf } from '../commands.ts';

const USAGE = usageOf('forget');

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
}

export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    console.error(`cvm forget: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const [customerId, ...extra] = parsed.positionals;
  if (!customerId || customerId.trim() === '' || extra.length > 0) {
    console.error(`cvm forget: give exactly one customer id\n\n${USAGE}`);
    return 2;
  }
  const stack = await useLocalStack(cvmHome());
  try {
    const store = createRunStore({ dynamo: stack.clients.dynamo, table: stack.config.table });
    const result = await store.eraseCustomer(customerId, new Date());
    if (parsed.values.json) console.log(JSON.stringify(result));
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
