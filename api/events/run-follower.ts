/**
 * Follows one run: reads its history from the first execution of its continue-as-new chain with
 * long polls (GetWorkflowExecutionHistory, waitNewEvent), maps it to run events as it arrives,
 * moves on to the next execution when one continues as new, and stops after run.finished. While
 * activities run it asks Temporal about once a second for their heartbeats (step.progress).
 * Everything is rebuilt from history: nothing is kept between connections.
 */
import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { RunEvent } from '../../workflows/contracts/run-events';
import { compareRunEventIds, parseRunEventId, type RunEventId } from './event-ids';
import { RunEventMapper } from './history-events';
import { progressFromHeartbeat } from './progress';

/** Events per history page (Temporal may return whole batches beyond it). */
const PAGE_SIZE = 1000;

export interface FollowerDeps {
  client: Client;
  namespace: string;
  decode: (payload: Payload | null | undefined) => unknown;
  /** How often running activities' heartbeats are read (about a second). */
  progressEveryMs: number;
}

export interface FollowRun {
  workflowId: string;
  /** Run ids of the chain known when the stream opened, first execution first. */
  chain: string[];
  /** Send only events after this id (a resume). */
  after?: RunEventId;
  /** Send only from the first event at or after this time (ms) on (a spec stream's floor). */
  fromTime?: number;
  signal: AbortSignal;
  /** Sends one event; resolves when the stream can take the next. */
  send(event: RunEvent): Promise<void>;
  /** Called with every run event the history yields that the client has or is sent now (not progress). */
  seen?(event: RunEvent): void;
  /** Called with true while waiting for new history with everything read sent, false when reading again. */
  onIdle?(idle: boolean): void;
}

/**
 * A call Temporal abandons when `signal` aborts. Each call gets a signal of its own: the client
 * adds a listener to the signal it is given and never removes it, so a long stream's own signal
 * would collect one per long poll.
 */
export async function abortable<T>(client: Client, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const call = new AbortController();
  const onAbort = () => call.abort();
  if (signal.aborted) call.abort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await client.connection.withAbortSignal(call.signal, fn);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Runs `fn` one call at a time: history pages and progress snapshots take turns, ids stay in order. */
class Turns {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export async function followRun(deps: FollowerDeps, opts: FollowRun): Promise<'finished' | 'stopped'> {
  const { client, namespace } = deps;
  const { workflowId, signal } = opts;
  const mapper = new RunEventMapper({ workflowId, decode: deps.decode });
  const turns = new Turns();
  let started = opts.fromTime === undefined;
  const wanted = (event: RunEvent): boolean => {
    if (opts.after) {
      const id = parseRunEventId(event.id);
      if (!id || compareRunEventIds(id, opts.after) <= 0) return false;
    }
    if (!started && Date.parse(event.at) >= (opts.fromTime ?? 0)) started = true;
    return started;
  };
  const sendAll = async (events: RunEvent[]) => {
    for (const event of events) {
      if (signal.aborted) return;
      const send = wanted(event);
      if (send || opts.after) opts.seen?.(event);
      if (send) await opts.send(event);
    }
  };

  let runId = opts.chain[0] as string;
  let live = false;
  const progress = new ProgressPoller(deps, opts, mapper, turns, () => (live ? runId : undefined));
  progress.start();
  try {
    for (let index = 0; !signal.aborted; index++) {
      mapper.beginExecution(index, runId);
      let token: Uint8Array | undefined;
      for (;;) {
        if (live) opts.onIdle?.(true);
        const page = await abortable(client, signal, () =>
          client.workflowService.getWorkflowExecutionHistory({
            namespace,
            execution: { workflowId, runId },
            nextPageToken: token,
            waitNewEvent: true,
            maximumPageSize: PAGE_SIZE,
          }),
        );
        opts.onIdle?.(false);
        const events = decryptPayloadsInPlace(page.history?.events ?? [], codecsOf(client));
        await turns.run(async () => {
          const out: RunEvent[] = [];
          for (const event of events) out.push(...mapper.push(event));
          out.push(...mapper.flush());
          await sendAll(out);
        });
        if (mapper.executionClosed || signal.aborted) break;
        // Caught up: what comes next is new, and heartbeats are worth reading.
        if (events.length < PAGE_SIZE) live = true;
        token = page.nextPageToken ?? undefined;
        if (!token?.length) break;
      }
      if (mapper.finished) return 'finished';
      const next = mapper.continuedTo ?? opts.chain[index + 1];
      if (!next || signal.aborted) return 'stopped';
      runId = next;
    }
    return 'stopped';
  } finally {
    progress.stop();
    opts.onIdle?.(true);
  }
}

/** Reads the heartbeats of the run's running activities and sends what changed as step.progress. */
class ProgressPoller {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  /** The last details sent per activity id, as JSON. */
  private readonly sent = new Map<string, string>();

  constructor(
    private readonly deps: FollowerDeps,
    private readonly opts: FollowRun,
    private readonly mapper: RunEventMapper,
    private readonly turns: Turns,
    private readonly liveRun: () => string | undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.deps.progressEveryMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    const runId = this.liveRun();
    if (this.busy || !runId || this.opts.signal.aborted || this.mapper.openActivities().size === 0) return;
    this.busy = true;
    try {
      const { client } = this.deps;
      const described = await abortable(client, this.opts.signal, () =>
        client.workflowService.describeWorkflowExecution({
          namespace: this.deps.namespace,
          execution: { workflowId: this.opts.workflowId, runId },
        }),
      );
      await this.turns.run(async () => {
        // Nothing after the run's end, nor about an execution the history has since closed.
        if (this.stopped || this.mapper.executionClosed) return;
        const open = this.mapper.openActivities();
        for (const pending of described.pendingActivities ?? []) {
          const activity = open.get(pending.activityId ?? '');
          const payload = pending.heartbeatDetails?.payloads?.[0];
          if (!activity || !payload || this.opts.signal.aborted) continue;
          const data = progressFromHeartbeat(this.deps.decode(payload));
          const text = JSON.stringify(data);
          if (!data || this.sent.get(pending.activityId ?? '') === text) continue;
          this.sent.set(pending.activityId ?? '', text);
          await this.opts.send({
            id: this.mapper.nextProgressId(this.opts.after),
            type: 'step.progress',
            workflowId: this.opts.workflowId,
            at: new Date().toISOString(),
            step: activity.step,
            data: { ...(activity.type && { activity: activity.type }), attempt: pending.attempt ?? 1, ...data },
          });
        }
      });
    } catch {
      // A missed snapshot is not an error: the next poll (or the history) tells more.
    } finally {
      this.busy = false;
    }
  }
}
