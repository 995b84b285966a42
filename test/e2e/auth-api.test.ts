/**
 * Identity through the REST API: a real Temporal dev server, the orchestrator worker in this
 * process and the Nest app with the real guard, verifying static tokens (a tokens file) and JWTs
 * (keys generated here, served from a JWKS file).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { loadAuthConfig } from '../../activities/identity/auth-config';
import { createTokenVerifier } from '../../activities/identity/token-verifier';
import { createApp } from '../../api/app';
import type { RunDetail, StartRunResponse } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunProgress, RunResult } from '../../workflows/contracts/run';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'durable-agents-api';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  issues?: Array<{ path: string; message: string }>;
}
interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}
type Detail = RunDetail & { progress?: RunProgress; result?: RunResult };

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let app: INestApplication;
let baseUrl: string;
let dir: string;
let jwtKey: CryptoKey;
const auth = testAuth();

/** `as`: a test user (static token), a raw Authorization value, or null for none. */
async function call<T = ErrorBody>(
  method: string,
  route: string,
  as: TestUser | { authorization: string } | null,
  body?: unknown,
): Promise<Reply<T>> {
  const authorization = as === null ? {} : typeof as === 'string' ? auth.header(as) : as;
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

const signJwt = (claims: Record<string, unknown>, expiresAt: number): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'test' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(expiresAt - 600)
    .setExpirationTime(expiresAt)
    .sign(jwtKey);

/** A gate the release managers decide, then a long sleep that keeps the run open. */
const gatedSpec = (name: string, approvers?: string[]) => ({
  name,
  steps: [
    { id: 'gate', kind: 'approval', prompt: 'Ship it?', ...(approvers && { approvers }) },
    { id: 'after', kind: 'sleep', duration: '1h' },
  ],
});

async function waitForGate(workflowId: string): Promise<void> {
  await waitFor(`${workflowId} to wait at its gate`, async () => {
    const { status, body } = await call<Detail>('GET', `/workflows/${workflowId}`, 'viewer');
    assert.equal(status, 200);
    return body.progress?.pendingApprovals.some((p) => p.stepId === 'gate');
  });
}

async function historyLength(workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

before(async () => {
  env = await createTestEnv();
  const temporal: TemporalConfig = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `auth-api-${randomUUID()}`,
  };
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
  });
  workerRun = worker.run();

  dir = await mkdtemp(path.join(tmpdir(), 'auth-api-'));
  const pair = await generateKeyPair('ES256');
  jwtKey = pair.privateKey;
  const jwksFile = path.join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'test' }] }));
  // Both kinds of token at once, as a deployment with an IdP and a few service tokens would run.
  const verifier = createTokenVerifier(
    loadAuthConfig({
      AUTH_TOKENS_FILE: auth.tokensFile,
      AUTH_JWKS_FILE: jwksFile,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    }),
  );
  app = await createApp({
    temporal,
    auth: { ...auth.auth, verifier },
    client: env.client,
    specStoreDir: path.join(dir, 'specs'),
    webhookStoreDir: path.join(dir, 'webhooks'),
    examplesDir: null,
    port: 0,
    logger: false,
  });
  baseUrl = await app.getUrl();
});

