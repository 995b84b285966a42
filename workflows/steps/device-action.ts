/**
 * What every device step shares. A lone action goes straight to the device's task queue, whose
 * worker has one slot: that queue is what serialises uploads. Inside a session the action
 * carries the session's fencing token; a lone action that meets a session holding the board is
 * refused and queues for the device's lock like a session would. When the board stays offline
 * after the retries, the step ends SKIPPED and a human is asked: retry, skip or abort.
 */
import { z } from 'zod';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  TimeoutFailure,
  type RetryPolicy,
} from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { toRetryPolicy } from '../spec/common';
import type { RetrySpec, EscalationSpec } from '../contracts/spec';
import { errorMessage } from './errors';
import {
  DEVICE_ID_RE,
  DeviceFailure,
  type DeviceActivities,
  type DeviceSettings,
  type ActionOutcome,
} from '../contracts/device';
import {
  acquireDevice,
  actionOutcome,
  deviceSettingsOf,
  enclosingSession,
  reportOutcome,
  type DeviceSession,
} from './device-hold';
import { StepSkipped, type StepContext } from './step-kind';

export const escalationSchema: z.ZodType<EscalationSpec> = z.strictObject({
  timeout: durationSchema.optional(),
  onTimeout: z.enum(['skip', 'abort']).optional(),
  approvers: z.array(z.string().min(1)).optional(),
});

export const ESCALATION_CHOICES = ['retry', 'skip', 'abort'] as const;
type EscalationChoice = (typeof ESCALATION_CHOICES)[number];
const DEFAULT_ESCALATION_TIMEOUT = '24h';

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

function invalid(ctx: StepContext, message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidSpec',
    message: `step "${ctx.path}": ${message}`,
    nonRetryable: true,
  });
}

export function resolveDeviceId(ctx: StepContext, device: string | undefined): string {
  if (device === undefined) {
    const session = enclosingSession(ctx.path);
    if (!session) throw invalid(ctx, 'device is required outside a device_session');
    return session.deviceId;
  }
  const id = ctx.resolve(device);
  if (typeof id !== 'string' || !DEVICE_ID_RE.test(id)) {
    throw invalid(ctx, `device must resolve to a device id (letters, digits, _ or -), got ${JSON.stringify(id)}`);
  }
  return id;
}

