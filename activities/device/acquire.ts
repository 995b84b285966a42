/**
 * The orchestrator worker's side of a device's lock: `acquireDevice` joins the device's line with
 * Update-with-Start on its lock workflow and returns the grant when it is the request's turn, so
 * a run hears nothing by signal and its history holds one activity per wait. Near the front of
 * the line it waits inside the lock (an update that returns with the grant); further back it
 * reads its place by query, so a lock has only a few updates in flight however long the line.
 *
 * The lock runs on the device's own task queue: when no device worker serves it, nothing takes
 * the request, and after the device's pickup timeout (from the lock's memo) the device counts as
 * offline. A request given up that way is withdrawn, so the lock refuses it if it arrives later.
 */
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import {
  DEFAULT_LOCK_PICKUP_MS,
  DEVICE_LOCK_WORKFLOW,
  DEVICE_SETTINGS_MEMO,
  DeviceFailure,
  deviceAcquireUpdate,
  deviceLockStateQuery,
  deviceLockWithdrawSignal,
  deviceLockWorkflowId,
  deviceTaskQueue,
  type AcquireDeviceInput,
  type AcquireReply,
  type AcquireWaitProgress,
  type DeviceLockActivities,
  type DeviceLockView,
  type DeviceSettings,
  type DeviceLockStart,
  type Grant,
} from '../../workflows/contracts/device';

/**
 * Requests this near the front wait inside the lock (an update each); the rest read their place
 * by query. Two: the next holder already waits when the device is released, and the lock's other
 * in-flight updates (Temporal admits 10 per workflow) stay free for requests joining. More waiting
 * inside, in longer updates, made the fence's query of the lock stall in a burst (BENCHMARKS.md).
 */
const FRONT = 2;
/** Longest a waiting update stays open (then it is sent again), and how often the rest look at the line. */
const WAIT_IN_LOCK_MS = 5_000;
const LOOK_EVERY_MS = 250;
const HEARTBEAT_EVERY_MS = 2000;

const unreachable = (message: string) =>
  ApplicationFailure.create({ type: DeviceFailure.Unreachable, message, nonRetryable: true });

/** The lock's recorded settings, or undefined for a lock that never kept them; not found → not served. */
async function recordedSettings(client: Client, deviceId: string): Promise<DeviceSettings | undefined> {
  try {
    const described = await client.workflow.getHandle(deviceLockWorkflowId(deviceId)).describe();
    return (await described.memo)?.[DEVICE_SETTINGS_MEMO] as DeviceSettings | undefined;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw unreachable(
      `device "${deviceId}" is not served: no lock workflow ${deviceLockWorkflowId(deviceId)} (has its device worker ever started?)`,
    );
  }
}

/** Waits `ms`, or less if `signal` aborts; leaves no listener behind either way. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Settles like `call`, or rejects as soon as `signal` aborts. A worker's client (a NativeConnection
 * in SDK 1.24) ignores abort signals, so a cancelled wait must stop listening rather than the call.
 */
