/**
 * Provider limits across workers, on a real Temporal dev server: two orchestrator workers poll the
 * same queues; the stand-in model's provider (`standin`, a local HTTP server speaking the OpenAI
 * wire format, since no hosted model is reachable offline) has `limits: { callsPerSecond: 2 }`,
 * so its calls run on the provider's own task queue, whose dispatch rate the server holds for
 * both workers together. Models of a provider without limits, and unknown models, stay on the
 * run's own queue.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { loadBuildWorkerConfig } from '../../workers/build-config';
import { createBuildWorker } from '../../workers/build-worker';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import type { WorkerVersioningConfig } from '../../temporal/versioning-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { providerTaskQueue } from '../../activities/llm/route';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE } from '../../workflows/contracts/run';
import type { Spec } from '../../workflows/contracts/spec';
import { RUN_PATCH, type runSpec } from '../../workflows/interpreter';
import { LLM_PROVIDER_QUEUES_PATCH } from '../../workflows/llm/provider-route';
import { standInModels, StandInModelServer } from '../fixtures/llm/model-server';
import { failureChain } from '../helpers/failures';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

const RATE = 2;
const CALLS = 12;
/**
 * The most calls the server lets through at once: it splits a queue's rate over the queue's
 * partitions (4 by default), each a token bucket holding max(ceil(rate / 4), 1) = 1 token, so
 * (CALLS - BURST) calls wait for tokens that come at RATE per second, all partitions together.
 */
const BURST = 4;
/** How much later a call may reach the model than the server let it out, first and last call told apart. */
const DELIVERY_SLACK_S = 1;

const taskQueue = `limits-${randomUUID()}`;
const limitedQueue = providerTaskQueue(taskQueue, 'standin');
let env: TestWorkflowEnvironment;
let server: StandInModelServer;
const stops: Array<() => Promise<void>> = [];

/** Each worker on a connection of its own, as two processes would be (the SDK refuses two workers of one queue on one). */
async function startWorker(
  identity: string,
  opts: { queue?: string; versioning?: WorkerVersioningConfig } = {},
): Promise<void> {
  const connection = await NativeConnection.connect({ address: env.address });
  const models = standInModels(server);
  const limited = {
    ...models,
    providers: { ...models.providers, standin: { ...models.providers.standin, limits: { callsPerSecond: RATE } } },
  };
  const config = loadOrchestratorWorkerConfig({
    ...testDataEnv(),
    LLM_MODELS_JSON: JSON.stringify(limited),
    STANDIN_API_KEYS: 'standin-key-1',
  });
  const worker = await createOrchestratorWorker({
    connection,
    temporal: testTemporalConfig(env, opts.queue ?? taskQueue),
    config: { ...config, shutdownGraceTimeMs: 5_000 },
    workflowBundle: await bundleWorkflowsOnce(),
    identity,
    versioning: opts.versioning,
  });
  const stop = runInProcess(worker);
  stops.push(async () => {
    await stop();
    await connection.close();
  });
}

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start(() => ({ text: 'ok', usage: { input: 10, output: 5 } }));
  await startWorker('worker-a');
  await startWorker('worker-b');
});
after(async () => {
  await Promise.all(stops.map((s) => s()));
  await server?.close();
  await env?.teardown();
});

type RunHandle = WorkflowHandle<typeof runSpec>;

function start(spec: Spec, queue = taskQueue): Promise<RunHandle> {
  return env.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
    taskQueue: queue,
    workflowId: `${spec.name}-${randomUUID()}`,
    args: [{ spec, inputs: {} }],
    typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
  });
}

const ask = (id: string, model: string) => ({
  id,
  kind: 'llm' as const,
  model,
  prompt: `say ok (${id})`,
  retry: { maxAttempts: 1 },
});

interface ModelCall {
  taskQueue?: string;
  identity?: string;
}

/** Each model call of a run: the queue it was scheduled on and the worker that ran it. */
async function modelCalls(handle: RunHandle): Promise<{ calls: ModelCall[]; markers: string[] }> {
  const { events } = await handle.fetchHistory();
  const calls = new Map<number, ModelCall>();
  const markers: string[] = [];
  for (const e of (events ?? []) as temporal.api.history.v1.IHistoryEvent[]) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'llmChat') {
      calls.set(Number(e.eventId), { taskQueue: scheduled.taskQueue?.name ?? undefined });
    }
    const started = e.activityTaskStartedEventAttributes;
    const call = started && calls.get(Number(started.scheduledEventId));
    if (call) call.identity = started.identity ?? undefined;
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_patch') {
      // The patch id is in the marker's details (JSON payloads).
      const text = Object.values(marker.details ?? {})
        .flatMap((p) => p.payloads ?? [])
        .map((p) => Buffer.from(p.data ?? []).toString('utf8'))
        .join(' ');
      const id = [LLM_PROVIDER_QUEUES_PATCH, RUN_PATCH].find((p) => text.includes(`"${p}"`)) ?? text;
      markers.push(`patch ${id}`);
    } else if (marker?.markerName) markers.push(marker.markerName);
  }
  return { calls: [...calls.values()], markers };
}

