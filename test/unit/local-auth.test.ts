/** What `npm start` creates for a first start: a local admin token, its tokens file, a signing secret. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadAuthConfig } from '../../activities/identity/auth-config';
import { loadSigningSecret } from '../../activities/identity/signing';
import { createTokenVerifier } from '../../activities/identity/token-verifier';
import { ensureLocalAuth } from '../../temporal/local-auth';

const root = mkdtempSync(path.join(tmpdir(), 'local-auth-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a first start creates an admin token only its owner can read; later starts reuse it', async () => {
  const dir = path.join(root, 'auth');
  const first = ensureLocalAuth({}, dir);
  assert.deepEqual(first.created.map((f) => path.basename(f)).sort(), ['admin-token', 'signing-secret', 'tokens.json']);
  for (const file of first.created) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  assert.equal(first.adminTokenFile, path.join(dir, 'admin-token'));

  // The token is not in the tokens file, only its SHA-256; the file verifies it as the admin.
  const token = readFileSync(path.join(dir, 'admin-token'), 'utf8').trim();
  assert.ok(!readFileSync(path.join(dir, 'tokens.json'), 'utf8').includes(token));
  const identity = await createTokenVerifier(loadAuthConfig(first.env)).verify(token);
  assert.equal(identity.user, 'admin');
  assert.deepEqual(identity.roles, ['admin']);
  assert.equal(loadSigningSecret(first.env)?.length, 64);

  const again = ensureLocalAuth({}, dir);
  assert.deepEqual(again.created, []);
  assert.deepEqual(again.env, first.env);
  assert.equal(readFileSync(path.join(dir, 'admin-token'), 'utf8').trim(), token, 'the same token');
});

test('settings the user gave win: nothing is created for them', () => {
  const dir = path.join(root, 'theirs');
  const own = ensureLocalAuth({ AUTH_JWKS_URL: 'https://idp.example/jwks', SIGNING_SECRET: 'x'.repeat(32) }, dir);
  assert.deepEqual(own, { env: {}, created: [] });
  const onlySecret = ensureLocalAuth({ AUTH_TOKENS_FILE: '/etc/agents/tokens.json' }, dir);
  assert.deepEqual(Object.keys(onlySecret.env), ['SIGNING_SECRET_FILE']);
  assert.equal(onlySecret.adminTokenFile, undefined);
});
