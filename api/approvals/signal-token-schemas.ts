/** The request and answer of POST /workflows/:id/approvals/:stepId/signal-token, as zod schemas. */
import { z } from 'zod';
import { durationText } from './approval-requests';

/** A decision token is for pasting into a terminal now: short-lived by default, a day at most. */
export const DEFAULT_SIGNAL_TOKEN_LIFETIME_MS = 15 * 60_000;
export const MAX_SIGNAL_TOKEN_LIFETIME_MS = 86_400_000;

export const signalTokenBodySchema = z
  .strictObject({
    decision: z.enum(['approve', 'reject']).meta({ description: 'The only decision the token can send.' }),
    expiresIn: durationText(MAX_SIGNAL_TOKEN_LIFETIME_MS, 'expiresIn')
      .optional()
      .meta({ description: 'How long the token works: a whole number and a unit, e.g. 1h; default 15m, at most 24h.' }),
  })
  .meta({ description: 'What the token decides, and for how long it may be sent.' });
export type SignalTokenBody = z.infer<typeof signalTokenBodySchema>;

export const signalTokenResponseSchema = z.object({
  workflowId: z.string(),
  stepId: z.string(),
  decision: z.enum(['approve', 'reject']),
  user: z.string().meta({ description: 'Who the signal decides as (the caller).' }),
  token: z.string().meta({
    description:
      'The `token` of the `approve` signal: this run, step and decision only, once, until expiresAt. ' +
      'Not a bearer token and not a link.',
  }),
  expiresAt: z.string(),
  command: z.string().meta({
    description:
      'The Temporal CLI line that sends the signal (add a "comment" to its JSON if you like); ' +
      '`--address` and `--namespace` are the ones this API uses.',
  }),
});
export type SignalTokenResponse = z.infer<typeof signalTokenResponseSchema>;
