/**
 * Bounded history on a real Temporal dev server: continue-as-new carries only what later steps
 * read (big outputs through the blob store), big `map`s and `research` fan out to child
 * workflows, and a replay trusts the check a run passed when it started. The history of every
 * execution (parent, children, each continue-as-new run) is fetched and measured; the figures
 * are printed. The model behind `research` is the stand-in server (a local HTTP server speaking
 * the OpenAI wire format), as no hosted model is reachable offline.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { ResearchOutput } from '../../workflows/orchestrations/research';
import {
  progressQuery,
  RUN_SPEC_WORKFLOW,
  type RunInput,
  type RunOptions,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { failureChain } from '../helpers/failures';
import { activityCount, assertBounded, measureExecutions, type ExecutionSize } from '../helpers/history-size';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testTemporalConfig } from '../helpers/worker';
import { startLlmWorker, type LlmWorker } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { researchScript, roleOf } from '../fixtures/llm/research-script';
import { activities as testActivities, seededText } from '../fixtures/test-activities';

type Handle = WorkflowHandleWithFirstExecutionRunId<(i: RunInput) => Promise<RunResult>>;

const KiB = 1024;

let env: TestWorkflowEnvironment;
let blobDir: string;
let taskQueue: string;
let stopWorker: () => Promise<void>;
let server: StandInModelServer;
let llm: LlmWorker;

before(async () => {
  env = await createTestEnv();
  blobDir = mkdtempSync(path.join(tmpdir(), 'blobs-'));
  taskQueue = `bounded-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: { ...loadOrchestratorWorkerConfig({}), blobStoreDir: blobDir },
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  stopWorker = runInProcess(worker);
  server = await StandInModelServer.start();
  llm = await startLlmWorker(env, server);
});

after(async () => {
  await llm?.stop();
  await server?.close();
  await stopWorker?.();
  await env?.teardown();
});

function start(spec: Spec, inputs: Record<string, unknown> = {}, options?: RunOptions): Promise<Handle> {
  return env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `${spec.name}-${randomUUID()}`,
    args: [{ spec, inputs, ...(options && { options }) }],
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every execution's history replays against today's workflow code. */
async function replayEach(sizes: ExecutionSize[]): Promise<void> {
  for (const s of sizes) {
    const history = await env.client.workflow.getHandle(s.workflowId, s.runId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await bundleWorkflowsOnce() }, history, s.workflowId);
  }
}

describe('continue-as-new', () => {
  test('twenty 256 KiB outputs survive continue-as-new, and later steps read each of them', async () => {
    // JSON of a string of n ASCII characters is n + 2 bytes: exactly the 256 KiB maxOutputBytes.
    const n = 256 * KiB - 2;
    const ids = Array.from({ length: 20 }, (_, i) => `s${i + 1}`);
    const spec: Spec = {
      name: 'twenty-big-outputs',
      steps: [
        ...ids.map((id) => ({ id, kind: 'activity' as const, activity: 'test.text', args: { n, seed: id } })),
        ...ids.map((id) => ({
          id: `read-${id}`,
          kind: 'activity' as const,
          activity: 'test.digest',
          args: { text: `\${steps.${id}.output}` },
        })),
      ],
      output: Object.fromEntries(ids.map((id) => [id, `\${steps.read-${id}.output}`])),
    };
    const handle = await start(spec, {}, { continueAsNewAfterSteps: 5 });
    const result = await handle.result();

    for (const id of ids) {
      assert.deepEqual((result.output as Record<string, unknown>)[id], {
        sha256: sha256(seededText(n, id)),
        length: n,
      });
    }
    const progress = await handle.query(progressQuery);
    assert.equal(progress.generation, 7, 'forty steps, five per run: seven continue-as-new');
    for (const id of ids) assert.equal(progress.steps[id]?.status, 'completed', `${id} is still shown`);
    // The last run read s16-s20 (loaded them); nothing read the others any more, so it never had them.
    for (const id of ids.slice(0, 15)) assert.equal(progress.steps[id]?.output, undefined, `${id}: not carried`);
    // Those it loaded show as their references: neither progress nor the result grows with them.
    for (const id of ids.slice(15)) {
      assert.equal(result.steps[id]?.output, undefined, `${id}: loaded, not returned`);
      assert.equal(result.steps[id]?.outputRef?.bytes, n + 2);
    }

    const sizes = await measureExecutions(env.client, handle.workflowId, handle.firstExecutionRunId);
    assert.equal(sizes.length, 8);
    assertBounded('twenty 256 KiB outputs, continue-as-new every 5 steps:', sizes, (s) =>
      s.runId === handle.firstExecutionRunId ? 'first run' : 'continued runs',
    );
    console.log(`  run inputs: ${sizes.map((s) => `${(s.inputBytes / KiB).toFixed(1)} KiB`).join(', ')}`);
    for (const s of sizes) assert.ok(s.inputBytes < 64 * KiB, `a run's input carries references only: ${s.inputBytes}`);
    assert.equal(activityCount(sizes, 'storeBlob'), 20, 'each output stored once');
    assert.equal(activityCount(sizes, 'loadBlob'), 20, 'each output loaded once, by the run that read it');
    assert.equal(readdirSync(blobDir).filter((f) => f.endsWith('.json')).length >= 20, true);
    await replayEach(sizes);
  });
});

