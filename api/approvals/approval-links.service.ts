import { ForbiddenException, GoneException, Inject, Injectable } from '@nestjs/common';
import {
  ApprovalLinkError,
  approvalLinkUrl,
  mintApprovalLink,
  newLinkNonce,
  verifyApprovalLink,
  type ApprovalLinkClaims,
} from '../../activities/identity/approval-links';
import { hasRole, mayDecide, type Identity } from '../../workflows/contracts/identity';
import type { ApprovalResponse } from '../workflows/run-views';
import { WorkflowsService } from '../workflows/workflows.service';
import { DEFAULT_LINK_LIFETIME_MS, MAX_LINK_LIFETIME_MS, type MintLinksBody } from './approval-requests';
import type { ApprovalLinkView, ApprovalLinksResponse } from './approval-views';
import { decidableApproval } from './decidable-approval';
import { InboxService } from './inbox.service';
import { RequestValidationError } from '../validation/request-validation.error';

/** Longest claims part a link may have: what GET/POST /approvals/links/:token accept (linkTokenParamSchema). */
const MAX_LINK_CLAIMS_LENGTH = 4096;

/** The groups among `groups` that `approvers` name: all a link needs to carry for the run's check. */
function groupsNamedBy(approvers: readonly string[] | undefined, groups: readonly string[]): string[] {
  if (!approvers?.length) return [];
  return groups.filter((group) => mayDecide(approvers, { user: '', groups: [group] }));
}

/** How long a link lives: as asked, else until the approval times out, else a day; never past 7 days. */
export function linkExpiry(now: number, asked: number | undefined, timeoutAt: string | undefined): number {
  if (asked !== undefined) return now + Math.min(asked, MAX_LINK_LIFETIME_MS);
  const timeout = timeoutAt === undefined ? NaN : Date.parse(timeoutAt);
  if (Number.isFinite(timeout) && timeout > now) return Math.min(timeout, now + MAX_LINK_LIFETIME_MS);
  return now + DEFAULT_LINK_LIFETIME_MS;
}

/** A link that fails verification: 410 when it expired, else 400 naming the token. */
export function linkFailure(err: unknown): Error {
  if (!(err instanceof ApprovalLinkError)) return err as Error;
  if (err.reason === 'expired') return new GoneException(`this approval link has expired (${err.message})`);
  return new RequestValidationError([{ path: 'token', message: `${err.message}; ask for a new link` }]);
}

/**
 * Signed approval links: minted for an identity that may decide the step now, verified on use,
 * then decided through the same update as the API (channel `link`, the link's nonce, which the
 * run records so the link works once).
 */
@Injectable()
export class ApprovalLinksService {
  constructor(
    @Inject(InboxService) private readonly inbox: InboxService,
    @Inject(WorkflowsService) private readonly runs: WorkflowsService,
  ) {}

  async mint(
    workflowId: string,
    stepId: string,
    body: MintLinksBody,
    caller: Identity,
    publicBaseUrl: string,
    secret: string,
    now = Date.now(),
  ): Promise<ApprovalLinksResponse> {
    if (body?.for && !hasRole(caller, 'admin')) {
      throw new ForbiddenException('only an admin may mint links for another user ("for")');
    }
    const who = body?.for ? { user: body.for.user, groups: body.for.groups ?? [] } : caller;
    const { approval } = await decidableApproval(this.inbox, workflowId, stepId, who, 'no link is minted for them');
    const exp = linkExpiry(now, body?.expiresIn, approval.timeoutAt);
    // Only the groups the step's approvers name matter to the run's check: a caller in hundreds
    // of groups still gets a short link.
    const groups = groupsNamedBy(approval.approvers, who.groups);
    const decisions = body?.decision ? [body.decision] : (['approve', 'reject'] as const);
    const links: Partial<Record<'approve' | 'reject', string>> = {};
    for (const decision of decisions) {
      const claims: ApprovalLinkClaims = {
        workflowId,
        stepId,
        decision,
        user: who.user,
        groups,
        exp,
        nonce: newLinkNonce(),
      };
      const token = mintApprovalLink(claims, secret);
      if (token.indexOf('.') > MAX_LINK_CLAIMS_LENGTH) {
        throw new RequestValidationError([
          { path: 'for', message: 'the link would be too long to open: use a shorter user name or fewer groups' },
        ]);
      }
      links[decision] = approvalLinkUrl(publicBaseUrl, token);
    }
    return {
      workflowId,
      stepId,
      ...links,
      user: who.user,
      groups,
      expiresAt: new Date(exp).toISOString(),
    };
  }

  /** The link's claims, or 400/410. */
  verify(token: string, secret: string, now = Date.now()): ApprovalLinkClaims {
    try {
      return verifyApprovalLink(token, secret, now);
    } catch (err) {
      throw linkFailure(err);
    }
  }

  /** What the link would do, for its confirmation page; `waiting` false once the step is not waiting. */
  async view(claims: ApprovalLinkClaims): Promise<ApprovalLinkView> {
    const base = {
      workflowId: claims.workflowId,
      stepId: claims.stepId,
      decision: claims.decision,
      user: claims.user,
      expiresAt: new Date(claims.exp).toISOString(),
    };
    try {
      const { approval } = await this.inbox.waiting(claims.workflowId, claims.stepId);
      return { ...base, prompt: approval.prompt ?? null, waiting: true };
    } catch (err) {
      if ((err as { getStatus?: () => number }).getStatus?.() === 409) return { ...base, prompt: null, waiting: false };
      throw err;
    }
  }

  /** Applies the link's decision as the identity it names; a second use is refused by the run (409). */
  decide(claims: ApprovalLinkClaims, comment: string | undefined): Promise<ApprovalResponse> {
    const identity: Identity = { user: claims.user, groups: [...claims.groups], roles: ['approver'] };
    return this.runs.approve(
      claims.workflowId,
      claims.stepId,
      { decision: claims.decision, ...(comment ? { comment } : {}) },
      undefined,
      { identity, channel: 'link', nonce: claims.nonce },
    );
  }
}
