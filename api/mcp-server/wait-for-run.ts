/**
 * wait_for_run: reads the run (WorkflowsService.describe, as GET /workflows/:id) until it closes or
 * the time is up, telling the caller in a line whenever what it waits on changes. Between reads it
 * also watches for the execution's close, so a run that ends is answered at once, not at the next read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { PendingApproval, StepRecord } from '../../workflows/contracts/run';
import { runDetailSchema, type RunDetail } from '../workflows/run-views';
import type { RunStatus } from '../workflows/run-status';

export const waitForRunResultSchema = z.object({
  finished: z.boolean().meta({ description: 'true: the run has closed (see run.status); false: it is still open.' }),
  timedOut: z.boolean().meta({ description: 'true: timeoutSeconds passed first; call again to keep waiting.' }),
  run: runDetailSchema,
});
export type WaitForRunResult = z.infer<typeof waitForRunResultSchema>;

/** Statuses of a run that may still move. */
const OPEN: ReadonlySet<RunStatus> = new Set(['running', 'paused']);
/** A line at least this often while nothing changes, so a client's request timeout can be reset. */
const KEEP_ALIVE_MS = 15_000;

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  signal: AbortSignal;
  /** Called with 1, 2, 3... and a line saying where the run is; absent: the caller wants no progress. */
  progress?: (progress: number, message: string) => Promise<void>;
  /** Resolves when the run's current execution closes (execution-closed.ts); absent: reads alone. */
  closed?: (signal: AbortSignal) => Promise<void>;
}

/** Waits `ms`, or less when `closing` settles first; throws when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal, closing: Promise<void> | undefined): Promise<void> {
  const timer = new AbortController();
  const stop = () => timer.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    const slept = sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined);
    await Promise.race(closing ? [slept, closing] : [slept]);
  } finally {
    timer.abort();
    signal.removeEventListener('abort', stop);
  }
  // As an aborted sleep would: the SDK answers the cancelled request, not the error.
  if (signal.aborted)
    throw Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError' });
}

export async function waitForRun(
  describe: (workflowId: string) => Promise<RunDetail>,
  workflowId: string,
  opts: WaitOptions,
): Promise<WaitForRunResult> {
  const deadline = Date.now() + opts.timeoutMs;
  let sent = 0;
  let lastLine: string | undefined;
  let lastSentAt = 0;
  const watch = new AbortController();
  const stopWatching = () => watch.abort();
  opts.signal.addEventListener('abort', stopWatching, { once: true });
  // Settles when the execution being watched closes; cleared then, so a run that continued as new
  // is watched again. A watch that fails leaves the reads to find the end.
  let closing: Promise<void> | undefined;
  let sawClose = false;
  try {
    for (;;) {
      opts.signal.throwIfAborted();
      const run = await describe(workflowId);
      // The end is told by the result: a notification just before it could reach the client after it
      // (the SDK's client dispatches notifications a tick later than responses) and be refused there.
      if (!OPEN.has(run.status)) return { finished: true, timedOut: false, run };
      const line = whereTheRunIs(run);
      if (opts.progress && (line !== lastLine || Date.now() - lastSentAt >= KEEP_ALIVE_MS)) {
        await opts.progress(++sent, line);
        lastLine = line;
        lastSentAt = Date.now();
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return { finished: false, timedOut: true, run };
      if (sawClose) {
        // It continued as new (or the read lagged): one plain pause before watching again, so
        // reads never follow each other back to back.
        sawClose = false;
        await pause(Math.min(opts.pollMs, remaining), opts.signal, undefined);
        continue;
      }
      closing ??= opts.closed?.(watch.signal).then(
        () => {
          closing = undefined;
          sawClose = true;
        },
        () => new Promise<void>(() => undefined),
      );
      await pause(Math.min(opts.pollMs, remaining), opts.signal, closing);
    }
  } finally {
    watch.abort();
    opts.signal.removeEventListener('abort', stopWatching);
  }
}

/** `2 of 3 steps finished; running: build; waiting for approval: approve ("Ship it?")`. */
export function whereTheRunIs(run: RunDetail): string {
  const progress = (run.progress ?? {}) as {
    phase?: string;
    current?: string[];
    steps?: Record<string, StepRecord>;
    pendingApprovals?: PendingApproval[];
  };
  const steps = Object.values(progress.steps ?? {});
  const done = steps.filter((s) => s.status !== 'running' && s.status !== 'waiting').length;
  const parts = [`${run.status}: ${done} of ${steps.length} steps started so far finished`];
  if (progress.current?.length) parts.push(`running: ${progress.current.join(', ')}`);
  const waiting = progress.pendingApprovals ?? [];
  if (waiting.length) {
    parts.push(
      `waiting for approval: ${waiting
        .map((a) => (a.prompt ? `${a.stepId} (${JSON.stringify(a.prompt.slice(0, 200))})` : a.stepId))
        .join(', ')}`,
    );
  }
  return parts.join('; ');
}