after(async () => {
  await app?.close();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('no token, an unknown one or an expired JWT: 401 with WWW-Authenticate; /health needs none', async () => {
  const none = await call('GET', '/workflows', null);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="durable-agents"');
  assert.deepEqual(Object.keys(none.body).sort(), ['error', 'message', 'statusCode']);
  assert.equal(none.body.error, 'Unauthorized');

  const unknown = await call('GET', '/workflows', { authorization: 'Bearer not-a-known-token-at-all' });
  assert.equal(unknown.status, 401);
  assert.match(unknown.headers.get('www-authenticate') ?? '', /^Bearer realm="durable-agents", error="invalid_token"/);

  const expired = await signJwt({ sub: 'ana', roles: ['admin'] }, Math.floor(Date.now() / 1000) - 60);
  const late = await call('GET', '/workflows', { authorization: `Bearer ${expired}` });
  assert.equal(late.status, 401);
  assert.match(late.body.message, /expired/);

  const valid = await signJwt({ sub: 'ana', roles: ['viewer'] }, Math.floor(Date.now() / 1000) + 600);
  assert.equal((await call('GET', '/workflows', { authorization: `Bearer ${valid}` })).status, 200);

  const roleless = await signJwt({ sub: 'eve', roles: ['owner'] }, Math.floor(Date.now() / 1000) + 600);
  const noRole = await call('GET', '/workflows', { authorization: `Bearer ${roleless}` });
  assert.equal(noRole.status, 403, 'a token whose roles are all unknown to us grants nothing');

  assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
  assert.equal((await fetch(`${baseUrl}/docs-json`)).status, 200);
});

test('roles: a viewer reads but cannot start or decide; an operator starts but cannot terminate; an admin can', async () => {
  const spec = gatedSpec('auth-roles');
  const refused = await call('POST', '/workflows', 'viewer', { spec });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, 'Forbidden');
  assert.match(refused.body.message, /needs the operator role/);

  const started = await call<StartRunResponse>('POST', '/workflows', 'operator', { spec });
  assert.equal(started.status, 201);
  const { workflowId } = started.body;
  await waitForGate(workflowId);

  const viewerDecides = await call('POST', `/workflows/${workflowId}/approvals/gate`, 'viewer', {
    decision: 'approve',
  });
  assert.equal(viewerDecides.status, 403);
  assert.match(viewerDecides.body.message, /needs the approver role/);
  assert.equal((await call('POST', '/specs', 'operator', spec)).status, 403, 'registering specs is for admins');

  assert.equal((await call('POST', `/workflows/${workflowId}/terminate`, 'operator', {})).status, 403);
  assert.equal((await call('POST', `/workflows/${workflowId}/terminate`, 'admin', { reason: 'done' })).status, 200);
});

test('a decision naming its decider in the body is refused: the decider is the token', async () => {
  const reply = await call('POST', '/workflows/any-run/approvals/gate', 'approver', { decision: 'approve', by: 'ana' });
  assert.equal(reply.status, 400);
  assert.deepEqual(
    reply.body.issues?.map((i) => i.path),
    ['by'],
  );
  assert.match(reply.body.message, /bearer token/);
});

test('approvers are enforced: mallory gets 403 with the history unchanged; ana approves, recorded as hers via the API', async () => {
  const started = await call<StartRunResponse>('POST', '/workflows', 'operator', {
    spec: {
      ...gatedSpec('auth-approvers', ['release-managers']),
      output: { by: '${steps.gate.output.by}', channel: '${steps.gate.output.channel}' },
      steps: [{ id: 'gate', kind: 'approval', prompt: 'Ship it?', approvers: ['release-managers'] }],
    },
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const { workflowId } = started.body;
  await waitForGate(workflowId);

  const before = await historyLength(workflowId);
  const mallory = await call('POST', `/workflows/${workflowId}/approvals/gate`, 'mallory', { decision: 'approve' });
  assert.equal(mallory.status, 403, JSON.stringify(mallory.body));
  assert.equal(mallory.body.error, 'Forbidden');
  assert.match(mallory.body.message, /mallory.*may not decide step "gate"/);
  assert.equal(await historyLength(workflowId), before, 'a refused decision writes nothing to history');

  const ana = await call<{ by: string; channel?: string; groups?: string[] }>(
    'POST',
    `/workflows/${workflowId}/approvals/gate`,
    'ana',
    { decision: 'approve', comment: 'ship it' },
  );
  assert.equal(ana.status, 200, JSON.stringify(ana.body));
  assert.equal(ana.body.by, 'ana');
  assert.equal(ana.body.channel, 'api');
  assert.deepEqual(ana.body.groups, ['release-managers']);

  const done = await waitFor('the run to complete', async () => {
    const { body } = await call<Detail>('GET', `/workflows/${workflowId}`, 'viewer');
    return body.status === 'completed' ? body : undefined;
  });
  assert.deepEqual(done.result?.output, { by: 'ana', channel: 'api' });
});
