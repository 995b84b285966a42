import { ApplicationFailure } from '@temporalio/common';
import { DeviceFailure } from '../../workflows/contracts/device';

export const offline = (message: string, details?: unknown) =>
  ApplicationFailure.create({
    type: DeviceFailure.Unreachable,
    message,
    details: details === undefined ? [] : [details],
  });
export const portBusy = (message: string) => ApplicationFailure.create({ type: DeviceFailure.PortBusy, message });
export const uploadFailed = (message: string, details?: unknown) =>
  ApplicationFailure.create({
    type: DeviceFailure.UploadFailed,
    message,
    details: details === undefined ? [] : [details],
  });
export const verifyFailed = (message: string, details?: unknown) =>
  ApplicationFailure.create({
    type: DeviceFailure.VerifyFailed,
    message,
    details: details === undefined ? [] : [details],
  });
export const artifactInvalid = (message: string) =>
  ApplicationFailure.create({ type: DeviceFailure.ArtifactInvalid, message, nonRetryable: true });
export const fencingRejected = (message: string) =>
  ApplicationFailure.create({ type: DeviceFailure.FencingTokenRejected, message, nonRetryable: true });
export const heldBySession = (message: string) =>
  ApplicationFailure.create({ type: DeviceFailure.HeldBySession, message, nonRetryable: true });
export const lockUnavailable = (message: string) =>
  ApplicationFailure.create({ type: DeviceFailure.LockUnavailable, message });

/** A wait on the board that ran out of time; callers turn it into the failure that fits. */
export class LinkTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`no ${what} from the board within ${ms} ms`);
    this.name = 'LinkTimeout';
  }
}
