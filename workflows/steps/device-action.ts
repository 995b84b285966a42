/**
 * What every device step shares. Each action goes through the device's lock (device-access.ts):
 * alone, it waits in line for a hold of its own; inside a device_session, it uses the session's
 * hold. The device worker checks the hold's fencing token. When the board stays offline after
 * the retries, the step ends SKIPPED and a human is asked: retry, skip or abort. Runs recorded
 * before the lock's update replay the signal-based path they took (device-legacy.ts).
 */
import { z } from 'zod';
import {
  ActivityCancellationType,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  type RetryPolicy,
} from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { toRetryPolicy } from '../spec/common';
import type { RetrySpec, EscalationSpec } from '../contracts/spec';
import { DEVICE_ID_RE, DeviceFailure, type DeviceActivities, type DeviceSettings } from '../contracts/device';
import { offlineReason, type DeviceAction, type DeviceAccess, type End } from './device-act';
import { tryWithLock } from './device-access';
import { DEVICE_ACCESS_PATCH, enclosingSession, legacyTryOnce } from './device-legacy';
import { StepSkipped, type StepContext } from './step-kind';

export type { DeviceAction, DeviceAccess } from './device-act';

export const escalationSchema: z.ZodType<EscalationSpec> = z.strictObject({
  timeout: durationSchema.optional(),
  onTimeout: z.enum(['skip', 'abort']).optional(),
  approvers: z.array(z.string().min(1)).optional(),
});

export const ESCALATION_CHOICES = ['retry', 'skip', 'abort'] as const;
type EscalationChoice = (typeof ESCALATION_CHOICES)[number];
const DEFAULT_ESCALATION_TIMEOUT = '24h';

function invalid(ctx: StepContext, message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidSpec',
    message: `step "${ctx.path}": ${message}`,
    nonRetryable: true,
  });
}

/** A device id from a step's `device` field (or its session's device), checked. */
export function resolveDeviceId(ctx: StepContext, device: string | undefined): string {
  if (device === undefined) {
    const session = ctx.devices.session?.primary ?? enclosingSession(ctx.path)?.deviceId;
    if (session === undefined) throw invalid(ctx, 'device is required outside a device_session');
    return session;
  }
  const id = ctx.resolve(device);
  if (typeof id !== 'string' || !DEVICE_ID_RE.test(id)) {
    throw invalid(ctx, `device must resolve to a device id (letters, digits, _ or -), got ${JSON.stringify(id)}`);
  }
  return id;
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

/** How this run reaches the device for one try: through the lock, or as a run recorded before it did. */
type TryOnce = <T>(a: DeviceAction<T>, deviceId: string) => Promise<End<T>>;

function accessPath(
  ctx: StepContext,
  deviceId: string,
): {
  tryOnce: TryOnce;
  releaseWhile?: <R>(fn: () => Promise<R>) => Promise<R>;
} {
  const session = ctx.devices.session;
  if (session)
    return { tryOnce: (a, id) => tryWithLock(a, id, ctx.devices), releaseWhile: (fn) => session.releaseWhile(fn) };
  const legacy = enclosingSession(ctx.path, deviceId) ?? (enclosingSession(ctx.path) ? undefined : null);
  if (legacy)
    return { tryOnce: (a, id) => legacyTryOnce(a, id, legacy), releaseWhile: (fn) => legacy.releaseWhile(fn) };
  if (legacy === null && patched(DEVICE_ACCESS_PATCH)) return { tryOnce: (a, id) => tryWithLock(a, id, ctx.devices) };
  return { tryOnce: (a, id) => legacyTryOnce(a, id, undefined) };
}

async function escalate(
  a: DeviceAction<unknown>,
  deviceId: string,
  reason: string,
  round: number,
  releaseWhile: (<R>(fn: () => Promise<R>) => Promise<R>) | undefined,
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
  const decision = releaseWhile ? await releaseWhile(ask) : await ask();
  if (decision.timedOut) return { choice: esc.onTimeout ?? 'skip', by: 'timeout' };
  const choice =
    (decision.choice as EscalationChoice | undefined) ?? (decision.decision === 'approve' ? 'retry' : 'skip');
  return { choice, by: decision.by };
}

/** One try; `done: false` when the board is offline (or nobody serves it). */
async function attempt<T>(
  a: DeviceAction<T>,
  deviceId: string,
  tryOnce: TryOnce,
): Promise<{ done: true; result: T } | { done: false; reason: string }> {
  let end: End<T>;
  try {
    end = await tryOnce(a, deviceId);
  } catch (err) {
    // Asking the lock failed: nothing serves the device.
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
    const path = accessPath(a.ctx, deviceId);
    const tried = await attempt(a, deviceId, path.tryOnce);
    if (tried.done) return tried.result;
    const { choice, by } = await escalate(a, deviceId, tried.reason, round, path.releaseWhile);
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
