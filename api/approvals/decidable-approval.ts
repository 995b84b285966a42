import { ForbiddenException } from '@nestjs/common';
import { mayDecide, type Identity } from '../../workflows/contracts/identity';
import type { InboxService, WaitingApproval } from './inbox.service';

/**
 * The approval `stepId` of `workflowId` as the run's memo has it, when `who` may decide it now:
 * what links and signal tokens are minted for. 409 when it is not waiting; 403 when its approvers
 * do not name `who` (`consequence` says what is then not minted).
 */
export async function decidableApproval(
  inbox: InboxService,
  workflowId: string,
  stepId: string,
  who: Pick<Identity, 'user' | 'groups'>,
  consequence: string,
): Promise<WaitingApproval> {
  const waiting = await inbox.waiting(workflowId, stepId);
  if (!mayDecide(waiting.approval.approvers, who)) {
    const named = waiting.approval.approvers?.join(', ') ?? '';
    throw new ForbiddenException(`${who.user} may not decide step "${stepId}" (approvers: ${named}): ${consequence}`);
  }
  return waiting;
}
