/**
 * The orchestrator worker's check of the bearer token inside an `approve` signal: the same
 * identity scheme as the API (static tokens file, JWTs), read from the worker's environment at
 * start-up. A bad token is an answer ({ ok: false }), never a failure: the run records it as a
 * refused decision. Keys that cannot be fetched fail the attempt, so Temporal retries it.
 */
import { ConfigError } from '../../workers/config-errors';
import type { IdentityActivities, TokenCheck } from '../../workflows/shared';
import { AUTH_SOURCE_KEYS, loadAuthConfig } from './auth-config';
import { AuthError, createTokenVerifier } from './token-verifier';

export const SIGNALS_OFF_REASON = 'signal approvals are turned off on this server';
const NO_SOURCE_REASON =
  `this server's orchestrator worker accepts no tokens (none of ${AUTH_SOURCE_KEYS.join(', ')} is set ` +
  'in its environment)';

/** APPROVAL_SIGNALS: `on` (default) or `off`, which refuses every signalled decision. */
function signalsEnabled(env: NodeJS.ProcessEnv): boolean {
  const value = (env.APPROVAL_SIGNALS ?? 'on').trim().toLowerCase();
  if (value === 'on' || value === '') return true;
  if (value === 'off') return false;
  throw new ConfigError('environment', [{ key: 'APPROVAL_SIGNALS', message: 'must be on or off' }]);
}

/** Built once per worker: bad settings (a malformed tokens file, JWKS without issuer) stop it starting. */
export function createIdentityActivities(env: NodeJS.ProcessEnv = process.env): IdentityActivities {
  if (!signalsEnabled(env)) return { verifyDecisionToken: async () => ({ ok: false, reason: SIGNALS_OFF_REASON }) };
  const config = loadAuthConfig(env);
  if (config.staticTokensFile === undefined && config.jwt === undefined) {
    return { verifyDecisionToken: async () => ({ ok: false, reason: NO_SOURCE_REASON }) };
  }
  const verifier = createTokenVerifier(config);
  return {
    async verifyDecisionToken(token: string): Promise<TokenCheck> {
      if (typeof token !== 'string') return { ok: false, reason: 'the token must be a string' };
      try {
        return { ok: true, identity: await verifier.verify(token) };
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        // The keys could not be loaded: nothing is known about the token yet, so try again.
        if (err.reason === 'unavailable') throw err;
        return { ok: false, reason: `the token was refused (${err.reason}): ${err.message}` };
      }
    },
  };
}
