/** What GET /analytics/summary accepts: a window start (a time, or a duration back from now) and a spec. */
import { z } from 'zod';
import { durationToMs, isDuration } from '../../workflows/contracts/duration';
import { documentAs } from '../openapi/doc-overrides';
import { specNameSchema } from '../specs/spec-requests';

export const DEFAULT_ANALYTICS_WINDOW = '7d';

/** `2026-11-30T00:00:00Z`, `…+01:00`: a time with a zone, not before 1970 (visibility stores no earlier). */
function isZonedTime(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return false;
  const at = Date.parse(s);
  return !isNaN(at) && at >= 0;
}

const sinceSchema = documentAs(
  z.string().refine((s) => isDuration(s) || isZonedTime(s), {
    message:
      'must be an ISO 8601 time with a zone, from 1970 on (2026-11-30T00:00:00Z), or a duration back from now (24h, 7d)',
  }),
  {
    type: 'string',
    description: `Runs started from this time: ISO 8601 with a zone, or a duration back from now (default ${DEFAULT_ANALYTICS_WINDOW}).`,
    example: '24h',
  },
);

export const analyticsQuerySchema = z.strictObject({
  since: sinceSchema.optional(),
  spec: specNameSchema.optional().meta({ description: 'Only runs of this spec.' }),
});
export type AnalyticsQuery = z.infer<typeof analyticsQuerySchema>;

/** The window's start as a Date: an ISO time as given, a duration counted back from `now`. */
export function windowStart(since: string | undefined, now: Date): Date {
  const value = since ?? DEFAULT_ANALYTICS_WINDOW;
  return isDuration(value) ? new Date(now.getTime() - durationToMs(value)) : new Date(value);
}
