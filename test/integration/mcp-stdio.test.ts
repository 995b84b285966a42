/**
 * Tool steps against the published server-everything over stdio, started through a wrapper that
 * records each process it starts, so reuse and restarts are counted, not assumed.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { McpClientPool, type PoolEvent } from '../../activities/mcp/pool';
import type { ToolStep, Spec } from '../../workflows/contracts/spec';
import { createTestEnv } from '../helpers/temporal';
import {
  activityAttempts,
  EVERYTHING_SERVER,
  isAlive,
  RECORD_PID,
  recordedPids,
  startMcpWorker,
  tempDir,
  waitUntil,
  type McpWorker,
} from '../fixtures/mcp/harness';

let env: TestWorkflowEnvironment;
let mcp: McpWorker;
let pool: McpClientPool;
const events: PoolEvent[] = [];
const pidLog = path.join(tempDir('mcp-pids-'), 'everything.pids');

const tool = (
  id: string,
  address: string,
  args: Record<string, unknown> = {},
  extra: Partial<ToolStep> = {},
): ToolStep => ({
  id,
  kind: 'tool',
  tool: address,
  args,
  heartbeatTimeout: '2s',
  retry: { maxAttempts: 3, initialInterval: '200ms' },
  ...extra,
});

/** The failure chain's types and messages, outermost first. */
function failureChain(err: unknown): Array<{ type?: string; message: string; nonRetryable?: boolean }> {
  const chain: Array<{ type?: string; message: string; nonRetryable?: boolean }> = [];
  let cur: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (cur instanceof Error) {
    chain.push(
      cur instanceof ApplicationFailure
        ? { type: cur.type ?? undefined, message: cur.message, nonRetryable: cur.nonRetryable ?? undefined }
        : { message: cur.message },
    );
    cur = (cur as { cause?: unknown }).cause;
  }
  return chain;
}

before(async () => {
  env = await createTestEnv();
  pool = new McpClientPool(
    {
      servers: {
        everything: {
          name: 'everything',
          transport: 'stdio',
          command: RECORD_PID,
          args: [process.execPath, EVERYTHING_SERVER, 'stdio'],
          env: { PID_LOG: pidLog },
          cwd: process.cwd(),
          source: 'test',
        },
      },
      disabled: [],
      files: [],
    },
    { onEvent: (e) => events.push(e) },
  );
  mcp = await startMcpWorker(env, { pool });
});

after(async () => {
  await mcp?.stop();
  await pool?.close();
  await env?.teardown();
});

