/**
 * The id of an event of a spec's stream (GET /events?spec=): a cursor saying what the stream has
 * sent, so Last-Event-ID resumes it exactly. `c1.` + base64url of `{"f": floor, "r": [[workflowId,
 * last run event id], …]}`:
 *
 * - a run listed in `r` was sent every run event up to that id (event-ids.ts) and nothing after;
 * - a run not listed was sent exactly its events before the first one at or after `f` (ms since
 *   the epoch, history event time) — none of them for a run that started after `f`.
 *
 * A new stream starts with `f` = now and no runs (events from before it are not sent). The
 * stream moves `f` forward and drops runs from `r` only while that keeps both statements true,
 * so the cursor stays small: it lists only the runs whose events are newer than about
 * FLOOR_LAG_MS (see spec-follower.ts).
 */

export interface SpecCursor {
  floor: number;
  runs: Map<string, string>;
}

const PREFIX = 'c1.';
/** Longest cursor accepted (a header value; proxies commonly allow 8 KiB per header). */
export const MAX_CURSOR_CHARS = 64 * 1024;

export function encodeSpecCursor(cursor: SpecCursor): string {
  const json = JSON.stringify({ f: cursor.floor, r: [...cursor.runs] });
  return PREFIX + Buffer.from(json, 'utf8').toString('base64url');
}

/** The cursor, or undefined for anything that is not one. */
export function decodeSpecCursor(text: string): SpecCursor | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PREFIX) || trimmed.length > MAX_CURSOR_CHARS) return undefined;
  const body = trimmed.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const { f, r } = (parsed ?? {}) as { f?: unknown; r?: unknown };
  if (typeof f !== 'number' || !Number.isSafeInteger(f) || f < 0 || !Array.isArray(r)) return undefined;
  const runs = new Map<string, string>();
  for (const entry of r) {
    if (!Array.isArray(entry) || entry.length !== 2) return undefined;
    const [workflowId, id] = entry as unknown[];
    if (typeof workflowId !== 'string' || !workflowId || typeof id !== 'string') return undefined;
    if (!/^\d{1,9}-\d{1,15}-\d{1,9}$/.test(id)) return undefined;
    runs.set(workflowId, id);
  }
  return { floor: f, runs };
}