/** The rate the server keeps with an activity queue, or undefined when it keeps none. */
async function storedRate(queue: string): Promise<number | undefined> {
  const described = await env.client.workflowService.describeTaskQueue({
    namespace: env.namespace ?? 'default',
    taskQueue: { name: queue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportConfig: true,
  });
  return described.config?.queueRateLimit?.rateLimit?.requestsPerSecond ?? undefined;
}

describe('LLM provider limits across workers', () => {
  test("the provider's rate is stored with its queue, so it holds on partitions no poll has reached", async () => {
    assert.equal(await storedRate(limitedQueue), RATE);
  });

  test(`${CALLS} calls started at once keep to ${RATE}/s over two workers, and both workers serve them`, async () => {
    server.exchanges.length = 0;
    const handles = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => start({ name: 'limited', steps: [ask(`call-${i}`, 'default')] })),
    );
    for (const h of handles) assert.ok((await h.result()).steps);

    const arrivals = server.exchanges.filter((e) => e.model === 'stand-in-gpt').map((e) => e.startedAt);
    assert.equal(arrivals.length, CALLS);
    const spanS = (Math.max(...arrivals) - Math.min(...arrivals)) / 1000;
    const least = (CALLS - BURST) / RATE - DELIVERY_SLACK_S;
    assert.ok(
      spanS >= least,
      `${CALLS} calls arrived within ${spanS.toFixed(2)} s; the limit allows no less than ${least} s`,
    );

    const calls = (await Promise.all(handles.map(modelCalls))).flatMap((r) => r.calls);
    assert.equal(calls.length, CALLS);
    for (const c of calls) assert.equal(c.taskQueue, limitedQueue);
    assert.deepEqual([...new Set(calls.map((c) => c.identity))].sort(), ['worker-a', 'worker-b']);
  });

  test('a run asks for a model’s route once; models of unlimited providers stay on the run’s queue', async () => {
    const handle = await start({
      name: 'routes',
      steps: [ask('one', 'default'), ask('two', 'default'), ask('three', 'claude')],
    });
    assert.deepEqual((await handle.result()).output, { one: 'ok', two: 'ok', three: 'ok' });
    const { calls, markers } = await modelCalls(handle);
    assert.deepEqual(
      calls.map((c) => c.taskQueue),
      [limitedQueue, limitedQueue, taskQueue],
    );
    // One marker for the patch, one local activity per model (besides the run's own patch marker).
    assert.deepEqual(markers.sort(), [
      'core_local_activity',
      'core_local_activity',
      `patch ${LLM_PROVIDER_QUEUES_PATCH}`,
      `patch ${RUN_PATCH}`,
    ]);
  });

  test('with worker versioning on, a limited provider’s calls run on its queue too (its worker is versioned alike)', async () => {
    const queue = `limits-versioned-${randomUUID()}`;
    await startWorker('worker-versioned', {
      queue,
      versioning: { enabled: true, deploymentName: `limits-${randomUUID()}`, promote: 'first' },
    });
    const handle = await start({ name: 'versioned', steps: [ask('one', 'default')] }, queue);
    assert.deepEqual((await handle.result()).output, { one: 'ok' });
    const { calls } = await modelCalls(handle);
    assert.deepEqual(
      calls.map((c) => [c.taskQueue, c.identity]),
      [[providerTaskQueue(queue, 'standin'), 'worker-versioned']],
    );
  });

  test('an unknown model stays on the run’s queue, where the call names the problem', async () => {
    const handle = await start({ name: 'unknown-model', steps: [ask('lost', 'no-such-model')] });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.match(failureChain(err), /LlmUnknownModel: unknown model "no-such-model"/);
      return true;
    });
    const { calls } = await modelCalls(handle);
    assert.deepEqual(
      calls.map((c) => c.taskQueue),
      [taskQueue],
    );
  });
});

describe('the build queue', () => {
  test('BUILD_QUEUE_STARTS_PER_SECOND is stored with the build queue by the build worker', async () => {
    const config = loadBuildWorkerConfig({
      ...testDataEnv(),
      BUILD_CONFIG: path.resolve(__dirname, '../../examples/builds.json'),
      BUILD_QUEUE_STARTS_PER_SECOND: '0.5',
      BUILD_SHUTDOWN_GRACE: '1s',
    });
    const worker = await createBuildWorker({
      connection: env.nativeConnection,
      temporal: { namespace: env.namespace ?? 'default' },
      config,
    });
    await runInProcess(worker)();
    assert.equal(worker.options.maxTaskQueueActivitiesPerSecond, 0.5);
    assert.equal(await storedRate(config.taskQueue), 0.5);
  });
});
