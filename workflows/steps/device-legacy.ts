/**
 * How runs recorded before DEVICE_ACCESS_PATCH reach a device, kept as it was so that they replay
 * and finish: a lone action goes straight to the device's task queue (joining the lock's line by
 * signal only when a session holds the board), a session asks the lock by signal and hears its
 * grant by signal. Module state is per workflow execution (`waits`, `sessions`); replay rebuilds
 * it from the recorded signals. New device steps never come here (device-access.ts).
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  executeChild,
  isCancellation,
  patched,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DeviceFailure,
  deviceGrantedSignal,
  deviceLeaseRevokedSignal,
  deviceLockAcquireSignal,
  deviceLockDescribeSignal,
  deviceLockReleaseSignal,
  deviceLockRenewSignal,
  deviceLockWithdrawSignal,
  deviceLockWorkflowId,
  deviceQueuePositionSignal,
  deviceSettingsSignal,
  type ActionOutcome,
  type DeviceSettings,
  type DeviceWaitView,
  type Grant,
} from '../contracts/device';
import { act, actAndRelease, lockOf, reportOutcome, signalLock, type DeviceAction, type End } from './device-act';
import { deviceLeaseKeeper, LEASE_KEEPER_PATCH, renewEveryMs } from './device-lease-keeper';
import type { StepContext } from './step-kind';
import type { Step } from '../contracts/spec';

/** Device steps that reach their first device after this marker go through the lock's update. */
export const DEVICE_ACCESS_PATCH = 'device-access-by-update';

interface LegacyHold {
  readonly deviceId: string;
  readonly requestId: string;
  readonly token: number;
  readonly settings: DeviceSettings;
  /** true once the lock took the device back (the lease ran out). */
  revoked(): boolean;
  release(outcome?: ActionOutcome): Promise<void>;
}

interface Wait {
  view: DeviceWaitView;
  grant?: Grant;
  revoked: boolean;
}

const waits = new Map<string, Wait>();
let handlersInstalled = false;
const settingsReplies = new Map<string, DeviceSettings>();
const settingsByDevice = new Map<string, Promise<DeviceSettings>>();

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  setHandler(deviceGrantedSignal, (grant) => {
    const wait = waits.get(grant.requestId);
    if (!wait || wait.view.state !== 'waiting') {
      // Granted after this run stopped waiting: give it straight back.
      void signalLock(() =>
        lockOf(grant.settings.deviceId).signal(deviceLockReleaseSignal, {
          requestId: grant.requestId,
          token: grant.token,
        }),
      );
      return;
    }
    wait.grant = grant;
    Object.assign(wait.view, {
      state: 'holding',
      token: grant.token,
      position: undefined,
      since: new Date().toISOString(),
    });
  });
  setHandler(deviceQueuePositionSignal, ({ requestId, position, waiting }) => {
    const wait = waits.get(requestId);
    if (wait?.view.state === 'waiting') Object.assign(wait.view, { position, waiting });
  });
  setHandler(deviceLeaseRevokedSignal, ({ requestId, token }) => {
    const wait = waits.get(requestId);
    if (wait?.grant?.token !== token) return;
    wait.revoked = true;
    wait.view.state = 'revoked';
  });
  setHandler(deviceSettingsSignal, ({ requestId, settings }) => void settingsReplies.set(requestId, settings));
}

const notServed = (deviceId: string) =>
  ApplicationFailure.create({
    type: DeviceFailure.Unreachable,
    message: `device "${deviceId}" is not served: no lock workflow ${deviceLockWorkflowId(deviceId)} (has its device worker ever started?)`,
    nonRetryable: true,
  });

/**
 * The device's server-side settings (task queue, timeouts, retry policy), asked of its lock once
 * per run. Fails with DeviceUnreachable when the device has no lock, i.e. no worker ever started.
 */
export function deviceSettingsOf(deviceId: string): Promise<DeviceSettings> {
  let known = settingsByDevice.get(deviceId);
  if (!known) {
    known = (async () => {
      installHandlers();
      const requestId = uuid4();
      try {
        await lockOf(deviceId).signal(deviceLockDescribeSignal, { requestId, workflowId: workflowInfo().workflowId });
      } catch (err) {
        if (isCancellation(err)) throw err;
        throw notServed(deviceId);
      }
      await condition(() => settingsReplies.has(requestId));
      return settingsReplies.get(requestId) as DeviceSettings;
    })();
    settingsByDevice.set(deviceId, known);
    // A failed ask is not kept: the next step asks again (the worker may have started since).
    known.catch(() => settingsByDevice.get(deviceId) === known && settingsByDevice.delete(deviceId));
  }
  return known;
}

/** The run's waits and holds by signal, for its `deviceQueue` query. */
export function legacyWaits(): DeviceWaitView[] {
  return [...waits.values()].map((w) => ({ ...w.view }));
}

/**
 * Joins the device's queue and waits for the grant (first come, first served). Fails with
 * DeviceUnreachable when the device has no lock, i.e. its worker never started. A hold kept
 * across several steps (a session) renews its lease in a keeper child workflow.
 */