function unlessAborted<T>(signal: AbortSignal, call: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  call.catch(() => undefined); // abandoned on abort: its later failure is nobody's
  return Promise.race([call, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** How long a read of a lock's state serves every request of this worker waiting for that device. */
const VIEW_SHARED_MS = 200;

export function createDeviceLockActivities(): DeviceLockActivities {
  /**
   * One query per device and worker per VIEW_SHARED_MS, whatever the number of requests waiting:
   * the lock's worker also answers the fence check of every action, which must not queue behind them.
   */
  const views = new Map<string, { at: number; view: Promise<DeviceLockView | undefined> }>();
  const viewOf = (client: Client, deviceId: string): Promise<DeviceLockView | undefined> => {
    const known = views.get(deviceId);
    if (known && Date.now() - known.at < VIEW_SHARED_MS) return known.view;
    const view = client.workflow
      .getHandle(deviceLockWorkflowId(deviceId))
      .query(deviceLockStateQuery)
      .catch(() => undefined);
    views.set(deviceId, { at: Date.now(), view });
    return view;
  };
  return {
    async acquireDevice(input: AcquireDeviceInput): Promise<Grant> {
      const ctx = Context.current();
      const client = ctx.client;
      const cancelled = ctx.cancellationSignal;
      const { deviceId, requestId } = input;
      const request = { requestId, workflowId: input.workflowId, stepPath: input.stepPath, leaseMs: input.leaseMs };
      const lock = client.workflow.getHandle(deviceLockWorkflowId(deviceId));
      let progress: AcquireWaitProgress = { deviceId, position: 0, waiting: 0 };
      /** The request's place as the lock shows it now; a lock that does not answer (worker restarting) leaves it as it was. */
      const look = async (): Promise<AcquireWaitProgress> => {
        const view = await viewOf(client, deviceId);
        if (view) {
          progress = {
            deviceId,
            position: view.waiting.findIndex((w) => w.requestId === requestId) + 1,
            waiting: view.waiting.length,
          };
        }
        return progress;
      };
      ctx.heartbeat(progress);
      const beating = setInterval(() => void look().then((p) => ctx.heartbeat(p)), HEARTBEAT_EVERY_MS);
      let calls = 0;
      const updateId = () => `${requestId}.${ctx.info.attempt}.${++calls}`;
      const withdraw = (refuseLater: boolean) =>
        lock.signal(deviceLockWithdrawSignal, { requestId, refuseLater }).catch(() => undefined);
      try {
        const settings = await recordedSettings(client, deviceId);
        const pickupMs = settings?.pickupTimeoutMs ?? DEFAULT_LOCK_PICKUP_MS;
        // Join the line, starting the lock if it is not running; nothing taking it in time means nothing serves the device.
        const joinBy = Date.now() + pickupMs;
        let reply: AcquireReply;
        try {
          reply = await unlessAborted(
            cancelled,
            client.connection.withDeadline(joinBy, () =>
              client.workflow.executeUpdateWithStart(deviceAcquireUpdate, {
                args: [request],
                updateId: updateId(),
                startWorkflowOperation: new WithStartWorkflowOperation(DEVICE_LOCK_WORKFLOW, {
                  workflowId: deviceLockWorkflowId(deviceId),
                  taskQueue: deviceTaskQueue(deviceId),
                  args: [{ deviceId, settings } satisfies DeviceLockStart],
                  workflowIdConflictPolicy: 'USE_EXISTING',
                  staticSummary: `Device lock of ${deviceId}`,
                }),
              }),
            ),
          );
        } catch (err) {
          if (cancelled.aborted || Date.now() < joinBy) throw err;
          await withdraw(true);
          throw unreachable(
            `no worker of device "${deviceId}" took the request within ${pickupMs} ms (is the worker for ${deviceTaskQueue(deviceId)} running?)`,
          );
        }
        for (;;) {
          if ('grant' in reply) return reply.grant;
          if ('gone' in reply) {
            throw ApplicationFailure.create({
              type: DeviceFailure.RequestWithdrawn,
              message: `request ${requestId} for device "${deviceId}" is no longer in line (withdrawn, or its hold ended)`,
              nonRetryable: true,
            });
          }
          progress = { deviceId, position: reply.position, waiting: reply.waiting };
          if (reply.position > FRONT) {
            await pause(LOOK_EVERY_MS, cancelled);
            if (cancelled.aborted) throw cancelled.reason;
            const now = await look();
            // 0: no longer in line (granted, most likely): the update below says which.
            if (now.position > FRONT) {
              reply = { position: now.position, waiting: now.waiting };
              continue;
            }
          }
          reply = await unlessAborted(
            cancelled,
            lock.executeUpdate(deviceAcquireUpdate, {
              args: [{ ...request, waitMs: WAIT_IN_LOCK_MS }],
              updateId: updateId(),
            }),
          );
        }
      } catch (err) {
        if (!cancelled.aborted) throw err;
        // Leaves the line, or hands back a grant that came as the wait was cancelled.
        await withdraw(false);
        throw cancelled.reason;
      } finally {
        clearInterval(beating);
      }
    },
  };
}
