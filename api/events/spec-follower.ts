/**
 * Follows every run of one spec (GET /events?spec=): finds runs through visibility (AgentSpec =
 * the spec, running, or closed since the stream's floor), follows each one as GET
 * /workflows/:id/events does, and merges their events as they come. Each event's SSE id is a
 * cursor (spec-cursor.ts) from which Last-Event-ID resumes.
 *
 * What is exact and what rests on an assumption: a run is followed from its first event at or
 * after the floor, or after the id the cursor lists for it, so within the runs the stream finds
 * nothing is sent twice and nothing is skipped. The floor only moves to a time FLOOR_LAG_MS before
 * the last discovery and before now, and never past a run still being read; a run whose whole
 * life (start to close) fits before a floor that moved past it without visibility having shown
 * it — visibility lagging more than FLOOR_LAG_MS, or history event times more than that behind
 * this server's clock — would be missed.
 */
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE } from '../../workflows/contracts/run';
import type { RunEvent } from '../../workflows/contracts/run-events';
import { temporalErrorToHttp } from '../temporal/temporal-errors';
import { quoteVisibilityValue } from '../workflows/visibility-query';
import { parseRunEventId } from './event-ids';
import { followRun, type FollowerDeps } from './run-follower';
import { encodeSpecCursor, type SpecCursor } from './spec-cursor';

/** How far the floor stays behind discovery and the clock (visibility lag and clock skew it tolerates). */
export const FLOOR_LAG_MS = 15_000;

export interface SpecFollowerDeps extends FollowerDeps {
  /** How often visibility is asked for new runs. */
  discoverEveryMs: number;
  /** How far the floor stays behind (default FLOOR_LAG_MS). */
  floorLagMs?: number;
  /** The chain of run ids of a workflow id, first execution first (throws not-found for none). */
  chainOf(workflowId: string): Promise<string[]>;
}

export interface FollowSpec {
  spec: string;
  cursor?: SpecCursor;
  signal: AbortSignal;
  send(cursorId: string, event: RunEvent): Promise<void>;
}

interface Followed {
  /** The floor when this stream started to follow the run (its events before it count as sent). */
  fromTime: number;
  /** Time of the last event sent (ms). */
  lastAt?: number;
  idle: boolean;
  done: boolean;
}

export async function followSpec(deps: SpecFollowerDeps, opts: FollowSpec): Promise<void> {
  const { signal } = opts;
  const now = Date.now();
  const cursor: SpecCursor = opts.cursor
    ? { floor: opts.cursor.floor, runs: new Map(opts.cursor.runs) }
    : { floor: now, runs: new Map() };
  const followed = new Map<string, Followed>();
  const running = new Set<Promise<void>>();
  let sending: Promise<unknown> = Promise.resolve();
  let failure: unknown;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort);

  const follow = (workflowId: string) => {
    const state: Followed = { fromTime: cursor.floor, idle: false, done: false };
    followed.set(workflowId, state);
    const listed = cursor.runs.get(workflowId);
    const after = listed === undefined ? undefined : parseRunEventId(listed);
    const task = (async () => {
      try {
        const chain = await deps.chainOf(workflowId);
        await followRun(deps, {
          workflowId,
          chain,
          after,
          fromTime: after ? undefined : state.fromTime,
          signal: stop.signal,
          onIdle: (idle) => (state.idle = idle),
          // Sent now, or before this stream resumed: either way the client has it.
          seen: (event) => (state.lastAt = Math.max(state.lastAt ?? 0, Date.parse(event.at))),
          send: (event) => {
            // One event at a time over all runs; the cursor is the one after this event.
            const next = sending.then(async () => {
              if (stop.signal.aborted) return;
              if (event.type !== 'step.progress') cursor.runs.set(workflowId, event.id);
              await opts.send(encodeSpecCursor(cursor), event);
            });
            sending = next.catch(() => undefined);
            return next;
          },
        });
        state.done = true;
      } catch (err) {
        // A run gone from Temporal (retention) has nothing more to send; anything else ends the stream.
        if (temporalErrorToHttp(err)?.statusCode === 404) state.done = true;
        else if (!stop.signal.aborted) {
          failure = err;
          stop.abort();
        }
      } finally {
        state.idle = true;
      }
    })();
    running.add(task);
    void task.finally(() => running.delete(task));
  };

  /** Moves the floor as far as it may go and drops the runs it covers from the cursor. */
  const advanceFloor = (discoveredAt: number) => {
    let floor = Math.min(discoveredAt, Date.now()) - (deps.floorLagMs ?? FLOOR_LAG_MS);
    for (const state of followed.values()) {
      if (!state.idle && !state.done) floor = Math.min(floor, state.lastAt ?? state.fromTime);
    }
    if (floor <= cursor.floor) return;
    cursor.floor = floor;
    for (const [workflowId, state] of followed) {
      if ((state.idle || state.done) && (state.lastAt ?? 0) < floor) cursor.runs.delete(workflowId);
      // A finished run the floor passed is not found by discovery again.
      if (state.done && (state.lastAt ?? 0) < floor) followed.delete(workflowId);
    }
  };

  const query = (floor: number) =>
    [
      `WorkflowType = ${quoteVisibilityValue(RUN_SPEC_WORKFLOW)}`,
      `${SPEC_NAME_ATTRIBUTE.name} = ${quoteVisibilityValue(opts.spec)}`,
      `(ExecutionStatus = "Running" OR CloseTime >= ${quoteVisibilityValue(new Date(floor).toISOString())})`,
    ].join(' AND ');

  try {
    // Runs the cursor names are followed even if visibility no longer shows them.
    for (const workflowId of cursor.runs.keys()) follow(workflowId);
    while (!stop.signal.aborted) {
      const discoveredAt = Date.now();
      const found = new Set<string>();
      for await (const run of deps.client.workflow.list({ query: query(cursor.floor) })) {
        if (stop.signal.aborted) break;
        found.add(run.workflowId);
      }
      for (const workflowId of found) if (!followed.has(workflowId)) follow(workflowId);
      await sending;
      advanceFloor(discoveredAt);
      await delay(deps.discoverEveryMs, stop.signal);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
    // Followers end on the abort; none outlives the stream.
    await Promise.allSettled([...running]);
  }
  if (failure && !signal.aborted) throw failure;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
