/**
 * The spec stream's cursor (api/events/spec-follower.ts, spec-cursor.ts) against a real dev
 * server, with a short floor lag so the cursor compacts within the test: a run that finished
 * long enough ago leaves the cursor, and a stream resumed from that compacted cursor still sends
 * every event of every run exactly once — the finished run's nothing more, the waiting run's
 * rest, a new run's all.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { historyToRunEvents } from '../../api/events/history-events';
import { decodeSpecCursor } from '../../api/events/spec-cursor';
import { followSpec, type SpecFollowerDeps } from '../../api/events/spec-follower';
import { RunReader } from '../../api/history/run-reader';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunEvent } from '../../workflows/contracts/run-events';
import {
  approveUpdate,
  RUN_SPEC_WORKFLOW,
  SPEC_NAME_ATTRIBUTE,
  type RunInput,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { activities as testActivities } from '../fixtures/test-activities';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { testTemporalConfig } from '../helpers/worker';

const FLOOR_LAG_MS = 1_000;
const WAIT_MS = 60_000;

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = `spec-events-${randomUUID()}`;

const spec: Spec = {
  name: `cursor-${randomUUID().slice(0, 8)}`,
  steps: [
    { id: 'first', kind: 'activity', activity: 'test.echo', args: {} },
    { id: 'gate', kind: 'approval' },
    { id: 'last', kind: 'activity', activity: 'test.echo', args: {} },
  ],
} as Spec;

function deps(): SpecFollowerDeps {
  const reader = new RunReader(env.client, testTemporalConfig(env, taskQueue));
  return {
    client: env.client,
    namespace: env.namespace ?? 'default',
    decode: (p: Payload | null | undefined) => (p ? defaultPayloadConverter.fromPayload(p) : undefined),
    progressEveryMs: 1_000,
    discoverEveryMs: 100,
    floorLagMs: FLOOR_LAG_MS,
    chainOf: async (workflowId) => reader.chain(workflowId, (await reader.describe(workflowId)).runId),
  };
}

interface Received {
  cursor: string;
  event: RunEvent;
}

/** A spec stream in this process: what it sent, until stopped. */
function stream(lastCursor?: string) {
  const received: Received[] = [];
  const stop = new AbortController();
  const done = followSpec(deps(), {
    spec: spec.name,
    cursor: lastCursor === undefined ? undefined : decodeSpecCursor(lastCursor),
    signal: stop.signal,
    send: async (cursor, event) => void received.push({ cursor, event }),
  });
  return {
    received,
    until: (what: string, match: (e: RunEvent) => boolean) =>
      waitFor(what, () => received.find((r) => match(r.event)), WAIT_MS),
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

async function start(): Promise<string> {
  const workflowId = `${spec.name}-${randomUUID()}`;
  await env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId,
    args: [{ spec }],
    typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
  });
  return workflowId;
}

const approve = (workflowId: string) =>
  env.client.workflow.getHandle(workflowId).executeUpdate(approveUpdate, {
    args: [{ stepId: 'gate', decision: 'approve', by: 'tester' }],
  });

async function rebuilt(workflowId: string): Promise<RunEvent[]> {
  return historyToRunEvents(workflowId, [await env.client.workflow.getHandle(workflowId).fetchHistory()]);
}

before(async () => {
  env = await createTestEnv();
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

test('a compacted cursor resumes exactly: finished runs leave it, nothing is lost or repeated', async () => {
  const first = stream();
  const runA = await start();
  await first.until('A waits', (e) => e.workflowId === runA && e.type === 'approval.requested');
  await approve(runA);
  await first.until('A finished', (e) => e.workflowId === runA && e.type === 'run.finished');
  const runB = await start();
  await first.until('B waits', (e) => e.workflowId === runB && e.type === 'approval.requested');
  const lastOfA = Date.parse(first.received.filter((r) => r.event.workflowId === runA).at(-1)!.event.at);
  // Let the floor pass A's last event (only B, idle while it waits, is followed now).
  await delay(FLOOR_LAG_MS * 3);
  await approve(runB);
  const decided = await first.until('B decided', (e) => e.workflowId === runB && e.type === 'approval.decided');
  await first.stop();
  const decidedAt = first.received.find((r) => r.event === decided.event)!;
  const cursor = decodeSpecCursor(decidedAt.cursor);
  assert.ok(cursor, decidedAt.cursor);
  assert.ok(!cursor.runs.has(runA), 'the finished run left the cursor');
  assert.ok(cursor.floor > lastOfA, 'the floor moved past its last event');
  assert.equal(cursor.runs.get(runB), decided.event.id);

  // The client had B's decision last (what came after it is dropped as if never received): resume
  // from that compacted cursor, and start C meanwhile.
  const kept = first.received.slice(0, first.received.indexOf(decidedAt) + 1);
  const second = stream(decidedAt.cursor);
  const runC = await start();
  await second.until('B finished', (e) => e.workflowId === runB && e.type === 'run.finished');
  await second.until('C waits', (e) => e.workflowId === runC && e.type === 'approval.requested');
  await approve(runC);
  await second.until('C finished', (e) => e.workflowId === runC && e.type === 'run.finished');
  await second.stop();

  const all = [...kept, ...second.received].map((r) => r.event).filter((e) => e.type !== 'step.progress');
  for (const run of [runA, runB, runC]) {
    assert.deepEqual(
      all.filter((e) => e.workflowId === run),
      await rebuilt(run),
      `${run}: every event once, in order`,
    );
  }
  assert.equal(second.received.filter((r) => r.event.workflowId === runA).length, 0);
});
