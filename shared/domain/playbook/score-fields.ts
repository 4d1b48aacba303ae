/**
 * The playbook's fields of a customer score: where the customer stands on the value ladder and the
 * action (audience) the run assigned. Optional, so scores published before the playbook still parse.
 */
import * as z from 'zod';
import { LADDER_STATES } from './playbook-config.ts';

export const playbookScoreFields = {
  rung: z
    .string()
    .optional()
    .describe('Rung of the value ladder the customer has reached (docs/playbook.md)'),
  ladderState: z
    .enum(LADDER_STATES)
    .optional()
    .describe('active, slipping or lapsed: whether the customer is drifting off the ladder'),
  nextRung: z.string().nullable().optional().describe('The next rung up; null on the top rung'),
  toNextRung: z
    .string()
    .optional()
    .describe('What concretely is missing to reach the next rung, e.g. "1 more order within 45 days"'),
  action: z
    .string()
    .optional()
    .describe('The audience the customer is in this run: an action of the playbook, or let-go'),
  valueAtStake: z
    .number()
    .nonnegative()
    .optional()
    .describe(
      'Run currency: expected CLV gain of reaching the next rung (move-up) or CLV at risk (retain, win-back); the audience is ranked by it',
    ),
};
