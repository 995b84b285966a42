/**
 * The `auth` key of .mcp.json (errors name the field, secrets stay in the environment), the
 * token file (0600, atomic, ignored for another URL) and the shared refresh.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadMcpConfig } from '../../activities/mcp/config/load';
import type { HttpServerConfig } from '../../activities/mcp/config/types';
import { oauthDir } from '../../activities/mcp/oauth/config';
import { StoredOAuthProvider } from '../../activities/mcp/oauth/provider';
import { sharingRefreshes } from '../../activities/mcp/oauth/shared-refresh';
import { OAuthStore } from '../../activities/mcp/oauth/store';
import { ConfigError } from '../../config/config-errors';

function configWith(servers: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-oauth-config-'));
  writeFileSync(path.join(dir, '.mcp.json'), JSON.stringify({ mcpServers: servers }));
  return dir;
}

function problems(servers: Record<string, unknown>, env: Record<string, string> = {}) {
  try {
    loadMcpConfig({ location: configWith(servers), required: true }, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return Object.fromEntries(err.problems.map((p) => [p.key, p.message]));
  }
  return assert.fail('expected a ConfigError');
}

const url = 'https://mcp.example.com/mcp';

test('an OAuth entry is checked field by field, each error naming its key', () => {
  assert.deepEqual(
    problems({
      a: { url, auth: { type: 'oauth', grant: 'client_credentials' } },
      b: { url, auth: { type: 'oauth', grant: 'password' } },
      c: { url, auth: { type: 'oauth', grant: 'client_credentials', clientId: 'x', clientSecretEnv: 'UNSET_VAR' } },
      d: { url, auth: { type: 'oauth', grant: 'authorization_code', redirectUrl: 'https://example.com/cb' } },
      e: { url, auth: { type: 'oauth', grant: 'authorization_code', clientSecret: 'inline' } },
      f: { url, auth: { type: 'basic', grant: 'authorization_code' } },
      g: { url, auth: { type: 'oauth', grant: 'authorization_code', clientSecretEnv: 'lower-case!' } },
      h: { command: 'node', auth: { type: 'oauth', grant: 'authorization_code' } },
    }),
    {
      'mcpServers.a.auth.clientId': 'missing: client_credentials needs "clientId"',
      'mcpServers.a.auth.clientSecretEnv':
        'missing: client_credentials needs "clientSecretEnv" (the environment variable holding the secret) or "privateKeyEnv"',
      'mcpServers.b.auth.grant': 'must be one of client_credentials, authorization_code',
      'mcpServers.c.auth.clientSecretEnv': 'environment variable UNSET_VAR is not set',
      'mcpServers.d.auth.redirectUrl':
        '"https://example.com/cb" is not a loopback http URL (http://127.0.0.1:<port>/<path>) the login script can listen on',
      'mcpServers.e.auth.clientSecret': 'unknown field',
      'mcpServers.f.auth.type': 'must be "oauth"',
      'mcpServers.g.auth.clientSecretEnv': 'must be the name of an environment variable (letters, digits, "_")',
      'mcpServers.h.auth': 'unknown field',
    },
  );
});

test('the secret comes from the environment and never appears in the loaded config', () => {
  const dir = configWith({
    remote: {
      url,
      auth: {
        type: 'oauth',
        grant: 'client_credentials',
        clientId: 'svc',
        clientSecretEnv: 'SVC_SECRET',
        scope: 'read',
      },
    },
  });
  const config = loadMcpConfig({ location: dir, required: true }, { SVC_SECRET: 'hunter2', MCP_OAUTH_DIR: dir });
  const remote = config.servers.remote as HttpServerConfig;
  assert.equal(remote.auth?.clientSecret(), 'hunter2');
  assert.equal(remote.auth?.tokenFile, path.join(dir, 'remote.json'));
  assert.ok(!JSON.stringify(config).includes('hunter2'));
});

test('tokens live outside the repository: MCP_OAUTH_DIR, else the user config folder', () => {
  assert.equal(oauthDir({ MCP_OAUTH_DIR: '/srv/tokens' }), '/srv/tokens');
  assert.equal(oauthDir({ XDG_CONFIG_HOME: '/home/u/.cfg' }), '/home/u/.cfg/durable-agents/mcp-oauth');
  assert.match(oauthDir({}), /\/\.config\/durable-agents\/mcp-oauth$/);
});

test('the token file is written atomically with mode 0600, and state for another URL is ignored', () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'mcp-oauth-store-')), 'deep');
  const file = path.join(dir, 'srv.json');
  const store = new OAuthStore(file, 'https://a.example/mcp');
  store.update((s) => ({ ...s, tokens: { access_token: 'one', token_type: 'Bearer' } }));
  store.update((s) => ({ ...s, tokens: { access_token: 'two', token_type: 'Bearer' } }));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(dir), ['srv.json'], 'no temporary files left');
  assert.equal(store.read().tokens?.access_token, 'two');
  assert.equal(new OAuthStore(file, 'https://b.example/mcp').read().tokens, undefined);
});

test('refresh requests with the same refresh token share one answer; other requests pass through', async () => {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const fetchFn = sharingRefreshes(async () => {
    calls++;
    await gate;
    return new Response(JSON.stringify({ access_token: `t${calls}` }), { status: 200 });
  });
  const refresh = () =>
    fetchFn('https://as.example/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r1' }),
    });
  const both = Promise.all([refresh(), refresh()]);
  release();
  const bodies = await Promise.all((await both).map((r) => r.json()));
  assert.deepEqual(bodies, [{ access_token: 't1' }, { access_token: 't1' }]);
  assert.equal(calls, 1);
  await fetchFn('https://as.example/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'x' }) });
  assert.equal(calls, 2);
});

test('a refused refresh drops the stored tokens, unless another process stored newer ones meanwhile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-oauth-provider-'));
  const auth = {
    grant: 'authorization_code' as const,
    headless: false,
    tokenFile: path.join(dir, 'srv.json'),
    signingAlgorithm: 'RS256',
    clientSecret: () => undefined,
    privateKey: () => undefined,
  };
  const server = { name: 'srv', url: 'https://a.example/mcp', auth };
  const mine = new StoredOAuthProvider(server);
  const otherProcess = new OAuthStore(auth.tokenFile, server.url);
  const save = (access_token: string) =>
    otherProcess.update((s) => ({
      ...s,
      tokens: { access_token, token_type: 'Bearer', refresh_token: `r-${access_token}` },
    }));

  save('t1');
  assert.equal(mine.tokens()?.access_token, 't1');
  save('t2'); // another worker refreshed first; this one's refresh with r-t1 is then refused
  mine.invalidateCredentials('tokens');
  assert.equal(otherProcess.read().tokens?.access_token, 't2');

  assert.equal(mine.tokens()?.access_token, 't2');
  mine.invalidateCredentials('tokens');
  assert.equal(otherProcess.read().tokens, undefined);
  assert.equal(mine.loginRequired(), true);
});
