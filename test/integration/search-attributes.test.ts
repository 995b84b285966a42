/**
 * The start-up check of the project's search attributes against a real dev server that lacks
 * them: registered where the operator API may be used; where it is refused (as Temporal Cloud
 * refuses it) or not ours to use (an API-key connection), start-up stops with a message naming
 * them and the commands that add them. The refusal comes from a gRPC interceptor standing in
 * for the gateway in front of the server; the server and everything it answers are real.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTemporalCli } from '../../temporal/cli';
import { dynamicConfigArgs } from '../../temporal/dev-server';
import { ensureSearchAttributes, MissingSearchAttributesError } from '../../temporal/search-attributes';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../workflows/contracts/run';
import { quietRuntime } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';

const NAMES = Object.keys(CUSTOM_SEARCH_ATTRIBUTES).sort();
const ROOT = path.resolve(__dirname, '../..');
let env: TestWorkflowEnvironment;
let plain: Connection;
let gated: Connection;

/** Answers every OperatorService call as an authorizing gateway does when the caller may not use it. */
const refuseOperatorApi: Interceptor = (options, next) => {
  if (!options.method_definition.path.startsWith('/temporal.api.operatorservice.v1.OperatorService/')) {
    return new InterceptingCall(next(options));
  }
  // The call below the gateway is never started: nothing reaches the server.
  return new InterceptingCall(next(options), {
    start: (_metadata, listener) =>
      setImmediate(() =>
        listener.onReceiveStatus({
          code: status.PERMISSION_DENIED,
          details: 'Request unauthorized.',
          metadata: new Metadata(),
        }),
      ),
    sendMessage: () => undefined,
    halfClose: () => undefined,
    cancel: () => undefined,
  });
};

async function registered(): Promise<string[]> {
  const { customAttributes } = await plain.operatorService.listSearchAttributes({ namespace: 'default' });
  return Object.keys(customAttributes).filter((name) => name in CUSTOM_SEARCH_ATTRIBUTES);
}

before(async () => {
  quietRuntime();
  // Unlike createTestEnv's, this server starts without the project's search attributes.
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalCli() },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error', ...dynamicConfigArgs()],
    },
  });
  plain = await Connection.connect({ address: env.address });
  gated = await Connection.connect({ address: env.address, interceptors: [refuseOperatorApi] });
});

after(async () => {
  await gated?.close();
  await plain?.close();
  await env?.teardown();
});

test('refused operator API: the missing attributes are found through visibility and stop start-up', async () => {
  assert.deepEqual(await registered(), []);
  await assert.rejects(ensureSearchAttributes(gated, 'default'), (err) => {
    assert.ok(err instanceof MissingSearchAttributesError);
    assert.deepEqual(err.missing.map((a) => a.name).sort(), NAMES);
    assert.match(err.message, /the server refused to add them \(Request unauthorized\.\)/);
    assert.match(err.message, /tcld namespace search-attributes add --namespace default --sa "AgentSpec=Keyword"/);
    return true;
  });
  assert.deepEqual(await registered(), []);
});

test('an API-key connection leaves registering to the operator', async () => {
  await assert.rejects(ensureSearchAttributes(plain, 'default', { register: false }), MissingSearchAttributesError);
  assert.deepEqual(await registered(), []);
});

test('the orchestrator worker refuses to start on an API-key connection while attributes are missing', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/orchestrator.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...testDataEnv(),
      TEMPORAL_ADDRESS: env.address,
      // The dev server does not check keys; TLS off because it has none.
      TEMPORAL_API_KEY: 'a-key-the-dev-server-ignores',
      TEMPORAL_TLS: 'false',
      WORKER_VERSIONING: 'off',
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /orchestrator worker refused to start: namespace "default" lacks the search attributes/);
  assert.match(r.stderr, /tcld namespace search-attributes add --namespace default --sa "AgentSpec=Keyword"/);
  assert.match(
    r.stderr,
    /temporal operator search-attribute create --namespace default --name AgentSpec --type Keyword/,
  );
});

test('where the operator API is allowed they are registered once; then the refused path finds them all', async () => {
  assert.deepEqual((await ensureSearchAttributes(plain, 'default')).sort(), NAMES);
  assert.deepEqual(await registered().then((n) => n.sort()), NAMES);
  assert.deepEqual(await ensureSearchAttributes(plain, 'default'), []);
  // Visibility sees new attributes a moment later; then no gateway refusal stops start-up.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      assert.deepEqual(await ensureSearchAttributes(gated, 'default'), []);
      break;
    } catch (err) {
      if (!(err instanceof MissingSearchAttributesError) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});
