/**
 * Roots and progress through a run on a real Temporal dev server, against a local test server
 * (test/fixtures/mcp/asking-server.ts `inspect`, over stdio): the client announces the roots the
 * server's config names (`"roots": true` is the workspace: the server's cwd), answers `roots/list`,
 * and the server's progress notifications during the call show as the running step's progress
 * (the tool activity's heartbeat details, which the API's run events turn into step.progress).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import type { Spec } from '../../workflows/contracts/spec';
import { askingServer, startMcpWorker, tempDir, writeJson, type McpWorker } from '../fixtures/mcp/harness';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';

const REPO = path.resolve(__dirname, '..', '..');

let env: TestWorkflowEnvironment;
let mcp: McpWorker;
const dir = tempDir('mcp-roots-');

before(async () => {
  mkdirSync(path.join(dir, 'data'));
  writeJson(path.join(dir, '.mcp.json'), {
    mcpServers: {
      rooted: askingServer({ roots: true }),
      listed: askingServer({ roots: ['./data', '${WORKSPACE}/docs'] }),
      rootless: askingServer({}),
    },
  });
  env = await createTestEnv();
  mcp = await startMcpWorker(env, { config: loadOrchestratorWorkerConfig({ ...testDataEnv(), MCP_CONFIG: dir }) });
});

after(async () => {
  await mcp?.stop();
  await env?.teardown();
});

const inspect = (server: string, release: string): Spec => ({
  name: 'mcp-roots',
  steps: [
    {
      id: 'look',
      kind: 'tool',
      tool: `${server}.inspect`,
      args: { release },
      heartbeatTimeout: '5s',
      retry: { maxAttempts: 1 },
    },
  ],
});

test("the server's progress shows on the running step; roots: true announces the workspace", async () => {
  const release = path.join(dir, 'release-rooted');
  const handle = await mcp.start(inspect('rooted', release));
  const progress = await waitFor('progress in the step’s heartbeat', async () => {
    const description = await handle.describe();
    const payload = description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    const details = payload && defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload);
    return typeof details?.progress === 'number' && details.progress >= 2 ? details : undefined;
  });
  assert.equal(progress.total, 10);
  assert.match(String(progress.message), /^looked at \d+ of 10$/);
  writeFileSync(release, '');
  const result = await handle.result();
  const output = result.steps.look?.output as { structured: { roots: unknown } };
  assert.deepEqual(output.structured.roots, [{ uri: pathToFileURL(REPO).href, name: path.basename(REPO) }]);
});

test('a list of roots is resolved against the config file’s folder', async () => {
  const release = path.join(dir, 'release-listed');
  writeFileSync(release, '');
  const result = await (await mcp.start(inspect('listed', release))).result();
  const output = result.steps.look?.output as { structured: { roots: unknown } };
  assert.deepEqual(output.structured.roots, [
    { uri: pathToFileURL(path.join(dir, 'data')).href, name: 'data' },
    { uri: pathToFileURL(path.join(dir, 'docs')).href, name: 'docs' },
  ]);
});

test('a server whose config names no roots is told none: roots/list is not offered', async () => {
  const release = path.join(dir, 'release-rootless');
  writeFileSync(release, '');
  const handle = await mcp.start(inspect('rootless', release));
  await assert.rejects(handle.result(), (err) => {
    assert.match(failureChain(err), /client refused: .*(does not support roots|Method not found)/);
    return true;
  });
});
