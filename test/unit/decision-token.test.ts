/**
 * The worker's check of an `approve` signal's token (activities/identity/decision-token.ts) with a
 * real static tokens file: an identity for a known token, an answer (not a failure) for a bad
 * one, APPROVAL_SIGNALS=off, no identity source, and a bad setting that stops the worker.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createIdentityActivities, SIGNALS_OFF_REASON } from '../../activities/identity/decision-token';
import { ConfigError } from '../../config/config-errors';
import { testAuth } from '../helpers/api-auth';

describe('verifyDecisionToken', () => {
  const auth = testAuth();

  test('a known token: the identity from the tokens file', async () => {
    const { verifyDecisionToken } = createIdentityActivities(auth.env);
    assert.deepEqual(await verifyDecisionToken(auth.tokens.ana), { ok: true, identity: auth.identity('ana') });
  });

  test('an unknown or empty token: refused with the reason, not thrown', async () => {
    const { verifyDecisionToken } = createIdentityActivities(auth.env);
    const unknown = await verifyDecisionToken('nobody-issued-this-token');
    assert.equal(unknown.ok, false);
    if (!unknown.ok) assert.match(unknown.reason, /^the token was refused \(unknown\)/);
    const empty = await verifyDecisionToken('');
    assert.equal(empty.ok, false);
    if (!empty.ok) assert.match(empty.reason, /\(missing\)/);
  });

  test('APPROVAL_SIGNALS=off answers every token with the setting', async () => {
    const { verifyDecisionToken } = createIdentityActivities({ ...auth.env, APPROVAL_SIGNALS: 'off' });
    assert.deepEqual(await verifyDecisionToken(auth.tokens.ana), { ok: false, reason: SIGNALS_OFF_REASON });
  });

  test('a worker with no identity source refuses every token, saying why', async () => {
    const check = await createIdentityActivities({}).verifyDecisionToken(auth.tokens.ana);
    assert.equal(check.ok, false);
    if (!check.ok) assert.match(check.reason, /accepts no bearer tokens \(none of AUTH_TOKENS_FILE, .* is set/);
  });

  test('a bad APPROVAL_SIGNALS or tokens file stops the worker, naming the key', () => {
    assert.throws(
      () => createIdentityActivities({ ...auth.env, APPROVAL_SIGNALS: 'maybe' }),
      (err) => err instanceof ConfigError && err.problems[0]?.key === 'APPROVAL_SIGNALS',
    );
    assert.throws(
      () => createIdentityActivities({ AUTH_TOKENS_FILE: '/nonexistent/tokens.json' }),
      (err) => err instanceof ConfigError && err.problems[0]?.key === 'AUTH_TOKENS_FILE',
    );
  });
});
