import { codecsOf, decryptPayloadsInPlace } from '../../temporal/codec/data-converter';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { DeviceConfig } from '../../activities/device/config';
import type { TemporalConfig } from '../../temporal/config';
import {
  deviceLockStateQuery,
  deviceLockWorkflowId,
  deviceTaskQueue,
  type DeviceLockView,
  type CurrentAction,
  type UploadProgress,
} from '../../workflows/contracts/device';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { DEVICES } from './device-tokens';
import type { CurrentActionView, DeviceMetricsView, DeviceStatusView } from './device-views';

const DEVICE_ACTIVITIES = new Set(['deviceUpload', 'deviceCommand']);

/** Each device's state, read from Temporal: its lock workflow, its task queue, its holder's pending activity. */
@Injectable()
export class DeviceStatusService {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
    @Inject(DEVICES) private readonly devices: DeviceConfig[],
  ) {}

  list(): Promise<DeviceStatusView[]> {
    return Promise.all(this.devices.map((d) => this.status(d)));
  }

  one(id: string): Promise<DeviceStatusView> {
    const device = this.devices.find((d) => d.id === id);
    if (!device)
      throw new NotFoundException(
        `no device "${id}" (configured: ${this.devices.map((d) => d.id).join(', ') || 'none'})`,
      );
    return this.status(device);
  }

  private async status(device: DeviceConfig): Promise<DeviceStatusView> {
    const [lock, taskQueue] = await Promise.all([this.lockState(device.id), this.taskQueueStats(device.id)]);
    const view = 'error' in lock ? undefined : lock.view;
    const holder = view?.holder;
    return {
      id: device.id,
      description: device.description,
      uploader: device.uploader.type,
      serialPath: device.serialPath,
      otaUrl: device.otaUrl,
      taskQueue: deviceTaskQueue(device.id),
      queue: {
        length: (view?.waiting.length ?? 0) + (taskQueue.taskQueueBacklog ?? 0),
        taskQueueBacklog: taskQueue.taskQueueBacklog,
        waiting: view?.waiting ?? [],
        pollers: taskQueue.pollers,
      },
      holder: holder && {
        workflowId: holder.workflowId,
        stepPath: holder.stepPath,
        token: holder.token,
        grantedAt: holder.grantedAt,
        leaseExpiresAt: new Date(holder.leaseExpiresAt).toISOString(),
      },
      current: view?.current ? await this.currentAction(view.current) : undefined,
      lastResult: view?.lastResult,
      metrics: metricsOf(view),
      ...('error' in lock ? { lockError: lock.error } : {}),
    };
  }

  private async lockState(id: string): Promise<{ view: DeviceLockView } | { error: string }> {
    try {
      return { view: await this.client.workflow.getHandle(deviceLockWorkflowId(id)).query(deviceLockStateQuery) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  private async taskQueueStats(id: string): Promise<{ taskQueueBacklog: number | null; pollers: number }> {
    try {
      const res = await this.client.workflowService.describeTaskQueue({
        namespace: this.config.namespace,
        taskQueue: { name: deviceTaskQueue(id), kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        reportStats: true,
      });
      const backlog = res.stats?.approximateBacklogCount;
      return {
        taskQueueBacklog: backlog === undefined || backlog === null ? null : Number(backlog),
        pollers: res.pollers?.length ?? 0,
      };
    } catch {
      return { taskQueueBacklog: null, pollers: 0 };
    }
  }

  /** The action the device worker announced, if still pending, with the progress its last heartbeat carried. */
  private async currentAction(current: CurrentAction): Promise<CurrentActionView | undefined> {
    try {
      const described = await this.client.workflow.getHandle(current.workflowId).describe();
      const pending = decryptPayloadsInPlace(described.raw.pendingActivities, codecsOf(this.client))?.find((a) =>
        DEVICE_ACTIVITIES.has(a.activityType?.name ?? ''),
      );
      if (!pending) return undefined;
      const payload = pending.heartbeatDetails?.payloads?.[0];
      const p = payload ? defaultPayloadConverter.fromPayload<UploadProgress>(payload) : undefined;
      return {
        workflowId: current.workflowId,
        stepPath: current.stepPath,
        activity: pending.activityType?.name ?? '',
        attempt: pending.attempt ?? 1,
        ...(p && typeof p.totalBytes === 'number'
          ? { progress: { ...p, percent: p.totalBytes ? Math.round((1000 * p.bytesWritten) / p.totalBytes) / 10 : 0 } }
          : {}),
      };
    } catch {
      return undefined;
    }
  }
}

export function metricsOf(view: DeviceLockView | undefined): DeviceMetricsView {
  const s = view?.stats;
  if (!s)
    return {
      uploads: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      successRate: null,
      meanTimeToUploadMs: null,
      leasesExpired: 0,
    };
  return {
    uploads: s.uploads,
    succeeded: s.succeeded,
    failed: s.failed,
    skipped: s.skipped,
    successRate: s.uploads ? s.succeeded / s.uploads : null,
    meanTimeToUploadMs: s.succeeded ? Math.round(s.uploadMsTotal / s.succeeded) : null,
    leasesExpired: s.leasesExpired,
  };
}