describe('map in child workflows', () => {
  test('children get only what their items read; a big output travels as a blob reference', async () => {
    const spec: Spec = {
      name: 'map-scope',
      inputs: { env: { type: 'string' }, unused: { type: 'string', default: 'x' } },
      steps: [
        { id: 'big', kind: 'activity', activity: 'test.text', args: { n: 80 * KiB, seed: 'big' } },
        { id: 'other', kind: 'activity', activity: 'test.text', args: { n: 80 * KiB, seed: 'other' } },
        {
          id: 'each',
          kind: 'map',
          items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
          maxConcurrency: 3,
          steps: [
            { id: 'look', kind: 'activity', activity: 'test.digest', args: { text: '${steps.big.output}' } },
            { id: 'tag', kind: 'activity', activity: 'test.echo', args: { i: '${index}', env: '${inputs.env}' } },
          ],
        },
      ],
      output: { tags: '${steps.each.output}', digest: '${steps.big.output}' },
    };
    const handle = await start(spec, { env: 'prod' }, { maxInlineMapItems: 4 });
    const result = await handle.result();
    assert.deepEqual(
      (result.output as { tags: unknown }).tags,
      Array.from({ length: 12 }, (_, i) => ({ i, env: 'prod' })),
    );
    assert.equal(result.steps['each[0].look'], undefined, 'item steps are recorded in the children');

    const sizes = await measureExecutions(env.client, handle.workflowId, handle.firstExecutionRunId);
    const children = sizes.filter((s) => s.workflowId !== handle.workflowId).map((s) => s.workflowId);
    assert.deepEqual(
      children.sort(),
      ['[0-3]', '[4-7]', '[8-11]'].map((r) => `${handle.workflowId}.each${r}`),
    );
    const child = env.client.workflow.getHandle(`${handle.workflowId}.each[4-7]`);
    const started = (await child.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = JSON.parse(Buffer.from(started?.input?.payloads?.[0]?.data ?? []).toString()) as RunInput;
    assert.deepEqual(input.inputs, { env: 'prod' }, 'only the inputs the items read');
    assert.deepEqual(Object.keys(input.fragment?.scope ?? {}), ['big'], 'only the steps the items read');
    assert.equal(input.fragment?.scope.big?.output, undefined);
    assert.equal(input.fragment?.scope.big?.outputRef?.sha256, sha256(JSON.stringify(seededText(80 * KiB, 'big'))));
    assert.deepEqual(
      (await child.query(progressQuery)).steps['each[5].look']?.output,
      { sha256: sha256(seededText(80 * KiB, 'big')), length: 80 * KiB },
      'an item read the blob',
    );
    assert.equal(activityCount(sizes, 'storeBlob'), 1, 'stored once for every child');
    assert.equal(activityCount(sizes, 'loadBlob'), 3, 'loaded once by each child, when an item first read it');
    await replayEach(sizes);
  });

  test('an item failing in a child fails the map as it would inline, naming the item', async () => {
    const spec: Spec = {
      name: 'map-child-failure',
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: [0, 1, 2, 3, 4, 5],
          maxConcurrency: 2,
          steps: [
            {
              id: 'check',
              kind: 'branch',
              cases: [
                {
                  when: { eq: ['${item}', 4] },
                  steps: [
                    { id: 'boom', kind: 'activity', activity: 'test.fail', args: { message: 'item four is bad' } },
                  ],
                },
              ],
              otherwise: [{ id: 'fine', kind: 'activity', activity: 'test.echo', args: { ok: '${item}' } }],
            },
          ],
        },
      ],
    };
    const handle = await start(spec, {}, { maxInlineMapItems: 2 });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /StepFailed: step "each\[4\]\.boom" failed: item four is bad/);
      return true;
    });
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.each?.status, 'failed');
    assert.match(progress.steps.each?.error ?? '', /each\[4\]\.boom/);
  });
});

