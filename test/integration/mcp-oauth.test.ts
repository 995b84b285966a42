/**
 * MCP servers behind OAuth, end to end through runs on a real dev server: a worker configured by
 * an .mcp.json with `auth` entries talks to a local OAuth-protected MCP server (the SDK's
 * authorization-server pieces over an in-memory provider). Client credentials need no person;
 * the authorization-code grant is set up once with `npm run mcp:login`, driven here by following
 * the printed URL the way a browser would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadMcpConfig } from '../../activities/mcp/config/load';
import { McpClientPool } from '../../activities/mcp/pool';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import type { Spec } from '../../workflows/contracts/spec';
import { failureChain } from '../helpers/failures';
import { createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';
import { activityAttempts, startMcpWorker, tempDir, writeJson, type McpWorker } from '../fixtures/mcp/harness';
import { startOAuthMcpServer, type OAuthMcpServer } from '../fixtures/mcp/oauth-server';

const ROOT = path.join(__dirname, '..', '..');
const SECRET = `s3cret-${process.pid}`;
const configDir = tempDir('mcp-oauth-');
const tokenDir = path.join(tempDir('mcp-oauth-tokens-'), 'nested');
let env: TestWorkflowEnvironment;
let server: OAuthMcpServer;
let mcp: McpWorker;
let workerEnv: Record<string, string | undefined>;

before(async () => {
  [env, server] = await Promise.all([createTestEnv(), startOAuthMcpServer()]);
  server.as.addClient('machine-1', SECRET);
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  server.as.addKeyClient('jwt-1', keys.publicKey);
  const oauth = (grant: string, extra: Record<string, unknown> = {}) => ({ type: 'oauth', grant, ...extra });
  writeJson(path.join(configDir, '.mcp.json'), {
    mcpServers: {
      machine: {
        url: server.url,
        auth: oauth('client_credentials', { clientId: 'machine-1', clientSecretEnv: 'OAUTH_TEST_SECRET' }),
      },
      wrongsecret: {
        url: server.url,
        auth: oauth('client_credentials', { clientId: 'machine-1', clientSecretEnv: 'OAUTH_TEST_WRONG_SECRET' }),
      },
      keyed: {
        url: server.url,
        auth: oauth('client_credentials', {
          clientId: 'jwt-1',
          privateKeyEnv: 'OAUTH_TEST_PRIVATE_KEY',
          signingAlgorithm: 'ES256',
        }),
      },
      person: { url: server.url, auth: oauth('authorization_code') },
    },
  });
  workerEnv = {
    ...process.env,
    ...testDataEnv(),
    MCP_CONFIG: configDir,
    MCP_OAUTH_DIR: tokenDir,
    OAUTH_TEST_SECRET: SECRET,
    OAUTH_TEST_WRONG_SECRET: 'not-the-secret',
    OAUTH_TEST_PRIVATE_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  mcp = await startMcpWorker(env, { config: loadOrchestratorWorkerConfig(workerEnv) });
});

after(async () => {
  await mcp?.stop();
  await server?.stop();
  await env?.teardown();
});

const whoami = (server: string): Spec => ({
  name: `oauth-${server}`,
  steps: [
    {
      id: 'me',
      kind: 'tool',
      tool: `${server}.whoami`,
      args: {},
      heartbeatTimeout: '5s',
      retry: { maxAttempts: 3, initialInterval: '100ms' },
    },
  ],
  output: '${steps.me.output.text}',
});

const tokenFile = (server: string) => path.join(tokenDir, `${server}.json`);
const stored = (server: string) =>
  JSON.parse(readFileSync(tokenFile(server), 'utf8')) as {
    tokens: { access_token: string; refresh_token?: string };
    client?: { client_id: string };
  };
const mode = (file: string) => statSync(file).mode & 0o777;

test('client credentials: the worker gets a token, the tool step works, an expired token is replaced', async () => {
  const handle = await mcp.start(whoami('machine'));
  assert.equal((await handle.result()).output, 'client machine-1');
  assert.deepEqual(server.as.grants, ['client_credentials']);
  assert.equal(mode(tokenFile('machine')), 0o600);
  assert.equal(mode(tokenDir), 0o700);
  const file = readFileSync(tokenFile('machine'), 'utf8');
  assert.ok(!file.includes(SECRET), 'the client secret is not written to the token file');
  const history = JSON.stringify((await handle.fetchHistory()).events);
  assert.ok(!history.includes(SECRET) && !history.includes(stored('machine').tokens.access_token));

  const first = stored('machine').tokens.access_token;
  server.as.expireAccessTokens();
  assert.equal((await mcp.run(whoami('machine'))).output, 'client machine-1');
  assert.deepEqual(server.as.grants, ['client_credentials', 'client_credentials'], 'a new token after the 401');
  assert.notEqual(stored('machine').tokens.access_token, first);
});

test('client credentials with private_key_jwt: a signed assertion instead of a secret', async () => {
  assert.equal((await mcp.run(whoami('keyed'))).output, 'client jwt-1');
  assert.equal(server.as.grants.at(-1), 'client_credentials');
  assert.equal(mode(tokenFile('keyed')), 0o600);
});

test('a wrong client secret fails the step at once, naming the server and the variable', async () => {
  const handle = await mcp.start(whoami('wrongsecret'));
  const err = await handle.result().then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  const chain = failureChain(err);
  assert.match(chain, /McpAuthError: MCP server "wrongsecret": the authorization server refused the OAuth client/);
  assert.match(chain, /\$OAUTH_TEST_WRONG_SECRET/);
  assert.ok(!chain.includes('not-the-secret'), 'the secret itself is never in a message');
  const attempts = await activityAttempts(handle);
  assert.ok(attempts.length > 0 && attempts.every((a) => a.attempt === 1), JSON.stringify(attempts));
});

test('a server needing a login without stored tokens fails with the login command', async () => {
  const handle = await mcp.start(whoami('person'));
  const err = await handle.result().then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  const chain = failureChain(err);
  assert.match(chain, /McpAuthError: MCP server "person" needs an OAuth login \(no stored tokens\)/);
  assert.match(chain, /run `npm run mcp:login -- person`/);
  assert.equal(server.as.authorizations, 0);
  assert.ok((await activityAttempts(handle)).every((a) => a.attempt === 1));
});

/** Runs the login script; follows the URL it prints as a browser would (the test server approves at once). */
async function runLogin(serverName: string): Promise<{ code: number | null; output: string; authUrl?: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'activities/mcp/oauth/login-cli.ts'), serverName, '--timeout', '30'],
    { cwd: ROOT, env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let authUrl: string | undefined;
  let followed: Promise<Response> | undefined;
  const collect = (d: Buffer) => {
    output += d.toString();
    const m = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(output);
    if (m && !followed) {
      authUrl = m[1];
      followed = fetch(m[1] as string); // authorize → 302 → the script's loopback listener
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const landing = await followed;
  assert.equal(landing?.status, 200, `the loopback listener's page; output:\n${output}`);
  return { code, output, authUrl };
}

test('mcp:login: authorization code with PKCE via the loopback listener; the worker uses and refreshes the tokens', async () => {
  const login = await runLogin('person');
  assert.equal(login.code, 0, login.output);
  assert.match(login.output, /Open this URL in a browser to authorize "person"/);
  const authUrl = new URL(login.authUrl as string);
  assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authUrl.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  assert.match(login.output, /Logged in to "person" \(1 tools\)/);
  assert.equal(server.as.authorizations, 1);
  assert.equal(mode(tokenFile('person')), 0o600);
  const registered = stored('person');
  assert.ok(registered.client?.client_id && registered.tokens.refresh_token, 'registration and refresh token kept');

  // The worker (started before the login) picks the stored tokens up: no new authorization.
  const grantsBefore = server.as.grants.length;
  assert.equal((await mcp.run(whoami('person'))).output, `client ${registered.client.client_id}`);
  assert.equal(server.as.authorizations, 1);
  assert.equal(server.as.grants.length, grantsBefore, 'the stored access token was used as it was');

  // Three calls at once meet the expired token: one refresh serves them (the token rotates).
  server.as.expireAccessTokens();
  const call = (id: string) => ({ ...whoami('person').steps[0], id }) as Spec['steps'][number];
  const parallel: Spec = {
    name: 'oauth-person-parallel',
    steps: [{ id: 'all', kind: 'parallel', branches: [[call('a')], [call('b')], [call('c')]] }],
    output: ['${steps.a.output.text}', '${steps.b.output.text}', '${steps.c.output.text}'],
  };
  const who = `client ${registered.client.client_id}`;
  assert.deepEqual((await mcp.run(parallel)).output, [who, who, who]);
  assert.equal(server.as.grants.at(-1), 'refresh_token');
  const refreshed = stored('person');
  assert.notEqual(refreshed.tokens.access_token, registered.tokens.access_token);
  assert.notEqual(refreshed.tokens.refresh_token, registered.tokens.refresh_token, 'the rotated refresh token is kept');
  assert.equal(mode(tokenFile('person')), 0o600);
});

test('headless authorization code (servers that approve at once, like the conformance suite): registers, authorizes, calls', async () => {
  writeJson(path.join(configDir, 'headless.json'), {
    mcpServers: { robot: { url: server.url, auth: { type: 'oauth', grant: 'authorization_code', headless: true } } },
  });
  const config = loadMcpConfig({ location: path.join(configDir, 'headless.json'), required: true }, workerEnv);
  const pool = new McpClientPool(config);
  try {
    const authorizations = server.as.authorizations;
    const result = await pool.callTool('robot', 'whoami', {});
    const clientId = stored('robot').client?.client_id;
    assert.ok(clientId);
    assert.deepEqual(result.content, [{ type: 'text', text: `client ${clientId}` }]);
    assert.equal(server.as.authorizations, authorizations + 1);
    assert.equal(mode(tokenFile('robot')), 0o600);

    // Mid-session the grant is revoked: the refresh is refused, and the same session authorizes again.
    server.as.revokeAll();
    assert.deepEqual((await pool.callTool('robot', 'whoami', {})).content, result.content);
    assert.equal(server.as.authorizations, authorizations + 2);
    assert.equal(pool.inventory()[0]?.connects, 1);
  } finally {
    await pool.close();
  }
});
