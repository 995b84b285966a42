/**
 * An approval outlives every process around it: the run waits, then the API, the worker and the
 * dev server (state in a SQLite file, as `npm start` keeps it) all stop and start again; the
 * inbox still lists the approval (from visibility and the run's memo, not from memory), it can
 * be decided, and the run completes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { ListApprovalsResponse } from '../../api/approvals/approval-views';
import { createApp } from '../../api/app';
import type { RunDetail } from '../../api/workflows/run-views';
import { ensureTemporalCli } from '../../temporal/cli';
import type { TemporalConfig } from '../../temporal/config';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { Spec } from '../../workflows/contracts/spec';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, quietRuntime } from '../helpers/temporal';

const TASK_QUEUE = 'approvals-restart';
const auth = testAuth();
let dir: string | undefined;
const stops: Array<() => Promise<unknown>> = [];

after(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface System {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Dev server on `dbFile`, an orchestrator worker and the API, each a fresh process-level object. */
async function startSystem(dbFile: string): Promise<System> {
  const server: DevServer = await startDevServer({ cliPath: await ensureTemporalCli(), dbFile, uiPort: false });
  const temporal: TemporalConfig = {
    address: server.address,
    namespace: server.namespace,
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: TASK_QUEUE,
  };
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker = await createOrchestratorWorker({
    connection: workerConnection,
    temporal,
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    identityEnv: auth.env,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const specStoreDir = await mkdtemp(path.join(os.tmpdir(), 'approvals-restart-specs-'));
  const webhookStoreDir = await mkdtemp(path.join(os.tmpdir(), 'approvals-restart-webhooks-'));
  const app: INestApplication = await createApp({
    temporal,
    auth: auth.auth,
    client,
    specStoreDir,
    webhookStoreDir,
    examplesDir: null,
    port: 0,
    logger: false,
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await app.close();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await server.stop();
      await rm(specStoreDir, { recursive: true, force: true });
      await rm(webhookStoreDir, { recursive: true, force: true });
    })());
  stops.push(stop);
  return { baseUrl: await app.getUrl(), stop };
}

async function call<T>(
  system: System,
  method: string,
  route: string,
  user: TestUser,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${system.baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const listed = (system: System, workflowId: string) =>
  waitFor(`${workflowId} in GET /approvals`, async () => {
    const { body } = await call<ListApprovalsResponse>(system, 'GET', '/approvals?mine=true', 'ana');
    return body.approvals.find((a) => a.workflowId === workflowId);
  });

test(
  'an approval waiting across an API, worker and dev-server restart is listed, decided, and the run completes',
  { timeout: 180_000 },
  async () => {
    quietRuntime();
    dir = await mkdtemp(path.join(os.tmpdir(), 'approvals-restart-'));
    const dbFile = path.join(dir, 'temporal.db');
    const spec: Spec = {
      name: 'restart-release',
      steps: [
        { id: 'approve', kind: 'approval', prompt: 'Release after the restart?', approvers: ['release-managers'] },
        { id: 'release', kind: 'sleep', duration: '10ms' },
      ],
      output: { approvedBy: '${steps.approve.output.by}', comment: '${steps.approve.output.comment}' },
    };

    const first = await startSystem(dbFile);
    const started = await call<{ workflowId: string }>(first, 'POST', '/workflows', 'operator', {
      spec,
      runId: 'r1',
    });
    assert.equal(started.status, 201);
    const { workflowId } = started.body;
    const before = await listed(first, workflowId);
    await first.stop();

    const second = await startSystem(dbFile);
    const after = await listed(second, workflowId);
    const { links: linksBefore, ...approvalBefore } = before;
    const { links: linksAfter, ...approvalAfter } = after;
    assert.deepEqual(approvalAfter, approvalBefore, 'the same approval');
    assert.equal(linksAfter.decide, linksBefore.decide.replace(first.baseUrl, second.baseUrl), 'linked on the new API');
    const decided = await call<{ by: string }>(
      second,
      'POST',
      `/workflows/${encodeURIComponent(workflowId)}/approvals/approve`,
      'ana',
      { decision: 'approve', comment: 'after the restart' },
    );
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    const done = await waitFor('the run to complete', async () => {
      const { body } = await call<RunDetail>(second, 'GET', `/workflows/${encodeURIComponent(workflowId)}`, 'viewer');
      return body.status === 'completed' && body;
    });
    assert.deepEqual((done.result as { output: unknown }).output, { approvedBy: 'ana', comment: 'after the restart' });
    await waitFor('the decided approval to leave the inbox', async () => {
      const { body } = await call<ListApprovalsResponse>(second, 'GET', '/approvals', 'viewer');
      return !body.approvals.some((a) => a.workflowId === workflowId);
    });
  },
);