describe('research in child workflows', () => {
  test('research with 100 agents finishes with every history bounded', { timeout: 180_000 }, async () => {
    server.script = researchScript();
    server.exchanges.length = 0;
    const spec: Spec = {
      name: 'research-100',
      steps: [
        {
          id: 'research',
          kind: 'research',
          question: 'How do durable agents stay durable?',
          subQuestions: 100,
          synthesisers: 4,
          maxConcurrentAgents: 50,
          model: 'default',
          retry: { maxAttempts: 3, initialInterval: '100ms' },
        },
      ],
    };
    const handle = await llm.start(spec);
    const result = await handle.result();
    const out = (result.output as { research: ResearchOutput }).research;
    assert.equal(out.findings.length, 100);
    assert.deepEqual(
      out.findings.map((f) => f.answer),
      out.subQuestions.map((q) => `finding on ${q}`),
    );
    assert.equal(server.exchanges.filter((e) => roleOf(e) === 'researcher').length, 100);
    assert.equal(out.usage.calls, 1 + 100 + 4 + 1, 'the children spent on the research step');

    const sizes = await measureExecutions(env.client, handle.workflowId, (await handle.describe()).runId);
    assert.equal(sizes.length, 1 + 10, 'the parent and 10 children of 10 researchers');
    assert.equal(sizes[0]?.activities.llmChat, 1 + 4 + 1, 'the parent ran only planner, synthesisers, executive');
    assertBounded('research with 100 agents (maxInlineAgents 10):', sizes, (s) =>
      s.workflowId === handle.workflowId ? 'parent' : 'children',
    );
  });
});

describe('checked once, at the start', () => {
  test('a replay does not check the spec again, so a stricter rule never fails a run under way', async () => {
    const spec: Spec = {
      name: 'checked-once',
      steps: [
        { id: 'first', kind: 'activity', activity: 'test.echo', args: { a: 1 } },
        { id: 'approve', kind: 'approval', timeout: '1h' },
      ],
    };
    const handle = await start(spec);
    await waitFor(
      'the approval to be pending',
      async () => (await handle.query(progressQuery)).pendingApprovals.length > 0 || undefined,
    );
    const history = await handle.fetchHistory();
    await handle.terminate('done with it');

    // The recorded spec as today's rules refuse it: a field no step kind has.
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.ok(payload?.data);
    const input = JSON.parse(Buffer.from(payload.data).toString()) as RunInput;
    (input.spec.steps[1] as unknown as Record<string, unknown>).escalateTo = 'ops';
    payload.data = Buffer.from(JSON.stringify(input));

    const fresh = await start(input.spec);
    await assert.rejects(fresh.result(), (err) => {
      assert.match(failureChain(err), /InvalidSpec: .*steps\[1\].*escalateTo/);
      return true;
    });
    // The run that was admitted replays as it ran.
    await Worker.runReplayHistory({ workflowBundle: await bundleWorkflowsOnce() }, history, handle.workflowId);
  });
});
