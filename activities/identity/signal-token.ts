/**
 * Scoped decision tokens for the `approve` signal: `decision.<claims>.<mac>`, the claims and format
 * of signed approval links (approval-links.ts) under a key of their own (purpose
 * `approval-signal`). One token names one run, one step, one decision and the identity it
 * decides as; it expires soon and the run accepts its nonce once. Neither the API's bearer check
 * (not a known token, not a JWT) nor the link pages (another key) accept it, so a copy read from
 * the run's history can do nothing but repeat the decision it was minted for, which the nonce refuses.
 */
import {
  ApprovalLinkError,
  mintApprovalLink,
  newLinkNonce,
  verifyApprovalLink,
  type ApprovalLinkClaims,
} from './approval-links';

/** What a token says; the same claims as a link's. */
export type SignalTokenClaims = ApprovalLinkClaims;

export const SIGNAL_TOKEN_PREFIX = 'decision.';

export class SignalTokenError extends Error {
  constructor(
    readonly reason: ApprovalLinkError['reason'],
    message: string,
  ) {
    super(message);
    this.name = 'SignalTokenError';
  }
}

/** Whether a signal's token is a scoped one (else it is taken as a bearer token). */
export function isSignalToken(token: string): boolean {
  return token.startsWith(SIGNAL_TOKEN_PREFIX);
}

export function mintSignalToken(claims: Omit<SignalTokenClaims, 'nonce'>, secret: string): string {
  return SIGNAL_TOKEN_PREFIX + mintApprovalLink({ ...claims, nonce: newLinkNonce() }, secret, 'approval-signal');
}

/** The claims of an unexpired token this server signed; SignalTokenError (never the token) otherwise. */
export function verifySignalToken(token: string, secret: string, nowMs: number): SignalTokenClaims {
  if (!isSignalToken(token)) throw new SignalTokenError('malformed', 'not a decision token');
  let claims: SignalTokenClaims;
  try {
    claims = verifyApprovalLink(token.slice(SIGNAL_TOKEN_PREFIX.length), secret, nowMs, 'approval-signal');
  } catch (err) {
    if (!(err instanceof ApprovalLinkError)) throw err;
    const messages = {
      malformed: 'not a decision token',
      'bad-signature': 'the decision token is not signed by this server',
      expired: 'the decision token has expired',
    };
    throw new SignalTokenError(err.reason, messages[err.reason]);
  }
  const wellFormed =
    typeof claims.workflowId === 'string' &&
    typeof claims.stepId === 'string' &&
    (claims.decision === 'approve' || claims.decision === 'reject') &&
    typeof claims.user === 'string' &&
    Array.isArray(claims.groups) &&
    claims.groups.every((g) => typeof g === 'string') &&
    typeof claims.nonce === 'string';
  if (!wellFormed) throw new SignalTokenError('malformed', 'not a decision token');
  return claims;
}
