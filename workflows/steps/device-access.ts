/**
 * The one way a run reaches a device: every action and every session joins the device's line at
 * its lock, through the `acquireDevice` activity (Update-with-Start on the lock), which returns
 * the grant when it is the request's turn. The holds a session took are passed to its steps in
 * their StepContext (no module state); a session that needs several devices takes them in one
 * canonical order (sorted ids), so two sessions can never wait for each other's device.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  executeChild,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DeviceFailure,
  deviceLockReleaseSignal,
  deviceQueueQuery,
  type ActionOutcome,
  type DeviceLockActivities,
  type DeviceWaitView,
} from '../contracts/device';
import { act, actAndRelease, lockOf, reportOutcome, signalLock, type DeviceAction, type End } from './device-act';
import { deviceLeaseKeeper } from './device-lease-keeper';
import { legacyWaits } from './device-legacy';
import type { DeviceContext, DeviceHold, DeviceRequests, DeviceSessionScope, HoldOptions } from './device-scope';

/** Waiting in line may take days; the heartbeat (its place in line) shows the activity is alive. */
const lockActivities = (stepPath: string, deviceId: string) =>
  proxyActivities<DeviceLockActivities>({
    startToCloseTimeout: '30 days',
    // Short enough that the place in line shows within seconds (heartbeats are sent at most every 0.8 × this).
    heartbeatTimeout: '10s',
    retry: {
      initialInterval: '1s',
      maximumInterval: '10s',
      nonRetryableErrorTypes: [DeviceFailure.Unreachable, DeviceFailure.RequestWithdrawn],
    },
    // A cancelled wait leaves the line before the step reports cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: `${stepPath} waits for device ${deviceId}`,
  });

/** The run's requests and holds: created once per run, and what its `deviceQueue` query shows. */
export class RunDeviceRequests implements DeviceRequests {
  private readonly views = new Map<string, DeviceWaitView>();

  constructor() {
    setHandler(deviceQueueQuery, () => [...legacyWaits(), ...[...this.views.values()].map((v) => ({ ...v }))]);
  }

  async hold(deviceId: string, stepPath: string, options: HoldOptions = {}): Promise<DeviceHold> {
    const requestId = uuid4();
    const view: DeviceWaitView = { requestId, deviceId, stepPath, state: 'waiting', since: new Date().toISOString() };
    this.views.set(requestId, view);
    let grant;
    try {
      grant = await lockActivities(stepPath, deviceId).acquireDevice({
        deviceId,
        requestId,
        workflowId: workflowInfo().workflowId,
        stepPath,
        leaseMs: options.leaseMs,
      });
    } catch (err) {
      this.views.delete(requestId);
      throw err;
    }
    Object.assign(view, { state: 'holding', token: grant.token, since: new Date().toISOString() });
    const { token, leaseMs } = grant;
    const keeper = new CancellationScope();
    if (options.keepAlive) {
      void keeper
        .run(() =>
          executeChild(deviceLeaseKeeper, {
            workflowId: `${workflowInfo().workflowId}.${stepPath}.lease-${deviceId}-${token}`,
            args: [{ deviceId, requestId, token, leaseMs }],
            staticSummary: `Renews the lease of ${deviceId} (token ${token}) for ${stepPath}`,
            // Release does not wait for the keeper to stop: the lock ignores a late renewal.
            cancellationType: ChildWorkflowCancellationType.TRY_CANCEL,
          }),
        )
        .catch(() => undefined);
    }
    let released = false;
    return {
      deviceId,
      requestId,
      token,
      settings: grant.settings,
      release: async (outcome?: ActionOutcome) => {
        if (released) return;
        released = true;
        if (options.keepAlive) keeper.cancel();
        this.views.delete(requestId);
        await signalLock(() => lockOf(deviceId).signal(deviceLockReleaseSignal, { requestId, token, outcome }));
      },
    };
  }
}

/** The devices of one device_session, taken in sorted order and shared by its steps. */
export class SessionHolds implements DeviceSessionScope {
  private readonly holds = new Map<string, DeviceHold>();
  /** Steps of a session may run in parallel: taking devices happens one request at a time. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly primary: string,
    /** Every device the session's steps name, sorted: the canonical order. */
    readonly deviceIds: readonly string[],
    private readonly requests: DeviceRequests,
    private readonly leaseMs: number | undefined,
  ) {}

  covers(deviceId: string): boolean {
    return this.deviceIds.includes(deviceId);
  }

  holdOf(deviceId: string): Promise<DeviceHold> {
    const next = this.turn.then(() => this.take(deviceId));
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** Takes every device in order; one nobody serves is left to the steps that use it (they escalate). */
  async takeAll(): Promise<void> {
    for (const id of this.deviceIds) {
      try {
        await this.holdOf(id);
      } catch (err) {
        if (!unreachable(err)) throw err;
      }
    }
  }

  async releaseWhile<T>(fn: () => Promise<T>): Promise<T> {
    await this.end();
    return fn();
  }

  async end(): Promise<void> {
    const held = [...this.holds.values()].reverse();
    this.holds.clear();
    for (const h of held) await h.release();
  }

  private async take(deviceId: string): Promise<DeviceHold> {
    if (!this.covers(deviceId)) {
      throw ApplicationFailure.create({
        type: DeviceFailure.OutOfOrder,
        message: `device "${deviceId}" is not one session "${this.path}" took at its start (${this.deviceIds.join(', ')})`,
        nonRetryable: true,
      });
    }
    const held = this.holds.get(deviceId);
    if (held) return held;
    // Never wait for a device while holding one that sorts after it: let those go, take them back after.
    const later = [...this.holds.keys()].filter((id) => id > deviceId).sort();
    for (const id of later) {
      await this.holds.get(id)?.release();
      this.holds.delete(id);
    }
    for (const id of [deviceId, ...later]) {
      this.holds.set(id, await this.requests.hold(id, this.path, { leaseMs: this.leaseMs, keepAlive: true }));
    }
    return this.holds.get(deviceId) as DeviceHold;
  }
}

/** A failure (or an activity failure caused by one) saying the device is not served or not reachable. */
function unreachable(err: unknown): boolean {
  const failure = err instanceof ApplicationFailure ? err : (err as { cause?: unknown } | undefined)?.cause;
  return failure instanceof ApplicationFailure && failure.type === DeviceFailure.Unreachable;
}

/** One try at an action through the lock: in a session with its hold, alone with a hold of its own. */
export async function tryWithLock<T>(a: DeviceAction<T>, deviceId: string, devices: DeviceContext): Promise<End<T>> {
  if (devices.session) {
    const hold = await devices.session.holdOf(deviceId);
    const done = await act(a, deviceId, { settings: hold.settings, token: hold.token });
    if (done.outcome) await reportOutcome(deviceId, done.outcome);
    return done.end;
  }
  return actAndRelease(a, deviceId, await devices.requests.hold(deviceId, a.ctx.path));
}
