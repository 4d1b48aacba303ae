/**
 * `cvm forget <customerId>`: erases a customer from the local stack: deletes the customer's scores
 * in every run and adds the hashed id to the suppression list that later runs and ingests honour.
 */
import { parseArgs } from 'node:util';
import { createRunStore } from '../../../../shared/adapters/dynamo/run-store.ts';
import { customerIdProblem } from '../../../../shared/domain/customer-id.ts';
import { useLocalStack } from '../../stack.ts';

const USAGE = `Usage: cvm forget <customerId> [--json]

Deletes every score of the customer (all runs) and adds sha256(customerId) to the suppression
list: later recalculations leave the customer out. State lives in $CVM_HOME (default ./.cvm).`;

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
  const problem = customerIdProblem(customerId);
  if (problem) {
    console.error(`cvm forget: the customer id ${problem}`);
    return 2;
  }
  const stack = await useLocalStack(process.env.CVM_HOME || './.cvm');
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