describe('tool steps over stdio', () => {
  test('one pooled server process serves every step of every run', async () => {
    const spec: Spec = {
      name: 'mcp-reuse',
      inputs: { word: { type: 'string' } },
      steps: [
        tool('echo', 'everything.echo', { message: 'hello ${inputs.word}' }),
        tool('weather', 'everything.get-structured-content', { location: 'Chicago' }),
        tool('image', 'everything.get-tiny-image'),
        tool('again', 'everything.echo', { message: '${steps.weather.output.structured.conditions}' }),
      ],
    };
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((word) => mcp.run(spec, { word })));
    const second = await mcp.run(spec, { word: 'later' });

    assert.deepEqual(
      results.map((r) => (r.output as { echo: { text: string } }).echo.text),
      ['Echo: hello a', 'Echo: hello b', 'Echo: hello c', 'Echo: hello d', 'Echo: hello e'],
    );
    const out = second.output as Record<
      string,
      { text: string; structured?: unknown; content: Array<Record<string, unknown>> }
    >;
    assert.deepEqual(out.weather?.structured, { temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 });
    assert.equal(out.again?.text, 'Echo: Light rain / drizzle');
    const image = out.image?.content.find((c) => c.type === 'image');
    assert.equal(image?.mimeType, 'image/png');
    assert.match(String(image?.sha256), /^[0-9a-f]{64}$/);
    assert.ok(!('data' in (image ?? {})), 'the image bytes stay out of the history');

    const pids = recordedPids(pidLog);
    assert.equal(pids.length, 1, `one server process for 24 tool steps in 6 runs (started: ${pids.join(', ')})`);
    assert.ok(isAlive(pids[0]!), 'and it is kept between runs');
    assert.equal(pool.inventory()[0]?.connects, 1);
  });

  test('ten tool calls in a parallel step run at once on the same connection', async () => {
    const before = recordedPids(pidLog).length;
    const startIndex = events.length;
    const slow = (i: number) => [
      tool(`slow${i}`, 'everything.trigger-long-running-operation', { duration: 2, steps: 4 }),
    ];
    const spec: Spec = {
      name: 'mcp-parallel',
      steps: [{ id: 'all', kind: 'parallel', branches: Array.from({ length: 10 }, (_, i) => slow(i)) }],
    };
    await mcp.run(spec);
    const calls = events.slice(startIndex).filter((e) => 'tool' in e && e.tool === 'trigger-long-running-operation');
    const starts = calls.flatMap((e) => (e.type === 'call-start' ? [e.at] : []));
    const ends = calls.flatMap((e) => (e.type === 'call-end' ? [e.at] : []));
    assert.equal(starts.length, 10);
    assert.equal(ends.length, 10);
    // All ten intervals share a moment: every call started before any call ended.
    assert.ok(Math.max(...starts) < Math.min(...ends), `starts ${starts} / ends ${ends}`);
    assert.equal(recordedPids(pidLog).length, before, 'no new process: the calls share the pooled connection');
  });

  test('a map over tool steps runs its items concurrently too', async () => {
    const startIndex = events.length;
    const spec: Spec = {
      name: 'mcp-map',
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: [0.3, 0.6, 0.9, 1.2, 1.5, 1.8],
          maxConcurrency: 6,
          steps: [tool('op', 'everything.trigger-long-running-operation', { duration: '${item}', steps: 1 })],
        },
      ],
    };
    const { output } = await mcp.run(spec);
    assert.equal(
      (output as { each: Array<{ text: string }> }).each[5]?.text,
      'Long running operation completed. Duration: 1.8 seconds, Steps: 1.',
    );
    const calls = events.slice(startIndex);
    const starts = calls.flatMap((e) => (e.type === 'call-start' ? [e.at] : []));
    const firstEnd = Math.min(...calls.flatMap((e) => (e.type === 'call-end' ? [e.at] : [])));
    assert.equal(starts.length, 6);
    assert.ok(
      starts.every((s) => s < firstEnd),
      'all six started before the shortest finished',
    );
  });

  test('a tool error fails the step at once with the tool message', async () => {
    const spec: Spec = { name: 'mcp-tool-error', steps: [tool('sum', 'everything.get-sum', { a: 'one', b: 2 })] };
    const handle = await mcp.start(spec);
    const err = await handle.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    const chain = failureChain(err);
    assert.equal(chain[0]?.type, 'StepFailed');
    const toolError = chain.find((c) => c.type === 'McpToolError');
    assert.ok(toolError, JSON.stringify(chain));
    assert.equal(toolError.nonRetryable, true);
    assert.match(toolError.message, /^everything\.get-sum: .*Invalid arguments for tool get-sum/);
    const calls = (await activityAttempts(handle)).filter((a) => a.activity === 'mcpCallTool');
    assert.deepEqual(calls, [{ activity: 'mcpCallTool', attempt: 1 }], 'not retried');
  });

  test('an unknown tool fails without calling anything and names the available tools', async () => {
    const spec: Spec = { name: 'mcp-unknown-tool', steps: [tool('nope', 'everything.no-such-tool')] };
    const handle = await mcp.start(spec);
    const err = await handle.result().then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    const unknown = failureChain(err).find((c) => c.type === 'McpUnknownTool');
    assert.ok(unknown);
    assert.equal(unknown.nonRetryable, true);
    assert.match(
      unknown.message,
      /unknown tool "everything\.no-such-tool" \(available: .*everything\.echo.*everything\.get-sum/,
    );
    const attempts = await activityAttempts(handle);
    assert.ok(!attempts.some((a) => a.activity === 'mcpCallTool'), 'the call never left the workflow');
    // The run looked once and, not finding the tool, once more (both recorded) before failing.
    assert.deepEqual(
      attempts.map((a) => a.activity),
      ['mcpListTools', 'mcpListTools'],
    );
  });

  test('a server killed mid-call is restarted on next use and the step retried', async () => {
    const before = recordedPids(pidLog);
    const startIndex = events.length;
    const spec: Spec = {
      name: 'mcp-crash',
      steps: [
        tool('long', 'everything.trigger-long-running-operation', { duration: 2, steps: 2 }),
        tool('after', 'everything.echo', { message: 'still here' }),
      ],
    };
    const handle = await mcp.start(spec);
    await waitUntil('the long call to start', () => events.slice(startIndex).some((e) => e.type === 'call-start'));
    const victim = before.at(-1)!;
    process.kill(victim, 'SIGKILL');
    const result = await handle.result();
    assert.equal((result.output as { after: { text: string } }).after.text, 'Echo: still here');
    const pids = recordedPids(pidLog);
    assert.equal(pids.length, before.length + 1, 'exactly one new process');
    assert.ok(!isAlive(victim));
    assert.ok(isAlive(pids.at(-1)!));
    const longAttempts = (await activityAttempts(handle)).filter((a) => a.activity === 'mcpCallTool');
    assert.equal(longAttempts[0]?.attempt, 2, 'the interrupted call was retried once');
    assert.ok(events.slice(startIndex).some((e) => e.type === 'disconnected' && e.pid === victim));
  });
});
