/**
 * Reaching Temporal through TLS with mTLS, configured only through temporal/connection.ts: a
 * profile file for the worker, TEMPORAL_TLS_* variables (and an IPv6 address) for the client.
 * A real dev server sits behind a TLS-terminating proxy that demands a client certificate from
 * our CA; a run of the orchestrator goes through it, and a client without the certificate is
 * turned away.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalConfig } from '../../temporal/config';
import { temporalConnectOptions } from '../../temporal/connection';
import { ensureSearchAttributes } from '../../temporal/search-attributes';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { RUN_SPEC_WORKFLOW, type RunInput, type RunResult } from '../../workflows/contracts/run';
import type { Spec } from '../../workflows/contracts/spec';
import { activities as testActivities } from '../fixtures/test-activities';
import { newJournal, readJournal } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import {
  makeCertificates,
  SERVER_NAME,
  startTlsProxy,
  type TestCertificates,
  type TlsProxy,
} from '../helpers/tls-proxy';
import { runInProcess, testDataEnv } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let dir: string;
let certs: TestCertificates;
let proxy: TlsProxy;
let proxy6: TlsProxy;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  env = await createTestEnv();
  dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
  certs = makeCertificates(dir);
  proxy = await startTlsProxy({ certs, target: env.address });
  proxy6 = await startTlsProxy({ certs, target: env.address, host: '::1' });
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await proxy?.close();
  await proxy6?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The client side of mTLS as TEMPORAL_TLS_* variables. */
function tlsEnv(address: string, withClientCert = true): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
    ...(withClientCert
      ? { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey }
      : {}),
  };
}

test('a worker configured by a profile file and a client by TEMPORAL_TLS_* run a workflow over mTLS', async () => {
  const taskQueue = `tls-${randomUUID()}`;
  const profileFile = path.join(dir, 'temporal.toml');
  writeFileSync(
    profileFile,
    [
      '[profile.secure]',
      `address = "${proxy.address}"`,
      'namespace = "default"',
      '[profile.secure.tls]',
      `server_name = "${SERVER_NAME}"`,
      `server_ca_cert_path = "${certs.caCert}"`,
      `client_cert_path = "${certs.clientCert}"`,
      `client_key_path = "${certs.clientKey}"`,
      '',
    ].join('\n'),
  );

  // The worker: nothing but the profile.
  const workerConfig = loadTemporalConfig({
    TEMPORAL_CONFIG_FILE: profileFile,
    TEMPORAL_PROFILE: 'secure',
    ORCHESTRATOR_TASK_QUEUE: taskQueue,
  });
  assert.equal(workerConfig.address, proxy.address);
  const native = await NativeConnection.connect(temporalConnectOptions(workerConfig));
  cleanups.push(() => native.close());
  // What the orchestrator worker does at start, over the same TLS connection: all are there.
  assert.deepEqual(await ensureSearchAttributes(native, workerConfig.namespace), []);
  const worker = await createOrchestratorWorker({
    connection: native,
    temporal: workerConfig,
    config: loadOrchestratorWorkerConfig(testDataEnv()),
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  cleanups.push(runInProcess(worker));

  // The client: TEMPORAL_TLS_* variables only, to the proxy listening on IPv6 loopback.
  const clientConfig = loadTemporalConfig(tlsEnv(proxy6.address));
  assert.match(clientConfig.address, /^\[::1\]:\d+$/);
  const connection = await Connection.connect(temporalConnectOptions(clientConfig));
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: clientConfig.namespace });

  const journal = newJournal();
  const spec: Spec = {
    name: 'over-mtls',
    steps: [{ id: 'hello', kind: 'activity', activity: 'test.record', args: { journal, label: 'hello' } }],
  };
  const handle = await client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `over-mtls-${randomUUID()}`,
    args: [{ spec, inputs: {} }],
  });
  const result = await handle.result();
  assert.deepEqual(result.output, { hello: { label: 'hello' } });
  assert.deepEqual(
    readJournal(journal).map((e) => e.event),
    ['start', 'end'],
  );
  assert.deepEqual(proxy.refused, []);
  assert.deepEqual(proxy6.refused, []);
});

test('a connection without the client certificate is refused', async () => {
  const config = loadTemporalConfig(tlsEnv(proxy.address, false));
  assert.equal(typeof config.access?.tls, 'object');
  await assert.rejects(Connection.connect({ ...temporalConnectOptions(config), connectTimeout: 3_000 }));
  // Under TLS 1.3 the server's alert may reach the client after it has sent its first request: then
  // it sees the connection closed instead of the alert. The proxy's own record says why (below).
  await assert.rejects(
    NativeConnection.connect(temporalConnectOptions(config)),
    /CertificateRequired|connection closed|operation was canceled/,
  );
  assert.ok(proxy.refused.length > 0, 'the proxy turned the handshake down');
  assert.match(proxy.refused.join('\n'), /certificate/i);
});
