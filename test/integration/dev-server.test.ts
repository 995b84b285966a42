/**
 * The dev server as `npm start` runs it: state in a SQLite file survives a restart, and the
 * project's search attributes are registered.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../../temporal/cli';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { ensureSearchAttributes } from '../../temporal/search-attributes';
import { CUSTOM_SEARCH_ATTRIBUTES, RUN_SPEC_WORKFLOW } from '../../workflows/contracts/run';

const NAMESPACE = 'smoke';
let dir: string | undefined;
const servers: DevServer[] = [];

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function withClient<T>(server: DevServer, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: NAMESPACE }));
  } finally {
    await connection.close();
  }
}

/** Visibility is eventually consistent, even in the dev server. */
async function listWorkflowIds(client: Client): Promise<string[]> {
  let ids: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    ids = [];
    for await (const wf of client.workflow.list()) ids.push(wf.workflowId);
    if (ids.length > 0) return ids;
    await sleep(200);
  }
  return ids;
}

test('a dev server on a SQLite file keeps its namespace and runs across a restart', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'durable-agents-dev-server-'));
  const dbFile = path.join(dir, 'nested', 'temporal.db');
  const cliPath = await ensureTemporalCli();

  const first = await startDevServer({ cliPath, dbFile, namespace: NAMESPACE, uiPort: false });
  servers.push(first);
  assert.match(first.address, /^127\.0\.0\.1:\d+$/);
  assert.equal(first.uiUrl, undefined);
  await stat(dbFile);
  await withClient(first, async (client) => {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    for (const name of Object.keys(CUSTOM_SEARCH_ATTRIBUTES))
      assert.ok(customAttributes[name], `search attribute ${name}`);
    // No worker polls this queue: the run just waits, which is all we need to see it persist.
    await client.workflow.start(RUN_SPEC_WORKFLOW, {
      workflowId: 'smoke-persisted',
      taskQueue: 'dev-server-smoke',
      args: [{ spec: { name: 'smoke', steps: [] } }],
    });
    assert.deepEqual(await listWorkflowIds(client), ['smoke-persisted']);
  });
  await first.stop();
  await first.stop();
  assert.notEqual(first.process.exitCode ?? first.process.signalCode, null);

  // Restarted without naming the namespace: it can only come from the file.
  const secondLog: string[] = [];
  const second = await startDevServer({ cliPath, dbFile, uiPort: false, log: (line) => secondLog.push(line) });
  servers.push(second);
  await withClient(second, async (client) => {
    const ns = await client.connection.workflowService.describeNamespace({ namespace: NAMESPACE });
    assert.equal(ns.namespaceInfo?.name, NAMESPACE);
    assert.deepEqual(await listWorkflowIds(client), ['smoke-persisted']);
    const description = await client.workflow.getHandle('smoke-persisted').describe();
    assert.equal(description.status.name, 'RUNNING');
    // What a worker does at start: nothing is missing, so nothing is asked of the server.
    assert.deepEqual(await ensureSearchAttributes(client.connection, NAMESPACE), []);
  });
  await second.stop();
  // The server warns for every attribute it is asked to register again; a restart asks for none.
  assert.deepEqual(
    secondLog.filter((line) => /already exists/i.test(line)),
    [],
  );
});
