/**
 * Ids of the events of one run's stream (GET /workflows/:id/events): `<chain>-<event>-<n>`.
 *
 * - `chain`: the execution's index in the run's continue-as-new chain (0 = the first execution);
 * - `event`: the id of the history event (in that execution's history) the run event comes from;
 * - `n`: the run event's place among those one history event yields (0, 1, …).
 *
 * Ids compare as tuples of integers (not as strings) and increase strictly along the stream.
 * They are rebuilt from history, so a resumed stream names every event as the first one did.
 * `step.progress` events are live snapshots of heartbeats, not history: they take the id of the
 * last history event read with `n` ≥ 1000 (above any `n` a history event yields), are never sent
 * again on resume, and a resume from one of them skips exactly what was read before it.
 */

export interface RunEventId {
  chain: number;
  event: number;
  n: number;
}

/** The `n` of the first progress event after a history event. */
export const PROGRESS_N_BASE = 1000;

const ID_PATTERN = /^(\d{1,9})-(\d{1,15})-(\d{1,9})$/;

export function formatRunEventId(id: RunEventId): string {
  return `${id.chain}-${id.event}-${id.n}`;
}

/** The id, or undefined for anything that is not one. */
export function parseRunEventId(text: string): RunEventId | undefined {
  const m = ID_PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [chain, event, n] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!Number.isSafeInteger(event)) return undefined;
  return { chain, event, n };
}

/** < 0, 0 or > 0 as `a` comes before, is, or comes after `b`. */
export function compareRunEventIds(a: RunEventId, b: RunEventId): number {
  return a.chain - b.chain || a.event - b.event || a.n - b.n;
}
