import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createDeviceActivities } from '../activities/device/activities';
import { deviceSettings, type DeviceConfig } from '../activities/device/config';
import { Fence } from '../activities/device/fence';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import type { deviceLock, DeviceLockInput } from '../workflows/device-lock';
import {
  DEVICE_LOCK_WORKFLOW,
  deviceLockActionStartedSignal,
  deviceLockConfigureSignal,
  deviceLockRenewSignal,
  deviceLockStateQuery,
  deviceLockWorkflowId,
  deviceTaskQueue,
  type CurrentAction,
  type HolderView,
} from '../workflows/contracts/device';

export interface DeviceWorkerOptions {
  connection: NativeConnection;
  /** Namespace and address; the worker serves the device's own task queue, not `temporal.taskQueue`. */
  temporal: TemporalConfig;
  device: DeviceConfig;
  artifactRoots: readonly string[];
  shutdownGraceTimeMs?: number;
  /** The lock workflow prebuilt (tests bundle once); by default it is bundled at start-up. */
  workflowBundle?: WorkflowBundleOption;
  /** OTLP tracing of the lock workflow, the actions and the lock's client calls (temporal/tracing.ts). */
  tracing?: Tracing;
}

/** Starts the device's lock workflow on the device's task queue if it is not running, and (re)tells it the settings. */
export async function ensureDeviceLock(client: Client, device: DeviceConfig): Promise<void> {
  const settings = deviceSettings(device);
  await client.workflow.signalWithStart<typeof deviceLock, [typeof settings]>(DEVICE_LOCK_WORKFLOW, {
    workflowId: deviceLockWorkflowId(device.id),
    taskQueue: deviceTaskQueue(device.id),
    args: [{ deviceId: device.id, settings } satisfies DeviceLockInput],
    signal: deviceLockConfigureSignal,
    signalArgs: [settings],
    staticSummary: `Device lock of ${device.id}`,
  });
}

/**
 * The worker of one device, on task queue `device-upload.<id>`: the device's lock workflow, and
 * the device's actions with exactly one activity slot (a session's parallel steps take turns).
 * The lock orders runs; each action is fenced by the lock's token; the port's OS lock is the last
 * line of defence. With the lock here, a board is flashed even while the orchestrator is down.
 */
export async function createDeviceWorker(o: DeviceWorkerOptions): Promise<Worker> {
  const client = new Client({
    connection: o.connection,
    namespace: o.temporal.namespace,
    dataConverter: o.temporal.dataConverter,
    plugins: o.tracing ? [o.tracing.temporalPlugin] : [],
  });
  await ensureDeviceLock(client, o.device);
  const lock = client.workflow.getHandle(deviceLockWorkflowId(o.device.id));
  const fence = new Fence(() => lock.query(deviceLockStateQuery));
  const announce = (action: CurrentAction) =>
    void lock.signal(deviceLockActionStartedSignal, action).catch(() => undefined);
  const keepLease = (holder: HolderView) => {
    const renew = () =>
      void lock
        .signal(deviceLockRenewSignal, { requestId: holder.requestId, token: holder.token })
        .catch(() => undefined);
    const timer = setInterval(renew, Math.max(250, Math.floor(holder.leaseMs / 3)));
    return () => clearInterval(timer);
  };
  const workflows = o.workflowBundle
    ? { workflowBundle: o.workflowBundle }
    : { workflowsPath: require.resolve('../workflows/device-lock') };
  return Worker.create({
    connection: o.connection,
    namespace: o.temporal.namespace,
    taskQueue: deviceTaskQueue(o.device.id),
    dataConverter: o.temporal.dataConverter,
    ...workflows,
    activities: {
      ...createDeviceActivities({ device: o.device, artifactRoots: o.artifactRoots, fence, announce, keepLease }),
    },
    maxConcurrentActivityTaskExecutions: 1,
    shutdownGraceTime: o.shutdownGraceTimeMs ?? 10_000,
    plugins: o.tracing ? [o.tracing.temporalPlugin] : [],
  });
}
