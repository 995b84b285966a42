/**
 * The contract between device step kinds, the per-device lock workflow and the device worker:
 * names, signal/query definitions and payload shapes. Workflow-safe (no Node imports), so the
 * activities, the API and the workflows all import it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const DEVICE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const deviceTaskQueue = (deviceId: string): string => `device-upload.${deviceId}`;
export const deviceLockWorkflowId = (deviceId: string): string => `device-lock.${deviceId}`;
export const DEVICE_LOCK_WORKFLOW = 'deviceLock';
/** The lock's memo key holding the settings its device worker last gave (read before asking for the device). */
export const DEVICE_SETTINGS_MEMO = 'deviceSettings';
/** How long a request waits for a lock with no recorded settings to take it, before the device counts as offline. */
export const DEFAULT_LOCK_PICKUP_MS = 60_000;

/** ApplicationFailure types the device worker raises; the step kinds branch on them. */
export const DeviceFailure = {
  /** Port missing, no answer to SYNC, connection refused: the board is offline. */
  Unreachable: 'DeviceUnreachable',
  /** Another process holds the serial port's OS lock. */
  PortBusy: 'DevicePortBusy',
  /** The action's fencing token is not the device's current, unexpired holder. */
  FencingTokenRejected: 'FencingTokenRejected',
  /** An action without a token arrived while a session holds the device: queue for the lock instead. */
  HeldBySession: 'DeviceHeldBySession',
  /** The lock workflow could not be asked: try again. */
  LockUnavailable: 'DeviceLockUnavailable',
  /** The request left the line (its step was cancelled, or it gave up before the lock took it). */
  RequestWithdrawn: 'DeviceRequestWithdrawn',
  /** A session needs a device it cannot take in the canonical order. */
  OutOfOrder: 'DeviceOutOfOrder',
  ArtifactInvalid: 'ArtifactInvalid',
  /** The board answered but the upload failed (protocol error, MD5 mismatch, command failed). */
  UploadFailed: 'DeviceUploadFailed',
  /** The board did not print its boot line (or a command's expected reply) in time. */
  VerifyFailed: 'DeviceVerifyFailed',
} as const;

export type UploaderType = 'esp-serial' | 'command' | 'http-ota';

/** Retry policy in plain milliseconds, as the worker's config resolved it. */
export interface DeviceRetry {
  maximumAttempts: number;
  initialInterval: number;
  backoffCoefficient: number;
  maximumInterval: number;
}

/** What a device's worker tells its lock at start-up; granted holders receive it. */
export interface DeviceSettings {
  deviceId: string;
  taskQueue: string;
  uploader: UploaderType;
  uploadTimeoutMs: number;
  heartbeatTimeoutMs: number;
  /** How long an action may wait for the device worker to pick it up before the device counts as offline. */
  pickupTimeoutMs: number;
  commandTimeoutMs: number;
  retry: DeviceRetry;
  /** Default lease of a hold; a holder that stops renewing loses the device after this. */
  leaseMs: number;
}

// ---- Activities on the device task queue. ----

export interface ActionOrigin {
  workflowId: string;
  stepPath: string;
}

export interface DeviceUploadInput {
  deviceId: string;
  /** The hold's fencing token; absent for a lone action, which may run only while no session holds the device. */
  token?: number;
  artifact: string;
  origin: ActionOrigin;
}

/** Heartbeat details of an upload: progress, and where a retry may resume. */
export interface UploadProgress {
  phase: 'connect' | 'upload' | 'verify';
  md5: string;
  bytesWritten: number;
  totalBytes: number;
  /** esp-serial: blocks the board acknowledged, counted from the image start. */
  ackedBlocks?: number;
  totalBlocks?: number;
  blockSize?: number;
  offset?: number;
  /** Last lines of an uploader command's output. */
  log?: string[];
}

export interface DeviceUploadResult {
  deviceId: string;
  artifact: string;
  uploader: UploaderType;
  bytes: number;
  md5: string;
  attempt: number;
  /** Time this attempt waited in the device's task queue before the worker took it. */
  queuedMs: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Block the attempt resumed from (esp-serial after a lost worker), if not 0. */
  resumedFromBlock?: number;
  /** The boot line that proved the new firmware runs, when verification is configured. */
  bootLine?: string;
}

export interface DeviceCommandInput {
  deviceId: string;
  token?: number;
  /** One line written to the serial console. */
  send: string;
  /** Regular expression a console line must match. */
  expect: string;
  timeoutMs?: number;
  origin: ActionOrigin;
}

export interface DeviceCommandResult {
  deviceId: string;
  sent: string;
  line: string;
  groups: Record<string, string>;
  /** Every line read until the match. */
  lines: string[];
  durationMs: number;
}

export interface DeviceActivities {
  deviceUpload(input: DeviceUploadInput): Promise<DeviceUploadResult>;
  deviceCommand(input: DeviceCommandInput): Promise<DeviceCommandResult>;
}

/** What starts a device's lock: its device, and the settings last known (a request may start it before its worker does). */
export interface DeviceLockStart {
  deviceId: string;
  settings?: DeviceSettings;
}

// ---- The orchestrator worker's activity that asks a device's lock for the device. ----

export interface AcquireDeviceInput extends AcquireRequest {
  deviceId: string;
}

/** Heartbeat details of a waiting request: where it stands in the device's line. */
export interface AcquireWaitProgress {
  deviceId: string;
  /** 1 = next in line; 0 = not in line yet (the lock has not taken the request). */
  position: number;
  waiting: number;
}

