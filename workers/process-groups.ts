import { recordProcessGroupsIn } from '../activities/build/process-group';
import { ProcessGroupLedger } from '../activities/build/process-ledger';

/**
 * Start-up of a worker that runs commands in process groups (build, device): ends the groups a
 * dead predecessor of the same queue left running, then records this worker's own.
 */
export async function claimProcessGroups(worker: string, runDir: string, queue: string): Promise<void> {
  const { ledger, reaped } = await ProcessGroupLedger.claim(runDir, queue);
  for (const g of reaped) {
    console.log(`${worker}: killed process group ${g.pgid} (${g.command}) left running by worker ${g.worker}`);
  }
  recordProcessGroupsIn(ledger);
}
