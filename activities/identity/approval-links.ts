/**
 * Signed approval links for chat and email buttons. A link names the run, the step and the
 * decision, the identity it decides as, when it expires and a nonce; it is HMAC-SHA256-signed
 * with the server's approval-link key. The run records each nonce it accepts, so a link works
 * once; expiry is checked by the API and again by the run.
 */
import { randomBytes, timingSafeEqual, createHmac } from 'node:crypto';
import { deriveKey, type SigningPurpose } from './signing';

export interface ApprovalLinkClaims {
  workflowId: string;
  stepId: string;
  decision: 'approve' | 'reject';
  /** The identity the decision is made as (the link's recipient). */
  user: string;
  groups: string[];
  /** Expiry, ms since the epoch. */
  exp: number;
  nonce: string;
}

export class ApprovalLinkError extends Error {
  constructor(
    readonly reason: 'malformed' | 'bad-signature' | 'expired',
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalLinkError';
  }
}

/** A fresh nonce for a link. */
export function newLinkNonce(): string {
  return randomBytes(12).toString('base64url');
}

/** `purpose`: links use their own key; signal tokens (decision-token.ts) sign the same claims with theirs. */
function sign(body: string, secret: string, purpose: SigningPurpose): string {
  return createHmac('sha256', deriveKey(secret, purpose)).update(body).digest('base64url');
}

/** `<base64url(JSON claims)>.<base64url(HMAC)>`: URL-safe, no padding. */
export function mintApprovalLink(
  claims: ApprovalLinkClaims,
  secret: string,
  purpose: SigningPurpose = 'approval-link',
): string {
  const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${body}.${sign(body, secret, purpose)}`;
}

/** The claims of a link this server signed and that has not expired; ApprovalLinkError otherwise. */
export function verifyApprovalLink(
  token: string,
  secret: string,
  nowMs: number,
  purpose: SigningPurpose = 'approval-link',
): ApprovalLinkClaims {
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) throw new ApprovalLinkError('malformed', 'not an approval link');
  const expected = Buffer.from(sign(body, secret, purpose));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ApprovalLinkError('bad-signature', 'the link is not signed by this server');
  }
  let claims: ApprovalLinkClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as ApprovalLinkClaims;
  } catch {
    throw new ApprovalLinkError('malformed', 'not an approval link');
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowMs) {
    throw new ApprovalLinkError('expired', `the link expired at ${new Date(claims.exp).toISOString()}`);
  }
  return claims;
}

/** Where a link is opened: GET shows a confirmation page, POST applies the decision. */
export function approvalLinkUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/approvals/links/${token}`;
}
