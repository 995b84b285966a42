import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDeviceActivities } from '../activities/device/activities';
import { deviceSettings, type DeviceConfig } from '../activities/device/config';
import { Fence } from '../activities/device/fence';
import type { TemporalConfig } from '../temporal/config';
import type { deviceLock } from '../workflows/device-lock';
import {
  DEVICE_LOCK_WORKFLOW,
  deviceLockActionStartedSignal,
  deviceLockConfigureSignal,
  deviceLockStateQuery,
  deviceLockWorkflowId,
  deviceTaskQueue,
  type CurrentAction,
} from '../workflows/contracts/device';

export interface DeviceWorkerOptions {
  connection: NativeConnection;
  /** The lock workflow runs on `temporal.taskQueue`, the orchestrator's queue. */
  temporal: TemporalConfig;
  device: DeviceConfig;
  artifactRoots: readonly string[];
  shutdownGraceTimeMs?: number;
}

/** Starts the device's lock workflow if it is not running, and (re)tells it the device's settings. */
export async function ensureDeviceLock(client: Client, temporal: TemporalConfig, device: DeviceConfig): Promise<void> {
  await client.workflow.signalWithStart<typeof deviceLock, [ReturnType<typeof deviceSettings>]>(DEVICE_LOCK_WORKFLOW, {
    workflowId: deviceLockWorkflowId(device.id),
    taskQueue: temporal.taskQueue,
    args: [{ deviceId: device.id }],
    signal: deviceLockConfigureSignal,
    signalArgs: [deviceSettings(device)],
    staticSummary: `Device lock of ${device.id}`,
  });
}

/**
 * The worker of one device: task queue `device-upload.<id>` with exactly one activity slot, so
 * the board never sees two actions at once; no workflows. Actions are fenced by the lock.
 */
export async function createDeviceWorker(o: DeviceWorkerOptions): Promise<Worker> {
  const client = new Client({ connection: o.connection, namespace: o.temporal.namespace });
  await ensureDeviceLock(client, o.temporal, o.device);
  const lock = client.workflow.getHandle(deviceLockWorkflowId(o.device.id));
  const fence = new Fence(() => lock.query(deviceLockStateQuery));
  const announce = (action: CurrentAction) =>
    void lock.signal(deviceLockActionStartedSignal, action).catch(() => undefined);
  return Worker.create({
    connection: o.connection,
    namespace: o.temporal.namespace,
    taskQueue: deviceTaskQueue(o.device.id),
    activities: { ...createDeviceActivities({ device: o.device, artifactRoots: o.artifactRoots, fence, announce }) },
    maxConcurrentActivityTaskExecutions: 1,
    shutdownGraceTime: o.shutdownGraceTimeMs ?? 10_000,
  });
}
