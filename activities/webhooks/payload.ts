/**
 * The body a delivery POSTs, as the Standard Webhooks specification shapes it:
 * `{ type, timestamp, data }`, where data is the run event. Approval events for a subscription
 * with `linksFor` also carry signed approve and reject links, so a chat or email bot can offer
 * buttons. The body is the same on every attempt of a delivery (links included: their nonce comes
 * from the delivery id, their expiry from the event), so a retry sends the same message.
 */
import { createHash } from 'node:crypto';
import { approvalLinkUrl, mintApprovalLink, type ApprovalLinkClaims } from '../identity/approval-links';
import type { DeliverWebhookRequest } from '../../workflows/contracts/webhooks';

/** A link's life when the approval has no timeout. */
export const DEFAULT_LINK_TTL_MS = 24 * 60 * 60_000;

const LINK_EVENTS = new Set(['approval.requested', 'approval.escalated']);

export interface ApprovalLinks {
  approve: string;
  reject: string;
  /** ISO time both links stop working. */
  expiresAt: string;
}

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: DeliverWebhookRequest['event'] & { links?: ApprovalLinks };
}

export interface LinkSigning {
  signingSecret: string;
  publicUrl: string;
}

/** The approval's own deadline when it has one (the event's `timeoutAt`), else 24 h after the event. */
function linkExpiry(event: DeliverWebhookRequest['event']): number {
  const timeoutAt = typeof event.data.timeoutAt === 'string' ? Date.parse(event.data.timeoutAt) : NaN;
  return Number.isFinite(timeoutAt) ? timeoutAt : Date.parse(event.at) + DEFAULT_LINK_TTL_MS;
}

/**
 * The links a delivery carries. They decide as `linksFor` with no groups: a link says nothing
 * about group membership, so the run's approver check passes only when `linksFor` is named in
 * the step's approvers (as `user:<name>` or a bare name), and refuses the link otherwise.
 */
export function approvalLinks(req: DeliverWebhookRequest, signing: LinkSigning): ApprovalLinks | undefined {
  const { event, target } = req;
  const stepId = typeof event.data.stepId === 'string' ? event.data.stepId : event.step;
  if (!target.linksFor || !LINK_EVENTS.has(event.type) || !stepId) return undefined;
  const exp = linkExpiry(event);
  const link = (decision: ApprovalLinkClaims['decision']) => {
    const nonce = createHash('sha256').update(`${req.deliveryId}\n${decision}`).digest('base64url').slice(0, 16);
    const claims: ApprovalLinkClaims = {
      workflowId: event.workflowId,
      stepId,
      decision,
      user: target.linksFor as string,
      groups: [],
      exp,
      nonce,
    };
    return approvalLinkUrl(signing.publicUrl, mintApprovalLink(claims, signing.signingSecret));
  };
  return { approve: link('approve'), reject: link('reject'), expiresAt: new Date(exp).toISOString() };
}

export function webhookPayload(req: DeliverWebhookRequest, signing: LinkSigning): WebhookPayload {
  const links = approvalLinks(req, signing);
  return { type: req.event.type, timestamp: req.event.at, data: { ...req.event, ...(links && { links }) } };
}
