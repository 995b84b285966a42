/**
 * A session's lease kept alive in a child workflow of its own, so the renewals never grow the
 * run's history: it renews every third of the lease and continues as new after a few renewals.
 * It ends with the hold (cancelled at release) or with the run (parent close policy), and renews
 * only while workers run it: a run whose workers are gone still loses the board when its lease
 * runs out, and the fencing token stops it acting afterwards.
 */
import { continueAsNew, getExternalWorkflowHandle, sleep, workflowInfo } from '@temporalio/workflow';
import { deviceLockRenewSignal, deviceLockWorkflowId } from '../contracts/device';

export const DEVICE_LEASE_KEEPER_WORKFLOW = 'deviceLeaseKeeper';
/** Runs before it renewed a session's lease in the run's own history, a timer and a signal each time. */
export const LEASE_KEEPER_PATCH = 'device-lease-keeper-child';
/** Renewals one execution of a keeper sends before it continues as new (about 10 events each). */
export const LEASE_RENEWALS_PER_RUN = 10;

export interface LeaseKeeperInput {
  deviceId: string;
  requestId: string;
  token: number;
  leaseMs: number;
}

export const renewEveryMs = (leaseMs: number) => Math.max(1, Math.floor(leaseMs / 3));

/**
 * Renews one hold's lease (every third of it) until cancelled. The lock ignores a renewal whose
 * token is not its holder's, so a keeper that outlives its hold changes nothing.
 */
export async function deviceLeaseKeeper(input: LeaseKeeperInput): Promise<void> {
  const lock = getExternalWorkflowHandle(deviceLockWorkflowId(input.deviceId));
  for (let renewed = 0; ; renewed++) {
    if (renewed >= LEASE_RENEWALS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof deviceLeaseKeeper>(input);
    }
    await sleep(renewEveryMs(input.leaseMs));
    await lock.signal(deviceLockRenewSignal, { requestId: input.requestId, token: input.token });
  }
}