async function acquireDevice(
  deviceId: string,
  stepPath: string,
  leaseMs?: number,
  opts: { renewInChild?: boolean } = {},
): Promise<LegacyHold> {
  installHandlers();
  const requestId = uuid4();
  const wait: Wait = {
    view: { requestId, deviceId, stepPath, state: 'waiting', since: new Date().toISOString() },
    revoked: false,
  };
  waits.set(requestId, wait);
  const lock = lockOf(deviceId);
  try {
    await lock.signal(deviceLockAcquireSignal, { requestId, workflowId: workflowInfo().workflowId, stepPath, leaseMs });
  } catch (err) {
    waits.delete(requestId);
    if (isCancellation(err)) throw err;
    throw notServed(deviceId);
  }
  try {
    await condition(() => wait.grant !== undefined);
  } catch (err) {
    wait.view.state = 'released';
    await signalLock(() => lock.signal(deviceLockWithdrawSignal, { requestId }));
    throw err;
  }
  const grant = wait.grant as Grant;
  const renewals = new CancellationScope();
  const keeper = opts.renewInChild === true && patched(LEASE_KEEPER_PATCH);
  void renewals
    .run(async () => {
      if (keeper) {
        await executeChild(deviceLeaseKeeper, {
          workflowId: `${workflowInfo().workflowId}.${stepPath}.lease-${grant.token}`,
          args: [{ deviceId, requestId, token: grant.token, leaseMs: grant.leaseMs }],
          staticSummary: `Renews the lease of ${deviceId} (token ${grant.token}) for ${stepPath}`,
          // Release does not wait for the keeper to stop: the lock ignores a late renewal.
          cancellationType: ChildWorkflowCancellationType.TRY_CANCEL,
        });
        return;
      }
      for (;;) {
        await sleep(renewEveryMs(grant.leaseMs));
        if (wait.revoked) return;
        await lock.signal(deviceLockRenewSignal, { requestId, token: grant.token });
      }
    })
    .catch(() => undefined);
  let released = false;
  return {
    deviceId,
    requestId,
    token: grant.token,
    settings: grant.settings,
    revoked: () => wait.revoked,
    async release(outcome) {
      if (released) return;
      released = true;
      renewals.cancel();
      wait.view.state = 'released';
      waits.delete(requestId);
      await signalLock(() => lock.signal(deviceLockReleaseSignal, { requestId, token: grant.token, outcome }));
    },
  };
}

// ---- Sessions: a hold shared by the steps nested in a device_session. ----

export class DeviceSession {
  hold: LegacyHold | undefined;

  constructor(
    readonly path: string,
    readonly deviceId: string,
    /** Ids of every step nested in the session, at any depth. */
    readonly innerIds: ReadonlySet<string>,
    readonly leaseMs: number | undefined,
  ) {}

  /** The prefix inner step paths share: '' at top level, `each[2]` inside a map item. */
  get prefix(): string {
    const dot = this.path.lastIndexOf('.');
    return dot < 0 ? '' : this.path.slice(0, dot);
  }

  encloses(stepPath: string): boolean {
    const dot = stepPath.lastIndexOf('.');
    const id = dot < 0 ? stepPath : stepPath.slice(dot + 1);
    return this.innerIds.has(id) && (this.prefix === '' || stepPath.startsWith(`${this.prefix}.`));
  }

  async acquire(): Promise<LegacyHold> {
    this.hold ??= await acquireDevice(this.deviceId, this.path, this.leaseMs, { renewInChild: true });
    return this.hold;
  }

  /** Lets go of the device while `fn` runs (a human deciding), then queues for it again. */
  async releaseWhile<T>(fn: () => Promise<T>): Promise<T> {
    await this.hold?.release();
    this.hold = undefined;
    return fn();
  }

  async end(): Promise<void> {
    await this.hold?.release();
    this.hold = undefined;
  }
}

const sessions = new Set<DeviceSession>();

export function openSession(session: DeviceSession): void {
  sessions.add(session);
}

export function closeSession(session: DeviceSession): void {
  sessions.delete(session);
}

/** The innermost open session on `deviceId` (or on any device, when undefined) that encloses `stepPath`. */
export function enclosingSession(stepPath: string, deviceId?: string): DeviceSession | undefined {
  let found: DeviceSession | undefined;
  for (const s of sessions) {
    if (!s.encloses(stepPath) || (deviceId !== undefined && s.deviceId !== deviceId)) continue;
    if (!found || s.innerIds.size < found.innerIds.size) found = s;
  }
  return found;
}

/** Every `id` of a step nested anywhere in `value` (step lists, branches, cases). */
export function nestedStepIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => nestedStepIds(v, out));
  else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.id === 'string' && typeof o.kind === 'string') out.add(o.id);
    Object.values(o).forEach((v) => nestedStepIds(v, out));
  }
  return out;
}

/** Queues for the device (first come, first served), acts with the hold's token, releases. */
async function actHolding<T>(a: DeviceAction<T>, deviceId: string): Promise<End<T>> {
  return actAndRelease(a, deviceId, await acquireDevice(deviceId, a.ctx.path));
}

/** One try as runs recorded before DEVICE_ACCESS_PATCH made it: lone actions first go straight to the board. */
export async function legacyTryOnce<T>(
  a: DeviceAction<T>,
  deviceId: string,
  session: DeviceSession | undefined,
): Promise<End<T>> {
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

/** A device_session as runs recorded before DEVICE_ACCESS_PATCH ran it. */
export async function runLegacySession(
  steps: Step[],
  ctx: StepContext,
  deviceId: string,
  leaseMs: number | undefined,
): Promise<{ deviceId: string; heldMs: number; output: unknown }> {
  const session = new DeviceSession(ctx.path, deviceId, nestedStepIds(steps), leaseMs);
  openSession(session);
  const started = Date.now();
  try {
    try {
      await session.acquire();
    } catch (err) {
      // A device nobody serves: inner device steps find that out too and escalate one by one.
      if (!(err instanceof ApplicationFailure && err.type === DeviceFailure.Unreachable)) throw err;
    }
    const output = await ctx.runSteps(steps);
    return { deviceId, heldMs: Date.now() - started, output };
  } finally {
    closeSession(session);
    await session.end();
  }
}
