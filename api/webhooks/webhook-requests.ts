/** What the /webhooks routes accept, checked at the edge: a bad field is a 400 naming it. */
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../workflows/contracts/run-events';
import { durationSchema, durationToMs, isDuration } from '../../workflows/contracts/duration';
import { specNameSchema } from '../specs/spec-requests';
import { intQueryParam } from '../validation/query-params';
import { boundedText } from '../validation/text';
import { PAGE_TOKEN_PATTERN } from '../workflows/page-token';

export const MAX_WEBHOOK_URL_LENGTH = 2048;
const MIN_RETRY_INTERVAL_MS = 100;
const MAX_RETRY_INTERVAL_MS = 60 * 60_000;

/** Why `text` is not a URL deliveries can go to, or undefined when it is one. */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http(s) URL, e.g. https://hooks.example.com/agents';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, not ${url.protocol}`;
  if (url.username || url.password) return 'must not carry credentials (user:password@); put a token in the path';
  if (url.hash) return 'must not carry a fragment (#...): it is never sent';
  return undefined;
}

export const webhookUrlSchema = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH, `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  .superRefine((text, ctx) => {
    const problem = webhookUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: 'Where deliveries are POSTed: http or https, no credentials, no fragment.',
    example: 'https://hooks.example.com/agents',
  });

const retryIntervalSchema = durationSchema.refine(
  // Not a duration at all: durationSchema's own issue says so.
  (d) => !isDuration(d) || (durationToMs(d) >= MIN_RETRY_INTERVAL_MS && durationToMs(d) <= MAX_RETRY_INTERVAL_MS),
  { message: 'must be from 100ms to 1h' },
);

export const webhookRetrySchema = z
  .strictObject({
    initialInterval: retryIntervalSchema.optional().meta({
      description: 'Wait after the first failed attempt (default 10s); doubles after each further one, up to 1h.',
    }),
    maxAttempts: z.number().int().min(1).max(1000).optional().meta({
      description: 'Attempts in all, the first included (default: as many as fit in 24 hours).',
    }),
  })
  .meta({ description: 'How deliveries retry a receiver that does not answer 2xx.' });

export const createWebhookBodySchema = z.strictObject({
  url: webhookUrlSchema,
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .min(1, 'name at least one event type')
    .transform((events) => [...new Set(events)])
    .meta({ description: 'The run events delivered.' }),
  spec: specNameSchema.optional().meta({ description: 'Only runs of this spec (default: every run).' }),
  // ASCII spaces and control characters spelled out: `\S` means different things to other regex dialects.
  linksFor: boundedText(256, { min: 1, pattern: /^[^\x00-\x20\x7f]+$/, message: 'must be a user id without spaces' })
    .optional()
    .meta({
      description:
        'Put signed approve/reject links into approval.requested and approval.escalated deliveries, deciding as ' +
        'this user. The link carries no groups: the step must name this user among its approvers, or the run ' +
        'refuses the decision.',
    }),
  retry: webhookRetrySchema.optional(),
});
export type CreateWebhookBody = z.infer<typeof createWebhookBodySchema>;

/** Subscription ids are UUIDs; anything else cannot be one (and never reaches the file system). */
export const webhookIdSchema = z.uuid({ message: 'must be a webhook id (a UUID)' });

export const listDeliveriesQuerySchema = z.strictObject({
  pageSize: intQueryParam(1, 100).optional(),
  nextPageToken: z.string().regex(PAGE_TOKEN_PATTERN, 'not a page token of this listing').optional(),
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuerySchema>;
