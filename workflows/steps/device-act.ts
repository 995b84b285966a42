/**
 * One try at a device action, shared by both ways of reaching a device (the lock's update, and
 * the signals of runs recorded before it): how the try ended, and whether the board counts as
 * offline.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { EscalationSpec } from '../contracts/spec';
import {
  DeviceFailure,
  deviceLockReportSignal,
  deviceLockWorkflowId,
  type ActionOutcome,
  type DeviceSettings,
} from '../contracts/device';
import { errorMessage } from './errors';
import type { StepContext } from './step-kind';

export interface DeviceAction<T> {
  kind: 'upload' | 'command';
  ctx: StepContext;
  /** The step's `device` field (may hold expressions); inside a session it defaults to the session's device. */
  device: string | undefined;
  /** For people: what was being done, e.g. `upload of build/fw.bin`. */
  what: string;
  escalation?: EscalationSpec;
  perform(access: DeviceAccess, deviceId: string): Promise<T>;
}

/** What an action needs to reach the device: its settings, and the fencing token of a hold if any. */
export interface DeviceAccess {
  settings: DeviceSettings;
  token?: number;
}

/** The device's lock, to signal. */
export const lockOf = (deviceId: string) => getExternalWorkflowHandle(deviceLockWorkflowId(deviceId));

/** Signals to a lock must reach it even when the step that sends them is being cancelled. */
export const signalLock = (send: () => Promise<void>): Promise<void> =>
  CancellationScope.nonCancellable(() => send().catch(() => undefined));

/** Tells the lock how an action of a session's hold ended (a lone action's release carries it instead). */
export function reportOutcome(deviceId: string, outcome: ActionOutcome): Promise<void> {
  return signalLock(() => lockOf(deviceId).signal(deviceLockReportSignal, outcome));
}

/** How one try at the action ended (its activity's retries included). */
export type End<T> =
  | { kind: 'done'; result: T }
  | { kind: 'offline'; reason: string }
  /** A lone action without a token met another run's session holding the board (runs recorded before the lock's update). */
  | { kind: 'held' }
  | { kind: 'failed'; error: unknown };

/** Why the board counts as offline, or undefined when the failure is of another kind. */
export function offlineReason(err: unknown, settings: DeviceSettings | undefined): string | undefined {
  if (err instanceof ApplicationFailure && err.type === DeviceFailure.Unreachable) return err.message;
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  const offline: string[] = [DeviceFailure.Unreachable, DeviceFailure.PortBusy, DeviceFailure.LockUnavailable];
  if (cause instanceof ApplicationFailure && cause.type && offline.includes(cause.type)) {
    const attempts = settings ? ` after ${settings.retry.maximumAttempts} attempt(s)` : '';
    return `${cause.message}${attempts}`;
  }
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
    return `no device worker took the action within ${settings?.pickupTimeoutMs ?? '?'} ms (is the worker for ${settings?.taskQueue} running?)`;
  }
  return undefined;
}

const heldBySession = (err: unknown) =>
  err instanceof ActivityFailure &&
  err.cause instanceof ApplicationFailure &&
  err.cause.type === DeviceFailure.HeldBySession;

export function actionOutcome(outcome: Omit<ActionOutcome, 'workflowId' | 'at'>): ActionOutcome {
  return { ...outcome, workflowId: workflowInfo().workflowId, at: new Date().toISOString() };
}

/** Performs the action once, with the outcome the device's lock records. */
export async function act<T>(
  a: DeviceAction<T>,
  deviceId: string,
  access: DeviceAccess,
): Promise<{ end: End<T>; outcome?: ActionOutcome }> {
  const started = Date.now();
  const outcome = (status: ActionOutcome['status'], error?: string) =>
    actionOutcome({ kind: a.kind, status, durationMs: Date.now() - started, stepPath: a.ctx.path, error });
  try {
    return { end: { kind: 'done', result: await a.perform(access, deviceId) }, outcome: outcome('completed') };
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (heldBySession(err) && access.token === undefined) return { end: { kind: 'held' } };
    const reason = offlineReason(err, access.settings);
    if (reason !== undefined)
      return { end: { kind: 'offline', reason }, outcome: outcome('skipped', errorMessage(err)) };
    return { end: { kind: 'failed', error: err }, outcome: outcome('failed', errorMessage(err)) };
  }
}

/** Acts with a hold of its own and hands it back: one release signal frees the device and records the outcome. */
export async function actAndRelease<T>(
  a: DeviceAction<T>,
  deviceId: string,
  hold: { settings: DeviceSettings; token: number; release(outcome?: ActionOutcome): Promise<void> },
): Promise<End<T>> {
  let outcome: ActionOutcome | undefined;
  try {
    const done = await act(a, deviceId, { settings: hold.settings, token: hold.token });
    outcome = done.outcome;
    return done.end;
  } finally {
    await hold.release(outcome);
  }
}
