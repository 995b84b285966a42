/** Requests of the approvals inbox and of signed links, as zod schemas (validation and OpenAPI alike). */
import { z } from 'zod';
import { durationToMs, MAX_DURATION_MS } from '../../workflows/contracts/duration';
import { documentAs } from '../openapi/doc-overrides';
import { positiveIntegerPattern } from '../openapi/range-pattern';
import { specNameSchema } from '../specs/spec-requests';
import { intQueryParam } from '../validation/query-params';
import { boundedText } from '../validation/text';
import { PAGE_TOKEN_PATTERN } from '../workflows/page-token';

/** The longest a signed link may live. */
export const MAX_LINK_LIFETIME_MS = 7 * 86_400_000;
/** How long a link lives when the approval has no timeout and the request names no expiry. */
export const DEFAULT_LINK_LIFETIME_MS = 86_400_000;

/**
 * A user id or group as filters name them: printable, and no quote or backslash, so the value is
 * safe inside a visibility query literal without relying on escaping alone.
 */
const principal = (what: string) =>
  boundedText(200, {
    min: 1,
    pattern: /^[^"\\\u0000-\u001f\u007f]+$/,
    message: `must be a ${what}: 1-200 printable characters without quotes or backslashes`,
  });

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A whole number and a unit from 1ms up to `maxMs`, e.g. `90s`, `1h`, `2d`: the pattern holds the
 * bounds, so the document says exactly which values are accepted (no zero, nothing past the limit).
 */
function durationUpTo(maxMs: number): RegExp {
  const units = Object.entries(UNIT_MS).filter(([, ms]) => ms <= maxMs);
  return new RegExp(
    `^(?:${units.map(([unit, ms]) => `(?:${positiveIntegerPattern(Math.floor(maxMs / ms))})${unit}`).join('|')})$`,
  );
}

export const durationText = (maxMs: number, field: string) => {
  const days = maxMs / 86_400_000;
  const pattern = durationUpTo(maxMs);
  return documentAs(
    z
      .string()
      .regex(pattern, `${field} must be a duration from 1ms to ${days}d, such as 30m, 1h or 2d`)
      .transform((s) => durationToMs(s)),
    {
      type: 'string',
      pattern: pattern.source,
      description: `A duration: a whole number and a unit (ms, s, m, h, d), e.g. 30m, 1h, 2d; from 1ms to ${days} days.`,
    },
  );
};

const booleanParam = documentAs(
  z.enum(['true', 'false']).transform((s) => s === 'true'),
  { type: 'string', enum: ['true', 'false'] },
);

export const listApprovalsQuerySchema = z.strictObject({
  spec: specNameSchema.optional().meta({ description: 'Only runs of this spec.' }),
  approver: principal('user id or group')
    .optional()
    .meta({
      description:
        'Only approvals whose approvers name this entry: `user:ana` (also matches a bare `ana`), `group:ops` ' +
        '(also `ops`), or a bare name, which matches it as a user or a group.',
    }),
  group: principal('group')
    .optional()
    .meta({ description: 'Only approvals whose approvers name this group (`ops` or `group:ops`).' }),
  olderThan: durationText(MAX_DURATION_MS, 'olderThan')
    .optional()
    .meta({ description: 'Only approvals requested at least this long ago: a whole number and a unit, e.g. 1h.' }),
  mine: booleanParam.optional().meta({ description: 'true: only approvals the caller may decide.' }),
  pageSize: intQueryParam(1, 1000)
    .optional()
    .meta({ description: 'Runs per page (a run may wait for several approvals); default 50.' }),
  nextPageToken: z.string().regex(PAGE_TOKEN_PATTERN, 'must be a nextPageToken returned by this endpoint').optional(),
});
export type ListApprovalsQuery = z.infer<typeof listApprovalsQuerySchema>;

export const mintLinksBodySchema = z
  .strictObject({
    decision: z
      .enum(['approve', 'reject'])
      .optional()
      .meta({ description: 'Mint only this decision’s link; default both.' }),
    expiresIn: durationText(MAX_LINK_LIFETIME_MS, 'expiresIn')
      .optional()
      .meta({
        description:
          'How long the links work: a whole number and a unit, e.g. 4h; at most 7d. Default: until the ' +
          'approval times out (at most 7 days), or 24h when it has no timeout.',
      }),
    for: z
      .strictObject({
        user: principal('user id'),
        groups: z.array(principal('group')).max(100).optional(),
      })
      .optional()
      .meta({ description: 'Admin only: mint links that decide as this identity instead of the caller.' }),
  })
  .optional()
  .meta({ description: 'Optional: by default both links, for the caller, expiring with the approval.' });
export type MintLinksBody = z.infer<typeof mintLinksBodySchema>;

/**
 * A link token: `<base64url claims>.<base64url HMAC-SHA256>` (see activities/identity/approval-links.ts),
 * so the signature is always 43 characters. Whether this server signed it only the server can tell:
 * a well-formed token may still be refused (400, or 410 once expired).
 */
export const linkTokenParamSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{43}$/, 'must be an approval link token');

/** What the link's confirmation form (or a chat button's JSON) may add to the decision. */
export const linkDecisionBodySchema = z
  .strictObject({ comment: boundedText(10_000).optional() })
  .optional()
  .meta({ description: 'Optional: a comment recorded with the decision.' });
export type LinkDecisionBody = z.infer<typeof linkDecisionBodySchema>;
