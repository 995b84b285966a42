/**
 * The README's MCP example as shipped: examples/.mcp.json (relative command paths, ${WORKSPACE})
 * and examples/mcp-files.spec.yaml, run by a worker configured with MCP_CONFIG=examples. WORKSPACE
 * points at a copy of the example workspace so the test writes nothing into the repository.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse as parseYaml } from 'yaml';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import type { Spec } from '../../workflows/contracts/spec';
import { createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';
import { startMcpWorker, tempDir, type McpWorker } from '../fixtures/mcp/harness';

const examples = path.join(__dirname, '..', '..', 'examples');
const workspace = tempDir('mcp-example-');
let env: TestWorkflowEnvironment;
let mcp: McpWorker;

before(async () => {
  cpSync(path.join(examples, 'mcp', 'workspace'), path.join(workspace, 'mcp', 'workspace'), { recursive: true });
  env = await createTestEnv();
  const config = loadOrchestratorWorkerConfig({
    ...process.env,
    ...testDataEnv(),
    MCP_CONFIG: examples,
    WORKSPACE: workspace,
    MCP_ENV: 'example-test',
  });
  mcp = await startMcpWorker(env, { config });
});

after(async () => {
  await mcp?.stop();
  await env?.teardown();
});

test('examples/mcp-files.spec.yaml runs against the published filesystem and everything servers', async () => {
  const spec = parseYaml(readFileSync(path.join(examples, 'mcp-files.spec.yaml'), 'utf8')) as Spec;
  const { output } = await mcp.run(spec);
  const out = output as { listing: string; notes: Array<{ text: string }>; wrote: string };
  assert.equal(out.listing, '[FILE] .gitignore\n[FILE] ideas.md\n[FILE] todo.md');
  assert.match(out.notes[0]?.text ?? '', /^# To do/);
  assert.match(out.notes[1]?.text ?? '', /^# Ideas/);
  assert.equal(out.wrote, 'Successfully wrote to out/summary.md');
  const summary = readFileSync(path.join(workspace, 'mcp', 'workspace', 'out', 'summary.md'), 'utf8');
  assert.match(summary, /^# Summary \(Echo: summarised \["todo\.md","ideas\.md"\]\)/);
  assert.match(summary, /## First note\n# To do/);
});
