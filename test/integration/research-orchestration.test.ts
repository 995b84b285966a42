/**
 * The built-in `research` and `swarm` orchestrations on a real Temporal dev server. The model is
 * a stand-in for a hosted one: a local HTTP server speaking the real OpenAI wire format, with a
 * latency per role, recording when each request started and ended — so overlap and repeats are
 * measured on what the "provider" received.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ResearchOutput } from '../../workflows/orchestrations/research';
import type { SwarmOutput } from '../../workflows/orchestrations/swarm';
import { progressQuery, RUN_SPEC_WORKFLOW, type RunInput, type RunResult } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';
import { standInEnv, startLlmWorker, type LlmWorker } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { maxConcurrent, researchScript, roleOf, subQuestionOf } from '../fixtures/llm/research-script';

const ROOT = path.resolve(__dirname, '../..');
let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let llm: LlmWorker;
const children: ChildProcess[] = [];

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start();
  llm = await startLlmWorker(env, server);
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await llm?.stop();
  await server?.close();
  await env?.teardown();
});
beforeEach(() => {
  server.exchanges.length = 0;
});

const researchSpec = (extra: Record<string, unknown> = {}): Spec => ({
  name: 'research-test',
  inputs: { question: { type: 'string' }, n: { type: 'number', default: 5 } },
  steps: [
    {
      id: 'research',
      kind: 'research',
      question: '${inputs.question}',
      subQuestions: '${inputs.n}',
      synthesisers: 2,
      model: 'default',
      heartbeatTimeout: '2s',
      retry: { maxAttempts: 5, initialInterval: '100ms' },
      ...extra,
    } as Spec['steps'][number],
  ],
});

describe('research', () => {
  test('N=5: five researchers overlap, then two synthesisers and one executive; every level is kept', async () => {
    server.script = researchScript({ delayMs: { researcher: 1000 } });
    const handle = await llm.start(researchSpec(), { question: 'Why do durable workflows matter?' });
    const result = await handle.result();
    const out = (result.output as { research: ResearchOutput }).research;

    const researchers = server.exchanges.filter((e) => roleOf(e) === 'researcher');
    assert.equal(researchers.length, 5);
    assert.equal(maxConcurrent(researchers), 5, 'all five researchers were in flight at once');

    assert.equal(out.question, 'Why do durable workflows matter?');
    assert.deepEqual(out.subQuestions, [
      'sub-question 1',
      'sub-question 2',
      'sub-question 3',
      'sub-question 4',
      'sub-question 5',
    ]);
    assert.deepEqual(
      out.findings.map((f) => [f.status, f.answer]),
      out.subQuestions.map((q) => ['completed', `finding on ${q}`]),
    );
    assert.deepEqual(out.syntheses, [
      { findings: [0, 1], text: 'synthesis of sub-question 1, sub-question 2' },
      { findings: [2, 3, 4], text: 'synthesis of sub-question 3, sub-question 4, sub-question 5' },
    ]);
    assert.equal(
      out.report,
      'REPORT [synthesis of sub-question 1, sub-question 2 / synthesis of sub-question 3, sub-question 4, sub-question 5]',
    );
    // 1 planner + 5 researchers + 2 synthesisers + 1 executive, 150 tokens each in the stand-in.
    assert.equal(out.usage.calls, 9);
    assert.equal(out.usage.totalTokens, 9 * 150);
    assert.equal(result.usage.total.totalTokens, 9 * 150);
    assert.ok(out.durationMs >= 1000, `durationMs ${out.durationMs}`);

    const steps = Object.keys(result.steps).sort();
    assert.deepEqual(steps, [
      'research',
      'research[0].executive',
      'research[0].plan',
      'research[0].researcher',
      'research[0].synthesiser',
      'research[1].researcher',
      'research[1].synthesiser',
      'research[2].researcher',
      'research[3].researcher',
      'research[4].researcher',
    ]);
    assert.equal(result.steps['research[3].researcher']?.usage?.calls, 1);
    assert.deepEqual(result.steps['research[3].researcher']?.output, {
      answer: 'finding on sub-question 4',
      iterations: 1,
      toolCalls: 0,
    });

    // The recorded history replays against the workflow code: the orchestration is deterministic.
    await Worker.runReplayHistory(
      { workflowBundle: await bundleWorkflowsOnce() },
      await handle.fetchHistory(),
      handle.workflowId,
    );
  });

  test('maxConcurrentAgents bounds the researchers in flight', async () => {
    server.script = researchScript({ delayMs: { researcher: 600 } });
    const handle = await llm.start(researchSpec({ maxConcurrentAgents: 2 }), { question: 'q', n: 5 });
    await handle.result();
    assert.equal(maxConcurrent(server.exchanges.filter((e) => roleOf(e) === 'researcher')), 2);
  });

  test('progress shows the researchers while they run', async () => {
    server.script = researchScript({ delayMs: { researcher: 1500 } });
    const handle = await llm.start(researchSpec(), { question: 'q', n: 3 });
    const progress = await waitFor('three researchers running', async () => {
      const p = await handle.query(progressQuery);
      return p.current.filter((c) => c.endsWith('.researcher')).length === 3 ? p : undefined;
    });
    assert.equal(progress.steps['research[0].plan']?.status, 'completed');
    assert.deepEqual(progress.steps['research[0].plan']?.output, {
      subQuestions: ['sub-question 1', 'sub-question 2', 'sub-question 3'],
    });
    await handle.result();
  });
});

describe('swarm', () => {
  test('K agents attempt the task on their models, the judge picks one', async () => {
    // Long enough that the three attempts overlap however late a busy worker schedules the third.
    server.script = researchScript({ delayMs: { agent: 3000 } });
    const spec: Spec = {
      name: 'swarm-test',
      steps: [
        {
          id: 'swarm',
          kind: 'swarm',
          task: 'Name a colour.',
          agents: 3,
          model: 'default',
          agentModels: ['default', 'claude'],
          retry: { maxAttempts: 3, initialInterval: '100ms' },
        },
      ],
    };
    const result = await (await llm.start(spec)).result();
    const out = (result.output as { swarm: SwarmOutput }).swarm;
    const agents = server.exchanges.filter((e) => roleOf(e) === 'agent');
    assert.equal(maxConcurrent(agents), 3);
    assert.deepEqual(
      out.attempts.map((a) => [a.agent, a.model, a.status]),
      [
        [1, 'default', 'completed'],
        [2, 'claude', 'completed'],
        [3, 'default', 'completed'],
      ],
    );
    assert.deepEqual(out.verdict, { decision: 'pick', chosen: 2, answer: 'copied', reasoning: 'the second is best' });
    assert.equal(out.answer, 'attempt using stand-in-claude: Name a colour.', 'a pick returns the attempt itself');
    assert.equal(out.usage.calls, 4);
  });
});

describe('durability', () => {
  let bundlePath: string;
  before(async () => {
    bundlePath = path.join(mkdtempSync(path.join(tmpdir(), 'bundle-')), 'workflows.js');
    writeFileSync(bundlePath, (await bundleWorkflowsOnce()).code);
  });

  function spawnWorker(taskQueue: string): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/orchestrator.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...testDataEnv(),
        ...standInEnv(server),
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        ORCHESTRATOR_TASK_QUEUE: taskQueue,
        ORCHESTRATOR_WORKFLOW_BUNDLE: bundlePath,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  }

  test('a worker killed mid-research resumes without repeating finished model calls', async () => {
    server.script = researchScript({ delayMs: { researcher: 1500 } });
    const taskQueue = `research-crash-${randomUUID()}`;
    const first = spawnWorker(taskQueue);
    const handle = await env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
      taskQueue,
      workflowId: `research-crash-${randomUUID()}`,
      args: [{ spec: researchSpec({ maxConcurrentAgents: 2 }), inputs: { question: 'q', n: 4 } }],
    });
    // Lanes of 2: researchers 3 and 4 start only once 1 and 2 are recorded as completed.
    await waitFor(
      'two researchers done and two in flight',
      () => server.exchanges.filter((e) => roleOf(e) === 'researcher').length === 4 || undefined,
      60_000,
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const cutOff = await waitFor('the stand-in to see the cut-off requests go away', () => {
      const gone = server.exchanges.filter((e) => roleOf(e) === 'researcher' && e.aborted).map(subQuestionOf);
      return gone.length === 2 ? gone : undefined;
    });

    const second = spawnWorker(taskQueue);
    const result = await handle.result();
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));

    const out = (result.output as { research: ResearchOutput }).research;
    assert.equal(out.findings.filter((f) => f.status === 'completed').length, 4);
    const received = (match: (e: (typeof server.exchanges)[number]) => boolean) =>
      server.exchanges.filter(match).length;
    assert.equal(
      received((e) => roleOf(e) === 'planner'),
      1,
      'the plan was not asked for again',
    );
    assert.deepEqual(cutOff.sort(), ['sub-question 3', 'sub-question 4'], 'the kill cut off researchers 3 and 4');
    for (const q of ['sub-question 1', 'sub-question 2']) {
      assert.equal(
        received((e) => roleOf(e) === 'researcher' && subQuestionOf(e) === q),
        1,
        `${q}: answered before the kill, not asked again`,
      );
    }
    for (const q of cutOff) {
      assert.equal(
        received((e) => roleOf(e) === 'researcher' && subQuestionOf(e) === q),
        2,
        `${q}: cut off, asked once more`,
      );
    }
    assert.equal(
      received((e) => roleOf(e) === 'synthesiser'),
      2,
    );
    assert.equal(
      received((e) => roleOf(e) === 'executive'),
      1,
    );
    assert.equal(server.exchanges.length, 1 + 4 + 2 + 2 + 1);
  });
});
