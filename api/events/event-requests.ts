import { z } from 'zod';
import { specNameSchema } from '../specs/spec-requests';
import { RequestValidationError } from '../validation/request-validation.error';
import { parseRunEventId, type RunEventId } from './event-ids';
import { decodeSpecCursor, MAX_CURSOR_CHARS, type SpecCursor } from './spec-cursor';

const lastEventIdField = z.string().max(MAX_CURSOR_CHARS).optional().meta({
  description:
    'Resume after this event id, for clients that cannot send the Last-Event-ID header (the header wins when both are sent).',
});

export const runEventsQuerySchema = z.strictObject({ lastEventId: lastEventIdField });
export type RunEventsQuery = z.infer<typeof runEventsQuerySchema>;

export const specEventsQuerySchema = z.strictObject({
  spec: specNameSchema.meta({ description: 'Name of the spec whose runs to follow' }),
  lastEventId: lastEventIdField,
});
export type SpecEventsQuery = z.infer<typeof specEventsQuerySchema>;

/** Where a client resumes: the Last-Event-ID header, else `?lastEventId=`; empty means from the start. */
function resumeText(header: string | undefined, query: string | undefined): { text?: string; field: string } {
  if (header !== undefined && header.trim() !== '') return { text: header, field: 'Last-Event-ID' };
  if (query !== undefined && query.trim() !== '') return { text: query, field: 'lastEventId' };
  return { field: 'Last-Event-ID' };
}

/** The run event id to resume after; a malformed one is a 400 naming where it came from. */
export function runResumePoint(header: string | undefined, query: string | undefined): RunEventId | undefined {
  const { text, field } = resumeText(header, query);
  if (text === undefined) return undefined;
  const id = parseRunEventId(text);
  if (!id) {
    throw new RequestValidationError([
      { path: field, message: 'must be an event id of this stream: <execution>-<history event>-<n>, e.g. 0-12-1' },
    ]);
  }
  return id;
}

/** The spec stream cursor to resume from; a malformed one is a 400. */
export function specResumePoint(header: string | undefined, query: string | undefined): SpecCursor | undefined {
  const { text, field } = resumeText(header, query);
  if (text === undefined) return undefined;
  const cursor = decodeSpecCursor(text);
  if (!cursor) {
    throw new RequestValidationError([{ path: field, message: 'must be an event id this stream sent (c1.…)' }]);
  }
  return cursor;
}
