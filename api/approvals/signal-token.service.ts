import { Inject, Injectable } from '@nestjs/common';
import { mintSignalToken } from '../../activities/identity/signal-token';
import type { TemporalConfig } from '../../temporal/config';
import type { Identity } from '../../workflows/contracts/identity';
import { TEMPORAL_CONFIG } from '../tokens';
import { decidableApproval } from './decidable-approval';
import { InboxService } from './inbox.service';
import { signalCommand } from './signal-command';
import {
  DEFAULT_SIGNAL_TOKEN_LIFETIME_MS,
  type SignalTokenBody,
  type SignalTokenResponse,
} from './signal-token-schemas';

/**
 * Decision tokens for the `approve` signal: minted for a caller whom the waiting step's approvers
 * name (as links are), so the Temporal CLI or Web UI can decide without a bearer token in the
 * run's history. The orchestrator worker verifies them (activities/identity/decision-token.ts).
 */
@Injectable()
export class SignalTokenService {
  constructor(
    @Inject(InboxService) private readonly inbox: InboxService,
    @Inject(TEMPORAL_CONFIG) private readonly temporal: TemporalConfig,
  ) {}

  async mint(
    workflowId: string,
    stepId: string,
    body: SignalTokenBody,
    caller: Identity,
    secret: string,
    now = Date.now(),
  ): Promise<SignalTokenResponse> {
    await decidableApproval(this.inbox, workflowId, stepId, caller, 'no decision token is minted for them');
    const exp = now + (body.expiresIn ?? DEFAULT_SIGNAL_TOKEN_LIFETIME_MS);
    const { decision } = body;
    const token = mintSignalToken(
      { workflowId, stepId, decision, user: caller.user, groups: [...caller.groups], exp },
      secret,
    );
    return {
      workflowId,
      stepId,
      decision,
      user: caller.user,
      token,
      expiresAt: new Date(exp).toISOString(),
      command: signalCommand(this.temporal, workflowId, { stepId, decision, token }),
    };
  }
}
