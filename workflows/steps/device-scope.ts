/**
 * What a step sees of the run's device holds, passed explicitly through its StepContext: the
 * run's way to ask for a device, and the session (if any) whose holds its steps share.
 */
import type { ActionOutcome, DeviceSettings } from '../contracts/device';

/** A device granted to this run by the device's lock. */
export interface DeviceHold {
  readonly deviceId: string;
  readonly requestId: string;
  readonly token: number;
  readonly settings: DeviceSettings;
  /** Hands the device back; `outcome` records how the hold's action ended (one signal does both). */
  release(outcome?: ActionOutcome): Promise<void>;
}

export interface HoldOptions {
  leaseMs?: number;
  /** Renew the lease between actions (a session); a lone action's lease is kept by the device worker while it runs. */
  keepAlive?: boolean;
}

/** The run's side of the device locks: one request, one activity waiting in line, one hold. */
export interface DeviceRequests {
  hold(deviceId: string, stepPath: string, options?: HoldOptions): Promise<DeviceHold>;
}

/** The devices a device_session took at its start, shared by every step nested in it. */
export interface DeviceSessionScope {
  /** The session's step path. */
  readonly path: string;
  /** The session's own device: the default `device` of its steps. */
  readonly primary: string;
  covers(deviceId: string): boolean;
  /** The hold of `deviceId`, taken again (in the canonical order) if the session had let go of it. */
  holdOf(deviceId: string): Promise<DeviceHold>;
  /** Lets go of every device while `fn` runs (a human deciding); steps after it take them again. */
  releaseWhile<T>(fn: () => Promise<T>): Promise<T>;
}

export interface DeviceContext {
  readonly requests: DeviceRequests;
  readonly session?: DeviceSessionScope;
}
