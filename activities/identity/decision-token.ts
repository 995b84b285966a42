/**
 * The orchestrator worker's check of the token inside an `approve` signal, read from the worker's
 * environment at start-up. A scoped decision token (signal-token.ts; SIGNING_SECRET) must name
 * this run, the signal's step and decision, and not have expired; the run then accepts its nonce
 * once. A bearer token is checked with the API's identity scheme (static tokens file, JWTs) unless
 * APPROVAL_SIGNAL_BEARER=off. A bad token is an answer ({ ok: false }), never a failure: the run
 * records it as a refused decision. Keys that cannot be fetched fail the attempt, so Temporal
 * retries it. No answer ever repeats the token: answers are recorded in history.
 */
import { Context } from '@temporalio/activity';
import { ConfigError } from '../../config/config-errors';
import type { DecisionScope, IdentityActivities, TokenCheck } from '../../workflows/contracts/run';
import { AUTH_SOURCE_KEYS, loadAuthConfig } from './auth-config';
import { loadSigningSecret } from './signing';
import { isSignalToken, SignalTokenError, verifySignalToken } from './signal-token';
import { AuthError, createTokenVerifier } from './token-verifier';

export const SIGNALS_OFF_REASON = 'signal approvals are turned off on this server';
export const BEARER_OFF_REASON =
  'bearer tokens are not accepted in signals on this server (APPROVAL_SIGNAL_BEARER=off): get a scoped token ' +
  'with POST /workflows/<id>/approvals/<stepId>/signal-token';
const NO_SOURCE_REASON =
  `this server's orchestrator worker accepts no bearer tokens (none of ${AUTH_SOURCE_KEYS.join(', ')} is set ` +
  'in its environment)';
const NO_SECRET_REASON =
  "this server's orchestrator worker cannot check decision tokens (no SIGNING_SECRET or SIGNING_SECRET_FILE " +
  'in its environment)';

type Check = (token: string, scope: DecisionScope | undefined) => Promise<TokenCheck>;
const refused = (reason: string): TokenCheck => ({ ok: false, reason });

/** An on/off setting, `on` by default; anything else stops the worker naming the key. */
function isOn(env: NodeJS.ProcessEnv, key: string): boolean {
  const value = (env[key] ?? 'on').trim().toLowerCase();
  if (value === 'on' || value === '') return true;
  if (value === 'off') return false;
  throw new ConfigError('environment', [{ key, message: 'must be on or off' }]);
}

/**
 * Built once per worker: bad settings (a malformed tokens file, JWKS without issuer, a short
 * signing secret) stop it starting. APPROVAL_SIGNALS=off refuses every signalled decision.
 */
export function createIdentityActivities(env: NodeJS.ProcessEnv = process.env): IdentityActivities {
  if (!isOn(env, 'APPROVAL_SIGNALS')) return { verifyDecisionToken: async () => refused(SIGNALS_OFF_REASON) };
  const scoped = scopedCheck(loadSigningSecret(env));
  const bearer = isOn(env, 'APPROVAL_SIGNAL_BEARER') ? bearerCheck(env) : async () => refused(BEARER_OFF_REASON);
  return {
    async verifyDecisionToken(token: string, scope?: DecisionScope): Promise<TokenCheck> {
      if (typeof token !== 'string') return refused('the token must be a string');
      return isSignalToken(token) ? scoped(token, scope) : bearer(token, scope);
    },
  };
}

function scopedCheck(secret: string | undefined): Check {
  if (secret === undefined) return async () => refused(NO_SECRET_REASON);
  return async (token, scope) => {
    let claims;
    try {
      claims = verifySignalToken(token, secret, Date.now());
    } catch (err) {
      if (!(err instanceof SignalTokenError)) throw err;
      return refused(`${err.message} (${err.reason})`);
    }
    // The run asking is the one whose signal carried the token; the token must name it.
    if (claims.workflowId !== Context.current().info.workflowExecution?.workflowId)
      return refused('the decision token is for another run');
    if (scope === undefined) return refused("the signal's step and decision were not given to the check");
    if (claims.stepId !== scope.stepId)
      return refused(`the decision token is for step "${claims.stepId}", not "${scope.stepId}"`);
    if (claims.decision !== scope.decision)
      return refused(`the decision token is for "${claims.decision}", not "${scope.decision}"`);
    return {
      ok: true,
      // The API minted it for a caller holding the approver role whom the step's approvers named.
      identity: { user: claims.user, groups: [...claims.groups], roles: ['approver'] },
      nonce: claims.nonce,
    };
  };
}

function bearerCheck(env: NodeJS.ProcessEnv): Check {
  const config = loadAuthConfig(env);
  if (config.staticTokensFile === undefined && config.jwt === undefined) return async () => refused(NO_SOURCE_REASON);
  const verifier = createTokenVerifier(config);
  return async (token) => {
    try {
      return { ok: true, identity: await verifier.verify(token) };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      // The keys could not be loaded: nothing is known about the token yet, so try again.
      if (err.reason === 'unavailable') throw err;
      return refused(`the token was refused (${err.reason}): ${err.message}`);
    }
  };
}
