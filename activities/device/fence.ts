/**
 * The device worker's check on every action, against the device's lock. An action of a hold
 * (a session) must carry the token the lock currently grants, with its lease not run out;
 * tokens seen here only grow, so an older hold is refused even on a stale answer. A lone
 * action (no token) may run only while no session holds the device.
 */
import type { DeviceLockView } from '../../workflows/contracts/device';
import { fencingRejected, heldBySession, lockUnavailable } from './errors';

export type LockReader = () => Promise<DeviceLockView>;

export class Fence {
  private highest = 0;

  constructor(
    private readonly readLock: LockReader,
    private readonly now: () => number = Date.now,
  ) {}

  async check(token: number | undefined): Promise<void> {
    if (token !== undefined && token < this.highest) {
      throw fencingRejected(`fencing token ${token} is older than token ${this.highest}, already used on this device`);
    }
    let view: DeviceLockView;
    try {
      view = await this.readLock();
    } catch (err) {
      throw lockUnavailable(`cannot ask the device lock who holds the device: ${(err as Error).message}`);
    }
    const holder = view.holder;
    if (token === undefined) {
      if (holder && holder.leaseExpiresAt > this.now()) {
        throw heldBySession(
          `device "${view.deviceId}" is held by ${holder.workflowId} (${holder.stepPath}) until its session ends`,
        );
      }
      return;
    }
    if (!holder || holder.token !== token) {
      const current = holder ? `token ${holder.token}, held by ${holder.workflowId} (${holder.stepPath})` : 'nobody';
      throw fencingRejected(
        `fencing token ${token} does not hold device "${view.deviceId}" (current holder: ${current}); its lease may have expired`,
      );
    }
    if (holder.leaseExpiresAt <= this.now()) {
      throw fencingRejected(
        `the lease of fencing token ${token} on device "${view.deviceId}" expired at ${new Date(holder.leaseExpiresAt).toISOString()}`,
      );
    }
    this.highest = token;
  }
}