/** Why the board counts as offline, or undefined when the failure is of another kind. */
function offlineReason(err: unknown, settings: DeviceSettings | undefined): string | undefined {
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

/** The step's retry overrides on top of the device's configured policy. */
export function retryFor(settings: DeviceSettings, override: RetrySpec | undefined): RetryPolicy {
  const given = Object.fromEntries(Object.entries(toRetryPolicy(override) ?? {}).filter(([, v]) => v !== undefined));
  return { ...settings.retry, ...given };
}

export function deviceActivities(
  access: DeviceAccess,
  o: { ctx: StepContext; startToCloseMs: number; retry?: RetrySpec },
): DeviceActivities {
  const s = access.settings;
  return proxyActivities<DeviceActivities>({
    taskQueue: s.taskQueue,
    startToCloseTimeout: o.startToCloseMs,
    heartbeatTimeout: s.heartbeatTimeoutMs,
    scheduleToStartTimeout: s.pickupTimeoutMs,
    retry: retryFor(s, o.retry),
    summary: o.ctx.path,
    // The step reports cancelled only once the device worker stopped touching the board.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
}

async function escalate(
  a: DeviceAction<unknown>,
  deviceId: string,
  reason: string,
  round: number,
): Promise<{ choice: EscalationChoice; by: string }> {
  const esc = a.escalation ?? {};
  const ask = () =>
    a.ctx.requestApproval({
      prompt:
        `Device "${deviceId}" is offline: ${reason}. The ${a.what} was skipped` +
        `${round > 1 ? ` (${round} rounds so far)` : ''}. Choose retry (approve), skip (reject) or abort.`,
      approvers: esc.approvers,
      timeoutMs: durationToMs(esc.timeout ?? DEFAULT_ESCALATION_TIMEOUT),
      onTimeout: 'reject',
      choices: [...ESCALATION_CHOICES],
    });
  // A session lets go of the board while a human decides; it queues again on retry.
  const session = enclosingSession(a.ctx.path, deviceId);
  const decision = session ? await session.releaseWhile(ask) : await ask();
  if (decision.timedOut) return { choice: esc.onTimeout ?? 'skip', by: 'timeout' };
  const choice =
    (decision.choice as EscalationChoice | undefined) ?? (decision.decision === 'approve' ? 'retry' : 'skip');
  return { choice, by: decision.by };
}

/** How one try at the action ended (its activity's retries included). */
type End<T> =
  | { kind: 'done'; result: T }
  | { kind: 'offline'; reason: string }
  /** A lone action met another run's session holding the board. */
  | { kind: 'held' }
  | { kind: 'failed'; error: unknown };

const heldBySession = (err: unknown) =>
  err instanceof ActivityFailure &&
  err.cause instanceof ApplicationFailure &&
  err.cause.type === DeviceFailure.HeldBySession;

async function act<T>(
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

/** Queues for the device (first come, first served), acts with the hold's token, releases. */
async function actHolding<T>(a: DeviceAction<T>, deviceId: string): Promise<End<T>> {
  const hold = await acquireDevice(deviceId, a.ctx.path);
  let outcome: ActionOutcome | undefined;
  try {
    const done = await act(a, deviceId, { settings: hold.settings, token: hold.token });
    outcome = done.outcome;
    return done.end;
  } finally {
    // One signal frees the device and records the result.
    await hold.release(outcome);
  }
}

async function tryOnce<T>(a: DeviceAction<T>, deviceId: string, session: DeviceSession | undefined): Promise<End<T>> {
  if (session) {
    const hold = await session.acquire();
    const done = await act(a, deviceId, { settings: hold.settings, token: hold.token });
    if (done.outcome) await reportOutcome(deviceId, done.outcome);
    return done.end;
  }
  const done = await act(a, deviceId, { settings: await deviceSettingsOf(deviceId) });
  if (done.end.kind === 'held') return actHolding(a, deviceId);
  if (done.outcome) await reportOutcome(deviceId, done.outcome);
  return done.end;
}

/** One try; `done: false` when the board is offline (or nobody serves it). */
async function attempt<T>(
  a: DeviceAction<T>,
  deviceId: string,
  session: DeviceSession | undefined,
): Promise<{ done: true; result: T } | { done: false; reason: string }> {
  let end: End<T>;
  try {
    end = await tryOnce(a, deviceId, session);
  } catch (err) {
    // Asking the lock failed: the device has no worker that ever started.
    const reason = isCancellation(err) ? undefined : offlineReason(err, undefined);
    if (reason === undefined) throw err;
    return { done: false, reason };
  }
  if (end.kind === 'done') return { done: true, result: end.result };
  if (end.kind === 'offline') return { done: false, reason: end.reason };
  if (end.kind === 'failed') throw end.error;
  throw ApplicationFailure.create({
    type: DeviceFailure.HeldBySession,
    message: `device "${deviceId}" refused the action although this run holds it`,
    nonRetryable: true,
  });
}

export async function runDeviceAction<T>(a: DeviceAction<T>): Promise<T | StepSkipped> {
  const deviceId = resolveDeviceId(a.ctx, a.device);
  for (let round = 1; ; round++) {
    const tried = await attempt(a, deviceId, enclosingSession(a.ctx.path, deviceId));
    if (tried.done) return tried.result;
    const { choice, by } = await escalate(a, deviceId, tried.reason, round);
    if (choice === 'retry') continue;
    if (choice === 'abort') {
      throw ApplicationFailure.create({
        type: 'DeviceActionAborted',
        message: `${a.what} on "${deviceId}" aborted by ${by}: ${tried.reason}`,
        nonRetryable: true,
      });
    }
    return new StepSkipped(`device "${deviceId}" offline: ${tried.reason}`, { deviceId, decidedBy: by, rounds: round });
  }
}