export interface DeviceLockActivities {
  /**
   * Joins the device's line (Update-with-Start on its lock) and returns the grant once it is this
   * request's turn; heartbeats the position meanwhile. DeviceUnreachable when nothing serves the device.
   */
  acquireDevice(input: AcquireDeviceInput): Promise<Grant>;
}

// ---- The lock workflow's signals and query. ----

export interface AcquireRequest {
  requestId: string;
  workflowId: string;
  stepPath: string;
  leaseMs?: number;
}

export interface ActionOutcome {
  kind: 'upload' | 'command';
  status: 'completed' | 'failed' | 'skipped';
  durationMs: number;
  workflowId: string;
  stepPath: string;
  at: string;
  error?: string;
}

export interface ReleaseRequest {
  requestId: string;
  token: number;
  /** How the holder's action ended: one signal both frees the device and feeds its metrics. */
  outcome?: ActionOutcome;
}

export interface Grant {
  requestId: string;
  token: number;
  leaseMs: number;
  settings: DeviceSettings;
}

export interface HolderView {
  requestId: string;
  workflowId: string;
  stepPath: string;
  token: number;
  grantedAt: string;
  /** The hold's lease; the device worker renews it while an action of the hold runs. */
  leaseMs: number;
  /** Epoch ms (workflow clock) after which the hold is void unless renewed. */
  leaseExpiresAt: number;
}

export interface WaiterView {
  requestId: string;
  workflowId: string;
  stepPath: string;
  /** 1 = next in line. */
  position: number;
  enqueuedAt: string;
}

export interface DeviceStats {
  uploads: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Sum of successful uploads' durations (for the mean time to upload). */
  uploadMsTotal: number;
  grants: number;
  leasesExpired: number;
}

/** The action the device worker is running now, as it announced it. */
export interface CurrentAction {
  workflowId: string;
  stepPath: string;
  activity: string;
  attempt: number;
  startedAt: string;
}

export interface DeviceLockView {
  deviceId: string;
  settings?: DeviceSettings;
  holder?: HolderView;
  current?: CurrentAction;
  waiting: WaiterView[];
  lastResult?: ActionOutcome;
  stats: DeviceStats;
  /** The next fencing token; tokens only grow, across continue-as-new too. */
  nextToken: number;
}

export const deviceLockConfigureSignal = defineSignal<[DeviceSettings]>('deviceLockConfigure');
/**
 * A request to the lock: joins the line (once per requestId), then waits up to `waitMs` for its
 * turn. acquireDevice joins with start and waits only near the front of the line, so no lock ever
 * has more than a few updates in flight (Temporal admits 10 per workflow by default).
 */
export interface AcquireCall extends AcquireRequest {
  waitMs?: number;
}

export type AcquireReply =
  | { grant: Grant }
  | { position: number; waiting: number }
  /** Not in line and not holding: withdrawn, or its hold already ended. */
  | { gone: true };

export const deviceAcquireUpdate = defineUpdate<AcquireReply, [AcquireCall]>('deviceAcquire');
/** Runs recorded before deviceAcquireUpdate joined the line by signal and heard back by deviceGrantedSignal. */
export const deviceLockAcquireSignal = defineSignal<[AcquireRequest]>('deviceLockAcquire');
export const deviceLockReleaseSignal = defineSignal<[ReleaseRequest]>('deviceLockRelease');
export const deviceLockRenewSignal = defineSignal<[{ requestId: string; token: number }]>('deviceLockRenew');
/** A run asks for the device's settings (timeouts, retry policy, task queue); answered by deviceSettingsSignal. */
export const deviceLockDescribeSignal = defineSignal<[{ requestId: string; workflowId: string }]>('deviceLockDescribe');
/** Sent by the device worker when an action starts on the board (for GET /devices). */
export const deviceLockActionStartedSignal = defineSignal<[CurrentAction]>('deviceLockActionStarted');
/** How an action on the device ended: feeds the device's last result and its metrics. */
export const deviceLockReportSignal = defineSignal<[ActionOutcome]>('deviceLockReport');
/**
 * A waiter that no longer wants the device (its step was cancelled). `refuseLater`: the request
 * may still arrive (it gave up before the lock took it), so the lock refuses it then.
 */
export const deviceLockWithdrawSignal =
  defineSignal<[{ requestId: string; refuseLater?: boolean }]>('deviceLockWithdraw');
export const deviceLockStateQuery = defineQuery<DeviceLockView>('deviceLockState');

// ---- What the lock told a requesting run recorded before deviceAcquireUpdate. ----

export const deviceGrantedSignal = defineSignal<[Grant]>('deviceGranted');
export const deviceSettingsSignal = defineSignal<[{ requestId: string; settings: DeviceSettings }]>('deviceSettings');
export const deviceQueuePositionSignal =
  defineSignal<[{ requestId: string; position: number; waiting: number }]>('deviceQueuePosition');
export const deviceLeaseRevokedSignal = defineSignal<[{ requestId: string; token: number }]>('deviceLeaseRevoked');

/** One device wait or hold of a run, as its `deviceQueue` query shows it. */
export interface DeviceWaitView {
  requestId: string;
  deviceId: string;
  stepPath: string;
  state: 'waiting' | 'holding' | 'revoked' | 'released';
  /** Runs recorded before deviceAcquireUpdate only (the position is now the lock's, and acquireDevice's heartbeat). */
  position?: number;
  waiting?: number;
  token?: number;
  since: string;
}

export const deviceQueueQuery = defineQuery<DeviceWaitView[]>('deviceQueue');
