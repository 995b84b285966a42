import type { ActionOutcome, UploaderType, UploadProgress, WaiterView } from '../../workflows/contracts/device';

export interface DeviceMetricsView {
  uploads: number;
  succeeded: number;
  failed: number;
  /** Offline after the retries (the step ended SKIPPED). */
  skipped: number;
  /** succeeded / uploads; null before the first upload. */
  successRate: number | null;
  /** Mean duration of successful uploads (activity start to verified boot); null before the first. */
  meanTimeToUploadMs: number | null;
  leasesExpired: number;
}

export interface DeviceQueueView {
  /** Actions waiting for the device: the task queue's backlog plus runs queued for a session. */
  length: number;
  /**
   * From DescribeTaskQueue on `device-upload.<id>`: lone actions scheduled, not yet picked up. An
   * approximate statistic the server refreshes every few seconds, so it lags the real queue.
   */
  taskQueueBacklog: number | null;
  /** Runs waiting to hold the device (sessions, or actions that met a session), first come first served. */
  waiting: WaiterView[];
  /** Device workers polling the task queue now: 0 means the device is not served. */
  pollers: number;
}

export interface CurrentActionView {
  workflowId: string;
  stepPath: string;
  activity: string;
  attempt: number;
  /** Upload progress from the activity's last heartbeat. */
  progress?: UploadProgress & { percent: number };
}

export interface DeviceStatusView {
  id: string;
  description?: string;
  uploader: UploaderType;
  serialPath?: string;
  otaUrl?: string;
  taskQueue: string;
  queue: DeviceQueueView;
  holder?: { workflowId: string; stepPath: string; token: number; grantedAt: string; leaseExpiresAt: string };
  current?: CurrentActionView;
  lastResult?: ActionOutcome;
  metrics: DeviceMetricsView;
  /** Set when the device's lock could not be asked (its worker never started, or Temporal is down). */
  lockError?: string;
}

export interface DevicesResponse {
  devices: DeviceStatusView[];
}
