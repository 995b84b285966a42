/**
 * The device worker's check on every action, against the device's lock. An action of a hold
 * (a session) must carry the token the lock currently grants, with its lease not run out;
 * tokens seen here only grow, so an older hold is refused even on a stale answer. A lone
 * action (no token) may run only while no session holds the device.
 */
import type { DeviceLockView, HolderView } from '../../workflows/contracts/device';
import { fencingRejected, heldBySession, lockUnavailable } from './errors';

export type LockReader = () => Promise<DeviceLockView>;

/** Pauses between tries at reading the lock: a lock whose worker just restarted answers within seconds. */
const READ_RETRY_MS = [250, 1000, 2000];

export class Fence {
  private highest = 0;

  constructor(
    private readonly readLock: LockReader,
    private readonly now: () => number = Date.now,
    private readonly pauses: readonly number[] = READ_RETRY_MS,
  ) {}

  /** The lock runs on this device's worker: right after a restart it answers once Temporal moves its task here. */
  private async readLockPatiently(): Promise<DeviceLockView> {
    for (let i = 0; ; i++) {
      try {
        return await this.readLock();
      } catch (err) {
        const pause = this.pauses[i];
        if (pause === undefined) {
          throw lockUnavailable(`cannot ask the device lock who holds the device: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /** Resolves with the hold the token names (undefined for a lone action of a run recorded before tokens). */
  async check(token: number | undefined): Promise<HolderView | undefined> {
    if (token !== undefined && token < this.highest) {
      throw fencingRejected(`fencing token ${token} is older than token ${this.highest}, already used on this device`);
    }
    const view = await this.readLockPatiently();
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
    return holder;
  }
}
