/**
 * The published server-filesystem in a temp folder, configured the way a deployment would be: a
 * `.mcp.json` with relative paths and `${VAR}`s, read by the worker's own config loader; the
 * worker builds its pool from it and closes it (ending the server process) on shutdown.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import type { Spec } from '../../workflows/contracts/spec';
import { createTestEnv } from '../helpers/temporal';
import {
  FILESYSTEM_SERVER,
  isAlive,
  RECORD_PID,
  recordedPids,
  startMcpWorker,
  tempDir,
  waitUntil,
  writeJson,
  type McpWorker,
} from '../fixtures/mcp/harness';

let env: TestWorkflowEnvironment;
let mcp: McpWorker;
const workspace = tempDir('mcp-workspace-');
const pidLog = path.join(workspace, 'fs.pids');

before(async () => {
  mkdirSync(path.join(workspace, 'data'));
  writeFileSync(path.join(workspace, 'data', 'seed.txt'), 'planted by the test\n');
  writeJson(path.join(workspace, '.mcp.json'), {
    mcpServers: {
      files: {
        command: '${RECORD_PID}',
        args: ['node', '${FS_SERVER}', './data'],
        env: { PID_LOG: '${WORKSPACE}/fs.pids' },
      },
    },
  });
  // The CI layer (MCP_ENV=ci) adds a server that is never used: layers merge by name.
  writeJson(path.join(workspace, '.mcp.ci.json'), { mcpServers: { unused: { url: 'http://127.0.0.1:9/mcp' } } });
  env = await createTestEnv();
  const config = loadOrchestratorWorkerConfig({
    MCP_CONFIG: workspace,
    MCP_ENV: 'ci',
    RECORD_PID,
    FS_SERVER: FILESYSTEM_SERVER,
    MCP_BLOB_DIR: path.join(workspace, 'blobs'),
  });
  mcp = await startMcpWorker(env, { config });
});

after(async () => {
  await mcp?.stop();
  await env?.teardown();
});

const step = (id: string, tool: string, args: Record<string, unknown>) => ({
  id,
  kind: 'tool' as const,
  tool: `files.${tool}`,
  args,
  heartbeatTimeout: '2s',
  retry: { maxAttempts: 2, initialInterval: '200ms' },
});

test('write, read and list files through tool steps', async () => {
  const spec: Spec = {
    name: 'mcp-files',
    inputs: { name: { type: 'string' }, text: { type: 'string' } },
    steps: [
      step('write', 'write_file', { path: '${inputs.name}', content: '${inputs.text}' }),
      step('read', 'read_text_file', { path: '${inputs.name}' }),
      step('seed', 'read_text_file', { path: 'seed.txt' }),
      step('list', 'list_directory', { path: '.' }),
    ],
    output: {
      read: '${steps.read.output.text}',
      seed: '${steps.seed.output.structured.content}',
      list: '${steps.list.output.text}',
    },
  };
  const { output } = await mcp.run(spec, { name: 'notes.txt', text: 'written by a durable step' });
  assert.deepEqual(output, {
    read: 'written by a durable step',
    seed: 'planted by the test\n',
    list: '[FILE] notes.txt\n[FILE] seed.txt',
  });
  assert.equal(readFileSync(path.join(workspace, 'data', 'notes.txt'), 'utf8'), 'written by a durable step');
});

test('the server refuses a path outside its folder: a tool error, not retried', async () => {
  const spec: Spec = { name: 'mcp-files-denied', steps: [step('escape', 'read_text_file', { path: '/etc/hostname' })] };
  const err = await mcp.run(spec).then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure && cause.type === 'McpToolError'))
    cause = cause.cause;
  assert.ok(cause instanceof ApplicationFailure && cause.nonRetryable);
  assert.match(cause.message, /^files\.read_text_file: .*Access denied - path outside allowed directories/);
});

test('the worker closes its pool on shutdown, and the server process with it', async () => {
  const [pid] = recordedPids(pidLog);
  assert.ok(pid && isAlive(pid), 'the server ran for the earlier tests');
  assert.equal(recordedPids(pidLog).length, 1, 'one process served both runs');
  await mcp.stop();
  await waitUntil('the server process to exit', () => !isAlive(pid), 10_000);
});
